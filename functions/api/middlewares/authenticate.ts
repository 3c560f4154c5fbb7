import type middy from '@middy/core';
import { batchGet } from '../../catalog/batch-get.js';
import type { Catalog } from '../../catalog/client.js';
import { namespaceKey, tokenKey } from '../../catalog/keys.js';
import { type TokenItem, tokenDigest } from '../../catalog/tokens.js';
import { NotFoundError, PermissionDeniedError } from '../errors.js';
import type { ApiContext, ApiEvent, ApiResult } from './api-context.js';

export interface AuthenticateOptions {
  catalog: Catalog;
  tokenHmacKey?: string;
}

/**
 * Checks the caller's token, and that the namespace exists, in one read:
 * the token's item and the namespace's item are fetched in the same batch.
 * A missing, unknown or insufficient token is a 403 that says nothing more.
 * Only root tokens exist so far, and a root token may call every path.
 */
export const authenticate = (
  options: AuthenticateOptions,
): middy.MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext> => ({
  before: async ({ context }) => {
    const { request, match } = context.vault;
    if (match?.route.unauthenticated) return;
    if (!request.token) throw new PermissionDeniedError();
    const tokenItemKey = tokenKey(
      tokenDigest(request.token, options.tokenHmacKey),
    );
    const keys = [tokenItemKey];
    if (request.namespace !== '') keys.push(namespaceKey(request.namespace));
    const items = await batchGet(options.catalog, keys);
    const token = items.find(
      (item) => item.pk === tokenItemKey.pk,
    ) as unknown as TokenItem | undefined;
    if (!token?.policies.includes('root')) throw new PermissionDeniedError();
    if (request.namespace !== '' && items.length < 2) {
      throw new NotFoundError(`namespace not found: ${request.namespace}`);
    }
  },
});
