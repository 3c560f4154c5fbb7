import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../support/api.js';

let api: RunningApi;

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

describe('reading the catalog', () => {
  it("lists the secrets mounts in Vault's shape with their generation", async () => {
    const answer = await api.call('GET', '/v1/sys/mounts');
    expect(answer.status).toBe(200);
    const data = answer.body.data as Record<string, Record<string, unknown>>;
    expect(Object.keys(data)).toEqual(
      expect.arrayContaining(['custom-secrets/', 'secret/', 'sys/']),
    );
    expect(Object.keys(data)).not.toContain('oidc-custom/');
    expect(data['custom-secrets/']).toMatchObject({
      type: 'mock-plugin',
      accessor: 'mock-plugin_6f1d3b5a',
      plugin_version: 'v1.0.1',
      description: 'mock secrets plugin',
      reload_generation: 0,
    });
    // Vault repeats the table beside the envelope for older clients.
    expect(answer.body['custom-secrets/']).toEqual(data['custom-secrets/']);
    expect(answer.body.request_id).toEqual(expect.any(String));
  });

  it('lists the auth mounts, and each namespace its own', async () => {
    const root = await api.call('GET', '/v1/sys/auth');
    expect(Object.keys(root.body.data ?? {})).toEqual(
      expect.arrayContaining(['token/', 'oidc-custom/', 'userpass/']),
    );
    const teamB = await api.call('GET', '/v1/team-b/sys/auth');
    expect(Object.keys(teamB.body.data ?? {})).toEqual(['approle/']);
    const teamBMounts = await api.call('GET', '/v1/sys/mounts/', {
      headers: { 'X-Vault-Namespace': 'team-b' },
    });
    expect(Object.keys(teamBMounts.body.data ?? {}).sort()).toEqual([
      'custom-secrets/',
      'secret/',
    ]);
  });

  it('reads one mount, with or without the trailing slash, and 404s others', async () => {
    for (const path of ['team-a/secrets', 'team-a/secrets/']) {
      const answer = await api.call('GET', `/v1/sys/mounts/${path}`);
      expect(answer.status).toBe(200);
      expect(answer.body.data).toMatchObject({
        description: 'team A secrets',
        reload_generation: 0,
      });
    }
    const missing = await api.call('GET', '/v1/sys/mounts/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.errors).toEqual(['no mount at nope/']);
  });

  it('shows a reload in the generation at once', async () => {
    await api.call('PUT', '/v1/sys/plugins/reload/backend', {
      body: { mounts: ['artifacts'] },
    });
    const answer = await api.call('GET', '/v1/sys/mounts/artifacts');
    expect(answer.body.data?.reload_generation).toBe(1);
  });
});

describe('as curl sends it', () => {
  it('reads a body sent as form data, as curl -d does, as JSON', async () => {
    const answer = await api.call('PUT', '/v1/sys/plugins/reload/backend', {
      body: '{"mounts":["pki"]}',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.data?.reload_id).toEqual(expect.any(String));
  });

  it('answers sys/health without a token', async () => {
    const answer = await api.call('GET', '/v1/sys/health', { token: null });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ initialized: true, sealed: false });
  });
});
