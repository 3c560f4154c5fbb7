import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Catalog } from './client.js';
import { tokenKey } from './keys.js';

/** A token as the catalog keeps it: never the token itself. */
export interface TokenItem {
  pk: string;
  sk: string;
  accessor: string;
  policies: string[];
  namespace: string;
  displayName: string;
  createdAt: string;
}

/**
 * The digest a token is stored and looked up under. With a key (the
 * `TOKEN_HMAC_KEY` of the deployment) it is an HMAC, so that a copy of the
 * table alone does not let anyone test guesses of short tokens; without one
 * it is a plain SHA-256, which still never stores the token in clear.
 */
export const tokenDigest = (token: string, hmacKey?: string) =>
  createHmac('sha256', hmacKey ?? '')
    .update(token)
    .digest('hex');

/** A fresh token in Vault's service-token form. */
export const generateToken = () =>
  `hvs.${randomBytes(24).toString('base64url')}`;

/**
 * Stores a root token, or replaces the one with the same value.
 *
 * @example
 * await storeRootToken(catalog, 'root', process.env.TOKEN_HMAC_KEY);
 */
export const storeRootToken = async (
  catalog: Catalog,
  token: string,
  hmacKey?: string,
): Promise<void> => {
  const item: TokenItem = {
    ...tokenKey(tokenDigest(token, hmacKey)),
    accessor: randomUUID(),
    policies: ['root'],
    namespace: '',
    displayName: 'root',
    createdAt: new Date().toISOString(),
  };
  await catalog.client.send(
    new PutCommand({ TableName: catalog.tableName, Item: item }),
  );
};
