import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { movedBetween, type RunningApi, startApi } from '../support/api.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let api: RunningApi;

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

const reload = (body: unknown, headers?: Record<string, string>) =>
  api.call('PUT', '/v1/sys/plugins/reload/backend', { body, headers });

/** Runs `action` and returns which generations it moved in a namespace. */
const moves = async (action: () => Promise<unknown>, namespace = '') => {
  const before = await api.generations(namespace);
  await action();
  return movedBetween(before, await api.generations(namespace));
};

describe('reloading by mounts', () => {
  it('takes one comma-separated string and raises each mount by one', async () => {
    let answer: Awaited<ReturnType<typeof reload>> | undefined;
    const moved = await moves(async () => {
      answer = await reload({ mounts: 'custom-secrets,auth/oidc-custom' });
    });
    expect(answer?.status).toBe(200);
    expect(answer?.body.data?.reload_id).toMatch(UUID);
    expect(answer?.body).toMatchObject({
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      wrap_info: null,
      auth: null,
    });
    expect(moved).toEqual({ 'custom-secrets/': 1, 'auth/oidc-custom/': 1 });
  });

  it('reads sys/auth/NAME/ as the auth mount NAME', async () => {
    const moved = await moves(() =>
      reload({ mounts: ['sys/auth/oidc-custom/'] }),
    );
    expect(moved).toEqual({ 'auth/oidc-custom/': 1 });
  });

  it('counts a mount named twice as one target', async () => {
    const moved = await moves(() =>
      reload({
        plugin: '',
        mounts: ['custom-secrets', 'custom-secrets/', 'custom-secrets/inner'],
        scope: '',
      }),
    );
    expect(moved).toEqual({ 'custom-secrets/': 1 });
  });

  it('names the mount a path inside it falls under, by longest prefix', async () => {
    const moved = await moves(() =>
      reload({ mounts: ['team-a/secrets/data/app', 'secret/data/app'] }),
    );
    expect(moved).toEqual({ 'team-a/secrets/': 1, 'secret/': 1 });
  });

  it('moves nothing when one of the mounts does not exist, and names it', async () => {
    let answer: Awaited<ReturnType<typeof reload>> | undefined;
    const moved = await moves(async () => {
      answer = await reload({ mounts: ['custom-secrets', 'nope'] });
    });
    expect(answer?.status).toBe(400);
    expect(answer?.body.errors).toEqual(['no mount at nope/']);
    expect(moved).toEqual({});
  });

  it.each([
    ['cubbyhole'],
    ['sys'],
    ['identity/'],
    ['auth/token'],
    ['sys/auth/token/'],
  ])('refuses the singleton mount %s', async (path) => {
    const moved = await moves(async () => {
      const answer = await reload({ mounts: [path, 'custom-secrets'] });
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]).toMatch(/singleton mount/);
    });
    expect(moved).toEqual({});
  });

  it('does not reach into another namespace', async () => {
    const answer = await reload(
      { mounts: ['secret'] },
      {
        'X-Vault-Namespace': 'team-b',
      },
    );
    expect(answer.status).toBe(200);
    const outside = await reload({ mounts: ['approle'] });
    expect(outside.status).toBe(400);
    expect(outside.body.errors).toEqual(['no mount at approle/']);
  });
});

describe('reloading by plugin', () => {
  it('raises every root-namespace mount that runs the plugin, old-style ones too', async () => {
    const moved = await moves(() =>
      reload({ plugin: 'mock-plugin', mounts: null, scope: '' }),
    );
    expect(moved).toEqual({
      'custom-secrets/': 1,
      'team-a/secrets/': 1,
      'old-style/': 1,
    });
  });

  it('leaves the other namespaces alone', async () => {
    const moved = await moves(
      () => reload({ plugin: 'mock-plugin' }),
      'team-b',
    );
    expect(moved).toEqual({});
  });

  it('moves only team-b mounts when asked in team-b, by header or by path', async () => {
    const byHeader = await moves(
      () =>
        reload({ plugin: 'mock-plugin' }, { 'X-Vault-Namespace': 'team-b' }),
      'team-b',
    );
    expect(byHeader).toEqual({ 'custom-secrets/': 1 });
    const rootMoved = await moves(() =>
      api.call('PUT', '/v1/team-b/sys/plugins/reload/backend', {
        body: { plugin: 'mock-plugin' },
      }),
    );
    expect(rootMoved).toEqual({});
    const trailing = await moves(
      () =>
        reload({ plugin: 'mock-plugin' }, { 'X-Vault-Namespace': 'team-b/' }),
      'team-b/',
    );
    expect(trailing).toEqual({ 'custom-secrets/': 1 });
  });

  it('refuses a plugin that is not in the catalog', async () => {
    const answer = await reload({ plugin: 'does-not-exist' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      'plugin not found in the catalog: does-not-exist',
    ]);
  });

  it('refuses a database plugin, saying only auth and secret plugins reload', async () => {
    const answer = await reload({ plugin: 'my-db-plugin' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]).toMatch(
      /only auth and secret plugins can be reloaded/,
    );
  });

  it('answers a known plugin with no mounts with a warning and moves nothing', async () => {
    let answer: Awaited<ReturnType<typeof reload>> | undefined;
    const moved = await moves(async () => {
      answer = await reload({ plugin: 'orphan-plugin' });
    });
    expect(answer?.status).toBe(200);
    expect(answer?.body.warnings).toEqual([
      'no mounts run plugin orphan-plugin; nothing was reloaded',
    ]);
    expect(moved).toEqual({});
  });

  it('answers a global reload with 202 and a reload id', async () => {
    const answer = await reload({ plugin: 'mock-plugin', scope: 'global' });
    expect(answer.status).toBe(202);
    expect(answer.body.data?.reload_id).toMatch(UUID);
  });
});

describe('requests Vault refuses', () => {
  it.each([
    [
      { plugin: 'mock-plugin', mounts: ['x'] },
      'plugin and mounts cannot be set at the same time',
    ],
    [{}, 'plugin or mounts must be provided'],
    [{ plugin: '', mounts: [] }, 'plugin or mounts must be provided'],
    [
      { plugin: 'mock-plugin', scope: 'local' },
      "reload scope must be omitted or 'global'",
    ],
  ])('answers %j with 400 %s', async (body, message) => {
    const moved = await moves(async () => {
      const answer = await reload(body);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ errors: [message] });
    });
    expect(moved).toEqual({});
  });

  it('answers a field of the wrong type with 400 naming the field', async () => {
    const answer = await reload({ mounts: 5 });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]).toMatch(/"mounts"/);
    const plugin = await reload({ plugin: ['a'] });
    expect(plugin.body.errors?.[0]).toMatch(/"plugin"/);
  });

  it('answers malformed JSON with 400', async () => {
    const answer = await reload('{"plugin":');
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]).toMatch(/JSON/);
    const array = await reload('["mock-plugin"]');
    expect(array.status).toBe(400);
  });

  it('ignores unknown fields with a warning, as Vault does', async () => {
    const answer = await reload({ mounts: ['custom-secrets'], force: true });
    expect(answer.status).toBe(200);
    expect(answer.body.warnings).toEqual([
      'Endpoint ignored these unrecognized parameters: [force]',
    ]);
  });

  it('answers 403 permission denied without a token or with a wrong one', async () => {
    for (const token of [null, 'wrong-token']) {
      const answer = await api.call('PUT', '/v1/sys/plugins/reload/backend', {
        body: { plugin: 'mock-plugin' },
        token,
      });
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual({ errors: ['permission denied'] });
    }
    const mounts = await api.call('GET', '/v1/sys/mounts', { token: null });
    expect(mounts.status).toBe(403);
  });

  it('takes the token as a bearer token too', async () => {
    const answer = await api.call('GET', '/v1/sys/mounts', {
      token: null,
      headers: { Authorization: 'Bearer test-root-token' },
    });
    expect(answer.status).toBe(200);
  });

  it('answers a method a path does not take with 405, an unknown path with 404', async () => {
    const get = await api.call('GET', '/v1/sys/plugins/reload/backend');
    expect(get.status).toBe(405);
    expect(get.body.errors).toEqual(['unsupported operation']);
    const unknown = await api.call('GET', '/v1/sys/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors?.length).toBe(1);
  });

  it('answers an unknown namespace with 404 and without a token with 403', async () => {
    const headers = { 'X-Vault-Namespace': 'no-such-team' };
    const known = await api.call('GET', '/v1/sys/mounts', { headers });
    expect(known.status).toBe(404);
    const anonymous = await api.call('GET', '/v1/sys/mounts', {
      headers,
      token: null,
    });
    expect(anonymous.status).toBe(403);
  });
});

describe('the older path sys/plugins/backend/reload', () => {
  it('answers 204 with an empty body and reloads the same way', async () => {
    let status = 0;
    let text = 'unset';
    const moved = await moves(async () => {
      const answer = await api.call('PUT', '/v1/sys/plugins/backend/reload', {
        body: { plugin: 'mock-plugin' },
      });
      status = answer.status;
      text = answer.text;
    });
    expect(status).toBe(204);
    expect(text).toBe('');
    expect(moved).toEqual({
      'custom-secrets/': 1,
      'team-a/secrets/': 1,
      'old-style/': 1,
    });
  });
});

describe('reloading a plugin in every namespace', () => {
  it('moves its mounts in the root namespace and in team-b', async () => {
    const beforeB = await api.generations('team-b');
    const moved = await moves(() =>
      api.call('PUT', '/v1/sys/plugins/reload/secret/mock-plugin', {}),
    );
    expect(moved).toEqual({
      'custom-secrets/': 1,
      'team-a/secrets/': 1,
      'old-style/': 1,
    });
    expect(movedBetween(beforeB, await api.generations('team-b'))).toEqual({
      'custom-secrets/': 1,
    });
  });

  it('takes auth, secret or unknown as the type', async () => {
    const auth = await moves(() =>
      api.call('POST', '/v1/sys/plugins/reload/unknown/mock-auth-plugin', {
        body: { scope: 'global' },
      }),
    );
    expect(auth).toEqual({ 'auth/oidc-custom/': 1 });
    const wrong = await api.call(
      'PUT',
      '/v1/sys/plugins/reload/database/mock-plugin',
      { body: {} },
    );
    expect(wrong.status).toBe(400);
    const mismatch = await api.call(
      'PUT',
      '/v1/sys/plugins/reload/auth/mock-plugin',
    );
    expect(mismatch.status).toBe(400);
  });

  it('is refused outside the root namespace', async () => {
    const answer = await api.call(
      'PUT',
      '/v1/sys/plugins/reload/secret/mock-plugin',
      { headers: { 'X-Vault-Namespace': 'team-b' } },
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]).toMatch(/root namespace/);
  });
});

describe('concurrent reloads', () => {
  it('moves a mount by exactly 20 for 20 concurrent reloads', async () => {
    const moved = await moves(async () => {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => reload({ mounts: ['kv-legacy'] })),
      );
      expect(answers.map((answer) => answer.status)).toEqual(
        Array(20).fill(200),
      );
    });
    expect(moved).toEqual({ 'kv-legacy/': 20 });
  });
});
