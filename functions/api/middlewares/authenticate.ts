import type middy from '@middy/core';
import { Acl } from '../../catalog/acl/acl.js';
import { operationOf } from '../../catalog/acl/capabilities.js';
import { isRootPath } from '../../catalog/acl/root-paths.js';
import { batchGet } from '../../catalog/batch-get.js';
import type { Catalog } from '../../catalog/client.js';
import { type ItemKey, namespaceKey, policyKey } from '../../catalog/keys.js';
import { policiesOf } from '../../catalog/policies.js';
import {
  ancestorKeys,
  ancestorsPresent,
  type TokenItem,
  TokenStore,
  TokenUsedUpError,
  tokenRefusal,
} from '../../catalog/tokens.js';
import { NotFoundError, PermissionDeniedError } from '../errors.js';
import type { ApiContext, ApiEvent, ApiResult } from './api-context.js';

export interface AuthenticateOptions {
  catalog: Catalog;
  /**
   * The key tokens are hashed with. Every deployment passes one; without
   * it tokens are hashed with an empty key, which only tests should do.
   */
  tokenHmacKey?: string;
}

/** Whether a request in `namespace` lies in `tokenNamespace` or below it. */
const withinNamespace = (namespace: string, tokenNamespace: string) =>
  namespace.startsWith(tokenNamespace);

/**
 * A root token holds the root policy alone, and only in the root namespace
 * does it mean anything.
 */
const isRootToken = (token: TokenItem) =>
  token.namespace === '' && token.policies.includes('root');

/**
 * Paths under `auth/token/` that no route serves are Vault's older forms
 * that carry a token in the path itself (`auth/token/lookup/TOKEN`). Their
 * path is cut before anything logs it or answers with it.
 */
const redactTokenPath = (context: ApiContext) => {
  const { request, match } = context.vault;
  if (match || !request.path.startsWith('auth/token/')) return;
  const [auth, token, endpoint] = request.path.split('/');
  context.vault.request = {
    ...request,
    path: `${auth}/${token}/${endpoint ?? ''}/…`,
  };
};

/**
 * Checks the caller's token and whether its policies allow the request,
 * on every route but the few that take no token. Each refusal is a 403
 * `permission denied` that says nothing more: not whether the token
 * existed, nor whether the path or the namespace does.
 *
 * The steps, in order:
 * 1. the token's item alone, by its keyed hash: a wrong token costs this
 *    one read, writes nothing, and touches no item other callers share;
 * 2. the token must be usable (not expired, a use left) and the request's
 *    namespace must be its own or one below it;
 * 3. one batch: its policies, its ancestors (a token whose creator was
 *    revoked is revoked too) and the request's namespace;
 * 4. a use-limited token spends a use whether or not the request is
 *    allowed, as in Vault, and is revoked after its last;
 * 5. the policies must grant the capability of the method on the path
 *    (and `sudo` where the route or Vault asks for it);
 * 6. only then does a missing namespace answer 404.
 */
export const authenticate = (
  options: AuthenticateOptions,
): middy.MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> => {
  const tokens = new TokenStore(options.catalog, options.tokenHmacKey);
  return {
    before: async ({ context }) => {
      redactTokenPath(context);
      const { request, match } = context.vault;
      if (match?.route.unauthenticated) return;
      if (!request.token) throw new PermissionDeniedError();

      // Steps 1 and 2: the token itself.
      const token = await tokens.read(request.token);
      if (!token || tokenRefusal(token)) {
        throw new PermissionDeniedError();
      }
      if (!withinNamespace(request.namespace, token.namespace)) {
        throw new PermissionDeniedError();
      }

      // Step 3: what the token's rights rest on, in one batch.
      const root = isRootToken(token);
      const policyNames = root ? [] : token.policies;
      const keys: ItemKey[] = [
        ...ancestorKeys(token),
        ...policyNames.map((name) => policyKey(token.namespace, name)),
        ...(request.namespace === '' ? [] : [namespaceKey(request.namespace)]),
      ];
      const items =
        keys.length > 0 ? await batchGet(options.catalog, keys) : [];
      if (!ancestorsPresent(token, items)) throw new PermissionDeniedError();

      // Step 4: spend a use.
      if (token.usesLeft !== undefined) {
        try {
          token.usesLeft = await tokens.use(token);
        } catch (error) {
          if (error instanceof TokenUsedUpError) {
            throw new PermissionDeniedError();
          }
          throw error;
        }
        // The request goes on with the token in hand; nothing else needs
        // its item, so its last use can revoke it at once.
        if (token.usesLeft === 0) await tokens.revoke(token);
      }

      // Step 5: the policies.
      const acl = root
        ? Acl.root()
        : Acl.fromPolicies(policiesOf(token.namespace, policyNames, items));
      const route = match?.route;
      const itemExists =
        route?.exists && (request.method === 'PUT' || request.method === 'POST')
          ? await route.exists({
              request,
              params: match?.params ?? {},
              catalog: options.catalog,
            })
          : undefined;
      const operation = operationOf(request.method, request.query, itemExists);
      const path = `${request.namespace}${route?.aclPath ?? request.path}`;
      const sudo = Boolean(route?.sudo) || isRootPath(request.path);
      if (!operation && !root) throw new PermissionDeniedError();
      if (operation && !acl.allows(path, operation, { sudo })) {
        throw new PermissionDeniedError();
      }

      // Step 6: the namespace, now that the caller may act there.
      if (request.namespace !== '') {
        const namespace = namespaceKey(request.namespace);
        const found = items.some(
          (item) => item.pk === namespace.pk && item.sk === namespace.sk,
        );
        if (!found) {
          throw new NotFoundError(`namespace not found: ${request.namespace}`);
        }
      }

      context.vault.auth = { token, acl, tokens };
      context.vault.log.policies = token.policies;
    },
  };
};
