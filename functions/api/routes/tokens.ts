import * as z from 'zod';
import { formatDuration, parseDuration } from '../../catalog/duration.js';
import { readPolicies } from '../../catalog/policies.js';
import {
  DuplicateTokenError,
  expiryFields,
  expiryOf,
  secondsLeft,
  type TokenItem,
} from '../../catalog/tokens.js';
import { emptyResponse, vaultResponse } from '../envelope.js';
import {
  InvalidRequestError,
  PermissionDeniedError,
  VaultError,
} from '../errors.js';
import { commaSeparatedList, readBody } from '../request-body.js';
import type { CallerAuth, RouteHandler, RouteInput } from '../route.js';

/**
 * Vault's default and largest TTL of a token made here: 32 days, Vault's
 * `default_lease_ttl` and `max_lease_ttl` out of the box.
 */
const DEFAULT_TTL = 768 * 3600;
const MAX_TTL = DEFAULT_TTL;

/**
 * How deep tokens may be nested. Each check of a token reads its
 * ancestors, so the chain is kept short; real pipelines stay at two or
 * three.
 */
const MAX_DEPTH = 32;

/** Vault's policies the caller cannot hand out, being its own machinery. */
const NON_ASSIGNABLE_POLICIES = new Set(['response-wrapping', 'control-group']);

/** Vault reads booleans weakly: `true`, `"true"`, `"1"`. */
const weakBoolean = z
  .union([z.boolean(), z.string(), z.number()], {
    error: 'expected a boolean',
  })
  .optional()
  .transform((value, context) => {
    if (value === undefined || typeof value === 'boolean') {
      return value ?? false;
    }
    const text = String(value).trim().toLowerCase();
    if (['1', 't', 'true'].includes(text)) return true;
    if (['', '0', 'f', 'false'].includes(text)) return false;
    context.addIssue({ code: 'custom', message: 'expected a boolean' });
    return z.NEVER;
  });

const duration = z
  .union([z.string(), z.number()], { error: 'expected a duration' })
  .nullish()
  .transform((value, context) => {
    if (value === undefined || value === null) return 0;
    const seconds = parseDuration(value);
    if (seconds === undefined) {
      context.addIssue({
        code: 'custom',
        message: 'expected a duration such as "1h" or a number of seconds',
      });
      return z.NEVER;
    }
    return seconds;
  });

const createBody = z.object({
  id: z.string({ error: 'expected a string' }).optional(),
  policies: commaSeparatedList('expected a list of policy names'),
  meta: z
    .record(z.string(), z.string(), {
      error: 'expected an object of string values',
    })
    .nullish(),
  no_parent: weakBoolean,
  no_default_policy: weakBoolean,
  renewable: weakBoolean,
  ttl: duration,
  explicit_max_ttl: duration,
  period: duration,
  display_name: z.string({ error: 'expected a string' }).optional(),
  num_uses: z.coerce
    .number({ error: 'expected a number' })
    .int({ error: 'expected a whole number' })
    .optional(),
  type: z.string({ error: 'expected a string' }).optional(),
});

const tokenBody = z.object({
  token: z.string({ error: 'expected a string' }).optional(),
});

const accessorBody = z.object({
  accessor: z.string({ error: 'expected a string' }).optional(),
});

const callerOf = (input: RouteInput): CallerAuth => {
  // The route table marks every token route as authenticated, so this only
  // fails if that ever changes.
  if (!input.auth) throw new PermissionDeniedError();
  return input.auth;
};

/**
 * Vault's policy list rules: trimmed, lower case, no empty names, sorted
 * without duplicates, `default` added when asked, and `root` alone when it
 * is there at all.
 */
const sanitizePolicies = (policies: string[], addDefault: boolean) => {
  const names = new Set(
    policies.map((name) => name.trim().toLowerCase()).filter(Boolean),
  );
  if (names.has('root')) return ['root'];
  if (addDefault) names.add('default');
  return [...names].sort();
};

/** Vault's display names: `token-` before what was given, dashes for the rest. */
const displayNameOf = (written: string | undefined) => {
  if (!written) return 'token';
  return `token-${written}`.replace(/[^a-zA-Z0-9-]/g, '-').replace(/-+$/, '');
};

/** Vault's `auth` block of an answer that made a token. */
const authBlock = (token: string, item: TokenItem) => ({
  client_token: token,
  accessor: item.accessor,
  policies: item.policies,
  token_policies: item.policies,
  metadata: item.meta ?? null,
  lease_duration: item.ttl ?? 0,
  // This service does not renew tokens; a token lasts its TTL.
  renewable: false,
  entity_id: '',
  token_type: 'service',
  orphan: item.orphan ?? false,
  mfa_requirement: null,
  num_uses: item.numUses ?? 0,
});

/**
 * What a lookup tells about a token, in Vault's shape. The token itself is
 * never in it: `id` is empty, as Vault leaves it in `lookup-accessor`.
 */
const describeToken = (item: TokenItem) => {
  const created = new Date(item.createdAt);
  return {
    accessor: item.accessor,
    creation_time: Math.floor(created.getTime() / 1000),
    creation_ttl: item.ttl ?? 0,
    display_name: item.displayName,
    entity_id: '',
    expire_time:
      item.expireTime ??
      (item.expiresAt === undefined
        ? null
        : new Date(item.expiresAt * 1000).toISOString()),
    explicit_max_ttl: 0,
    id: '',
    issue_time: created.toISOString(),
    meta: item.meta ?? null,
    num_uses: item.usesLeft ?? 0,
    orphan: item.orphan ?? false,
    path: item.creationPath ?? 'auth/token/create',
    policies: item.policies,
    renewable: false,
    ttl: secondsLeft(item),
    type: 'service',
    ...(item.namespace === '' ? {} : { namespace_path: item.namespace }),
  };
};

/** A token another request names may be one of this namespace or below. */
const visibleFrom = (item: TokenItem | undefined, namespace: string) =>
  item?.namespace.startsWith(namespace) ? item : undefined;

/**
 * The policies, parent and lifetime of a new token, by Vault's rules for
 * `auth/token/create`.
 */
const createToken =
  (orphanRoute: boolean): RouteHandler =>
  async (input) => {
    const { acl, token: parent, tokens } = callerOf(input);
    const { value: body, warnings } = readBody(createBody, input.body);
    const { namespace } = input.request;
    const isSudo = acl.hasSudo(`${namespace}${input.request.path}`);

    // A use-limited token could escape its limit through tokens it made.
    if (parent.usesLeft !== undefined) {
      throw new InvalidRequestError(
        'restricted use token cannot generate child tokens',
      );
    }
    if (body.type && body.type !== 'service') {
      throw new InvalidRequestError(
        body.type === 'batch'
          ? 'batch tokens are not supported by this service'
          : "invalid 'token_type' value",
      );
    }
    if (body.period !== 0) {
      throw new InvalidRequestError(
        'periodic tokens are not supported by this service, which does not renew tokens',
      );
    }
    const numUses = body.num_uses ?? 0;
    if (numUses < 0) {
      throw new InvalidRequestError('number of uses cannot be negative');
    }
    if (body.ttl < 0) throw new InvalidRequestError('ttl must be positive');
    if (body.explicit_max_ttl < 0) {
      throw new InvalidRequestError('explicit_max_ttl must be positive');
    }

    // The token's namespace is the request's. A parent may make one in a
    // namespace below its own only with sudo, and never a root token.
    const fromParentNamespace = namespace !== parent.namespace;
    if (fromParentNamespace && !isSudo) {
      throw new InvalidRequestError(
        'root or sudo privileges required to directly generate a token in a child namespace',
      );
    }

    let policies: string[];
    if (fromParentNamespace) {
      policies = sanitizePolicies(body.policies, !body.no_default_policy);
      if (policies.includes('root')) {
        throw new InvalidRequestError(
          'root tokens may not be created from a parent namespace',
        );
      }
    } else if (body.policies.length === 0) {
      policies = sanitizePolicies(parent.policies, false);
    } else if (!isSudo) {
      const wanted = sanitizePolicies(body.policies, false);
      const held = new Set(sanitizePolicies(parent.policies, false));
      if (!wanted.every((name) => held.has(name))) {
        throw new InvalidRequestError(
          'child policies must be subset of parent',
        );
      }
      policies = sanitizePolicies(
        wanted,
        !body.no_default_policy && held.has('default'),
      );
    } else {
      policies = sanitizePolicies(body.policies, !body.no_default_policy);
    }
    if (body.no_default_policy) {
      policies = policies.filter((name) => name !== 'default');
    }
    for (const name of policies) {
      if (NON_ASSIGNABLE_POLICIES.has(name)) {
        throw new InvalidRequestError(`cannot assign policy "${name}"`);
      }
    }
    const isRoot = policies.includes('root');
    if (isRoot && !parent.policies.includes('root')) {
      throw new InvalidRequestError(
        'root tokens may not be created without parent token being root',
      );
    }

    const orphan = orphanRoute || body.no_parent;
    if (body.no_parent && !orphanRoute && !isSudo) {
      throw new InvalidRequestError(
        'root or sudo privileges required to create orphan token',
      );
    }
    if (body.id !== undefined) {
      if (!isSudo) {
        throw new InvalidRequestError(
          'root or sudo privileges required to specify token id',
        );
      }
      if (namespace !== '') {
        throw new InvalidRequestError(
          'token IDs can only be manually specified in the root namespace',
        );
      }
      if (body.id.trim() === '') {
        throw new InvalidRequestError('token id must not be empty');
      }
    }
    const ancestors = orphan ? [] : [parent.pk, ...(parent.ancestors ?? [])];
    if (ancestors.length > MAX_DEPTH) {
      throw new InvalidRequestError(
        `tokens may be nested at most ${MAX_DEPTH} deep; create this one with no_parent`,
      );
    }

    // The lifetime: Vault's default and largest TTL for any token but a
    // root token asked for without one, within an explicit maximum.
    const lifetimeWarnings: string[] = [];
    let ttl = body.ttl;
    if (ttl !== 0 || !isRoot) {
      if (ttl === 0) ttl = DEFAULT_TTL;
      if (ttl > MAX_TTL) {
        lifetimeWarnings.push(
          `TTL of "${formatDuration(ttl)}" exceeded the effective max_ttl of ` +
            `"${formatDuration(MAX_TTL)}"; TTL value is capped accordingly`,
        );
        ttl = MAX_TTL;
      }
    }
    if (
      body.explicit_max_ttl > 0 &&
      (ttl === 0 || ttl > body.explicit_max_ttl)
    ) {
      ttl = body.explicit_max_ttl;
    }
    const parentExpiry = expiryOf(parent);
    if (ttl === 0 && parentExpiry !== undefined) {
      throw new InvalidRequestError(
        'expiring root tokens cannot create non-expiring root tokens',
      );
    }
    const now = Date.now();
    let expiry = ttl === 0 ? undefined : now + ttl * 1000;
    // A child is revoked with its parent, so it cannot outlive it.
    if (
      !orphan &&
      parentExpiry !== undefined &&
      expiry !== undefined &&
      expiry > parentExpiry
    ) {
      expiry = parentExpiry;
      ttl = Math.max(0, Math.floor((expiry - now) / 1000));
    }

    let created: Awaited<ReturnType<typeof tokens.create>>;
    try {
      created = await tokens.create(
        {
          policies,
          namespace,
          displayName: displayNameOf(body.display_name),
          ...(expiry === undefined ? {} : { ttl, ...expiryFields(expiry) }),
          ...(numUses > 0 ? { numUses } : {}),
          ...(body.meta ? { meta: body.meta } : {}),
          orphan,
          ...(ancestors.length > 0 ? { ancestors } : {}),
          creationPath: orphanRoute
            ? 'auth/token/create-orphan'
            : 'auth/token/create',
        },
        body.id,
      );
    } catch (error) {
      if (error instanceof DuplicateTokenError) {
        throw new InvalidRequestError(
          'cannot create a token with a duplicate ID',
        );
      }
      throw error;
    }

    // Vault warns of policies named on the token that do not exist yet.
    const named = policies.filter((name) => name !== 'root');
    const existing = new Set(
      (await readPolicies(input.catalog, namespace, named)).map(
        (policy) => policy.name,
      ),
    );
    const missing = named
      .filter((name) => !existing.has(name))
      .map((name) => `Policy "${name}" does not exist`);

    return vaultResponse(input.request.requestId, null, {
      warnings: [...warnings, ...lifetimeWarnings, ...missing],
      auth: authBlock(created.token, created.item),
    });
  };

/** `POST auth/token/create`: a child of the caller, unless `no_parent`. */
export const createTokenHandler = createToken(false);

/** `POST auth/token/create-orphan`: a token with no parent. */
export const createOrphanTokenHandler = createToken(true);

/** `GET auth/token/lookup-self`: the caller's own token. */
export const lookupSelfHandler: RouteHandler = async (input) => {
  const { token } = callerOf(input);
  return vaultResponse(input.request.requestId, describeToken(token));
};

/**
 * Vault's answer to a lookup of a token that does not exist, has expired
 * or was revoked.
 */
const badToken = () => new VaultError(403, ['bad token']);

const invalidAccessor = () => new InvalidRequestError('invalid accessor');

/** `POST auth/token/lookup`: a token named in the body. */
export const lookupHandler: RouteHandler = async (input) => {
  const { tokens } = callerOf(input);
  const { value } = readBody(tokenBody, input.body);
  const token = value.token?.trim() ?? '';
  if (token === '') throw new InvalidRequestError('missing token ID');
  const item = visibleFrom(await tokens.find(token), input.request.namespace);
  if (!item) throw badToken();
  return vaultResponse(input.request.requestId, describeToken(item));
};

/** `POST auth/token/lookup-accessor`: a token by its accessor. */
export const lookupAccessorHandler: RouteHandler = async (input) => {
  const { tokens } = callerOf(input);
  const { value } = readBody(accessorBody, input.body);
  const accessor = value.accessor?.trim() ?? '';
  if (accessor === '') throw new InvalidRequestError('missing accessor');
  const item = visibleFrom(
    await tokens.findByAccessor(accessor),
    input.request.namespace,
  );
  if (!item) throw invalidAccessor();
  return vaultResponse(input.request.requestId, describeToken(item));
};

/**
 * `POST auth/token/revoke`: a token named in the body, and every token it
 * made. Revoking a token that does not exist is no error, as in Vault.
 */
export const revokeHandler: RouteHandler = async (input) => {
  const { tokens } = callerOf(input);
  const { value } = readBody(tokenBody, input.body);
  const token = value.token?.trim() ?? '';
  if (token === '') throw new InvalidRequestError('missing token ID');
  const item = visibleFrom(await tokens.read(token), input.request.namespace);
  if (item) await tokens.revoke(item);
  return emptyResponse();
};

/** `POST auth/token/revoke-self`: the caller's own token. */
export const revokeSelfHandler: RouteHandler = async (input) => {
  const { token, tokens } = callerOf(input);
  await tokens.revoke(token);
  return emptyResponse();
};

/** `POST auth/token/revoke-accessor`: a token by its accessor. */
export const revokeAccessorHandler: RouteHandler = async (input) => {
  const { tokens } = callerOf(input);
  const { value } = readBody(accessorBody, input.body);
  const accessor = value.accessor?.trim() ?? '';
  if (accessor === '') throw new InvalidRequestError('missing accessor');
  const item = visibleFrom(
    await tokens.findByAccessor(accessor),
    input.request.namespace,
  );
  if (!item) throw invalidAccessor();
  await tokens.revoke(item);
  return emptyResponse();
};
