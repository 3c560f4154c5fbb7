import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bootstrapRootToken,
  DeploymentSecretError,
  readDeploymentSecrets,
} from '../../functions/api/bootstrap.js';
import { tokenKey } from '../../functions/catalog/keys.js';
import { tokenDigest } from '../../functions/catalog/tokens.js';
import { freshCatalog } from '../support/dynamodb.js';
import {
  type SecretsStub,
  startSecretsStub,
} from './support/secrets-manager-stub.js';

const HMAC_KEY = 'bootstrap-test-key';

const storedToken = async (
  catalog: Awaited<ReturnType<typeof freshCatalog>>,
  token: string,
) =>
  (
    await catalog.client.send(
      new GetCommand({
        TableName: catalog.tableName,
        Key: tokenKey(tokenDigest(token, HMAC_KEY)),
        ConsistentRead: true,
      }),
    )
  ).Item;

describe('the root token at cold start', () => {
  it('is stored on the first cold start, as a digest with the root policy', async () => {
    const catalog = await freshCatalog();
    const token = `root-${randomUUID()}`;
    expect(await bootstrapRootToken(catalog, token, HMAC_KEY)).toBe(true);
    const item = await storedToken(catalog, token);
    expect(item?.policies).toEqual(['root']);
    expect(JSON.stringify(item)).not.toContain(token);
  });

  it('is not stored again by later cold starts', async () => {
    const catalog = await freshCatalog();
    const token = `root-${randomUUID()}`;
    await bootstrapRootToken(catalog, token, HMAC_KEY);
    const first = await storedToken(catalog, token);
    expect(await bootstrapRootToken(catalog, token, HMAC_KEY)).toBe(false);
    // The very same item: same accessor, same creation time.
    expect(await storedToken(catalog, token)).toEqual(first);
  });

  it('stays revoked once its item is gone', async () => {
    const catalog = await freshCatalog();
    const token = `root-${randomUUID()}`;
    await bootstrapRootToken(catalog, token, HMAC_KEY);
    await catalog.client.send(
      new DeleteCommand({
        TableName: catalog.tableName,
        Key: tokenKey(tokenDigest(token, HMAC_KEY)),
      }),
    );
    expect(await bootstrapRootToken(catalog, token, HMAC_KEY)).toBe(false);
    expect(await storedToken(catalog, token)).toBeUndefined();
  });

  it('is stored once more when the secret holds a new value', async () => {
    const catalog = await freshCatalog();
    const old = `root-${randomUUID()}`;
    const next = `root-${randomUUID()}`;
    await bootstrapRootToken(catalog, old, HMAC_KEY);
    expect(await bootstrapRootToken(catalog, next, HMAC_KEY)).toBe(true);
    expect((await storedToken(catalog, next))?.policies).toEqual(['root']);
  });
});

describe('the deployment secrets', () => {
  let secrets: SecretsStub;
  const endpointBefore = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;

  beforeAll(async () => {
    secrets = await startSecretsStub();
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.endpoint;
  });
  afterAll(async () => {
    if (endpointBefore === undefined) {
      delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    } else {
      process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = endpointBefore;
    }
    await secrets.close();
  });

  it('are read from Secrets Manager when the stack names them', async () => {
    secrets.put('read/hmac', 'the-hmac-key');
    secrets.put('read/root', 'the-root-token');
    expect(
      await readDeploymentSecrets({
        TOKEN_HMAC_KEY_SECRET_ARN: secrets.arnOf('read/hmac'),
        ROOT_TOKEN_SECRET_ARN: secrets.arnOf('read/root'),
      }),
    ).toEqual({ tokenHmacKey: 'the-hmac-key', rootToken: 'the-root-token' });
  });

  it('come from the environment on one machine, with no root token', async () => {
    expect(
      await readDeploymentSecrets({ TOKEN_HMAC_KEY: 'local-key' }),
    ).toEqual({ tokenHmacKey: 'local-key', rootToken: undefined });
  });

  it('name the secret that cannot be read', async () => {
    const reading = readDeploymentSecrets({
      TOKEN_HMAC_KEY_SECRET_ARN: secrets.arnOf('missing/hmac'),
    });
    await expect(reading).rejects.toThrow(DeploymentSecretError);
    await expect(reading).rejects.toThrow(/missing\/hmac/);
  });
});
