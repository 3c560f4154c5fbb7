import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Catalog } from '../catalog/client.js';
import { rootTokenBootstrapKey } from '../catalog/keys.js';
import { storeRootToken, tokenDigest } from '../catalog/tokens.js';

/** A secret the deployment names could not be read as a string. */
export class DeploymentSecretError extends Error {
  override name = 'DeploymentSecretError';
}

/** Where the deployed function finds its secrets, from its environment. */
export interface SecretsEnvironment {
  /** ARN of the Secrets Manager secret that holds the token HMAC key. */
  TOKEN_HMAC_KEY_SECRET_ARN?: string;
  /** ARN of the secret that holds the root token made at first deploy. */
  ROOT_TOKEN_SECRET_ARN?: string;
  /** The HMAC key itself, as the local stack hands it over. */
  TOKEN_HMAC_KEY?: string;
}

export interface DeploymentSecrets {
  tokenHmacKey?: string;
  rootToken?: string;
}

const readSecret = async (secretId: string): Promise<string> => {
  let value: unknown;
  try {
    // Read once per container: the function keeps the value for its life,
    // so a cache age would change nothing.
    value = await getSecret<string>(secretId);
  } catch (error) {
    throw new DeploymentSecretError(
      `cannot read the secret ${secretId}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (typeof value !== 'string' || value === '') {
    throw new DeploymentSecretError(
      `the secret ${secretId} does not hold a string`,
    );
  }
  return value;
};

/**
 * Reads the token HMAC key and the root token from Secrets Manager, where
 * the CDK stack generated them; on one machine the key comes from the
 * environment instead and there is no root token to read.
 *
 * @example
 * const { tokenHmacKey, rootToken } = await readDeploymentSecrets();
 */
export const readDeploymentSecrets = async (
  environment: SecretsEnvironment = process.env,
): Promise<DeploymentSecrets> => {
  const hmacKeySecret = environment.TOKEN_HMAC_KEY_SECRET_ARN;
  const rootTokenSecret = environment.ROOT_TOKEN_SECRET_ARN;
  const [tokenHmacKey, rootToken] = await Promise.all([
    hmacKeySecret ? readSecret(hmacKeySecret) : environment.TOKEN_HMAC_KEY,
    rootTokenSecret ? readSecret(rootTokenSecret) : undefined,
  ]);
  return { tokenHmacKey, rootToken };
};

/**
 * Stores the deployment's root token the first time a container sees it,
 * and never again: a marker keyed by the token's digest records that it was
 * stored. Storing it at every cold start would bring a revoked root token
 * back to life; a new value put into the secret is stored once, like the
 * first. Two containers starting together may both store it, which is
 * harmless since the token's item has one key.
 *
 * @returns whether the token was stored by this call.
 *
 * @example
 * await bootstrapRootToken(catalog, rootToken, tokenHmacKey);
 */
export const bootstrapRootToken = async (
  catalog: Catalog,
  rootToken: string,
  tokenHmacKey?: string,
): Promise<boolean> => {
  const marker = rootTokenBootstrapKey(tokenDigest(rootToken, tokenHmacKey));
  const seen = await catalog.client.send(
    new GetCommand({
      TableName: catalog.tableName,
      Key: marker,
      ConsistentRead: true,
    }),
  );
  if (seen.Item) return false;
  await storeRootToken(catalog, rootToken, tokenHmacKey);
  // Written only after the token, so a container that dies in between
  // leaves the next one to store it.
  await catalog.client.send(
    new PutCommand({
      TableName: catalog.tableName,
      Item: { ...marker, storedAt: new Date().toISOString() },
    }),
  );
  return true;
};
