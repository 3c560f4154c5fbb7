import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  movedBetween,
  ROOT_TOKEN,
  type RunningApi,
  startApi,
} from '../support/api.js';

let api: RunningApi;

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

const PIPELINE_POLICY = `
path "sys/plugins/reload/backend" {
  capabilities = ["update"]
}
`;

describe('node-vault, a real Vault client', () => {
  it('writes a policy, creates a narrow token and reloads with it', async () => {
    const client = nodeVault({ endpoint: api.url, token: ROOT_TOKEN });

    await client.addPolicy({ name: 'pipeline', rules: PIPELINE_POLICY });
    const policy = await client.getPolicy({ name: 'pipeline' });
    expect(policy.rules).toBe(PIPELINE_POLICY);
    expect((await client.policies()).policies).toContain('pipeline');

    // node-vault switches to the token it has just created, as a pipeline
    // that was handed a token would use it.
    const created = await client.tokenCreate({
      policies: ['pipeline'],
      ttl: '1h',
      display_name: 'deploy',
    });
    const narrowToken: string = created.auth.client_token;
    expect(client.token).toBe(narrowToken);
    expect(created.auth.policies).toEqual(['default', 'pipeline']);

    const before = await api.generations();
    const reloaded = await client.write('sys/plugins/reload/backend', {
      mounts: ['custom-secrets'],
    });
    expect(reloaded.data.reload_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(movedBetween(before, await api.generations())).toEqual({
      'custom-secrets/': 1,
    });

    const self = await client.tokenLookupSelf();
    expect(self.data.policies).toEqual(['default', 'pipeline']);
    expect(self.data.display_name).toBe('token-deploy');

    await expect(
      client.write('sys/plugins/reload/secret/mock-plugin', {}),
    ).rejects.toMatchObject({
      message: 'permission denied',
      response: { statusCode: 403 },
    });
    await expect(client.mounts()).rejects.toMatchObject({
      response: { statusCode: 403 },
    });
  });

  it('reloads in a namespace with a token of that namespace', async () => {
    const admin = nodeVault({
      endpoint: api.url,
      token: ROOT_TOKEN,
      namespace: 'team-b',
    });
    await admin.write('sys/policies/acl/pipeline', { policy: PIPELINE_POLICY });
    const created = await admin.tokenCreate({ policies: ['pipeline'] });
    const pipeline = nodeVault({
      endpoint: api.url,
      token: created.auth.client_token,
      namespace: 'team-b',
    });
    const answer = await pipeline.write('sys/plugins/reload/backend', {
      plugin: 'mock-plugin',
    });
    expect(answer.data.reload_id).toBeTruthy();

    const elsewhere = nodeVault({
      endpoint: api.url,
      token: created.auth.client_token,
    });
    await expect(
      elsewhere.write('sys/plugins/reload/backend', { plugin: 'mock-plugin' }),
    ).rejects.toMatchObject({ response: { statusCode: 403 } });
  });

  it('revokes a token so that the client is refused at once', async () => {
    const admin = nodeVault({ endpoint: api.url, token: ROOT_TOKEN });
    const created = await admin.tokenCreate({ policies: ['pipeline'] });
    const token: string = created.auth.client_token;
    const root = nodeVault({ endpoint: api.url, token: ROOT_TOKEN });
    await root.tokenRevoke({ token });
    const revoked = nodeVault({ endpoint: api.url, token });
    await expect(
      revoked.write('sys/plugins/reload/backend', { mounts: ['secret'] }),
    ).rejects.toMatchObject({ response: { statusCode: 403 } });
  });
});
