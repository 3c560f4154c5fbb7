import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenDigest } from '../../functions/catalog/tokens.js';
import {
  HMAC_KEY,
  movedBetween,
  ROOT_TOKEN,
  type RunningApi,
  startApi,
} from '../support/api.js';
import {
  createToken,
  inNamespace,
  pause,
  recordOperations,
  reloadMounts,
  writePolicy,
} from './support.js';

let api: RunningApi;

const RELOAD_ONLY = `
path "sys/plugins/reload/backend" {
  capabilities = ["update"]
}
`;

beforeAll(async () => {
  api = await startApi();
  await writePolicy(api, 'deploy', RELOAD_ONLY, 'team-b');
  await writePolicy(api, 'deploy', RELOAD_ONLY);
});
afterAll(() => api.close());

/** The generations a request moved in a namespace, read as root. */
const moves = async (action: () => Promise<unknown>, namespace = '') => {
  const before = await api.generations(namespace);
  await action();
  return movedBetween(before, await api.generations(namespace));
};

const DENIED = { errors: ['permission denied'] };

describe('a token that may only reload in team-b', () => {
  let token: string;

  beforeAll(async () => {
    const created = await createToken(
      api,
      { policies: ['deploy'] },
      { namespace: 'team-b' },
    );
    expect(created.answer.status).toBe(200);
    expect(created.auth?.policies).toEqual(['default', 'deploy']);
    token = created.token;
  });

  it("reloads team-b's mounts", async () => {
    let status = 0;
    const moved = await moves(async () => {
      status = (await reloadMounts(api, token, ['custom-secrets'], 'team-b'))
        .status;
    }, 'team-b');
    expect(status).toBe(200);
    expect(moved).toEqual({ 'custom-secrets/': 1 });
  });

  it('reloads by plugin in team-b, also through the namespace in the path', async () => {
    const answer = await api.call(
      'PUT',
      '/v1/team-b/sys/plugins/reload/backend',
      { body: { plugin: 'mock-plugin' }, token },
    );
    expect(answer.status).toBe(200);
  });

  it('gets 403 in the root namespace, and moves nothing there', async () => {
    let answer: Awaited<ReturnType<typeof reloadMounts>> | undefined;
    const moved = await moves(async () => {
      answer = await reloadMounts(api, token, ['custom-secrets']);
    });
    expect(answer?.status).toBe(403);
    expect(answer?.body).toEqual(DENIED);
    expect(moved).toEqual({});
  });

  it('gets 403 on sys/plugins/reload/secret/mock-plugin', async () => {
    for (const headers of [{}, inNamespace('team-b')]) {
      const answer = await api.call(
        'PUT',
        '/v1/sys/plugins/reload/secret/mock-plugin',
        { body: {}, token, headers },
      );
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual(DENIED);
    }
  });

  it('may not read the mounts or a reload status', async () => {
    const headers = inNamespace('team-b');
    const mounts = await api.call('GET', '/v1/sys/mounts', { token, headers });
    const status = await api.call(
      'GET',
      '/v1/sys/plugins/reload/backend/status?reload_id=00000000-0000-4000-8000-000000000000',
      { token, headers },
    );
    expect([mounts.status, status.status]).toEqual([403, 403]);
  });

  it('says nothing about namespaces it may not see', async () => {
    const missing = await reloadMounts(api, token, ['x'], 'no-such-team');
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual(DENIED);
  });

  it('may look itself up, through the default policy', async () => {
    const answer = await api.call('GET', '/v1/auth/token/lookup-self', {
      token,
      headers: inNamespace('team-b'),
    });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({
      policies: ['default', 'deploy'],
      namespace_path: 'team-b/',
      display_name: 'token',
      orphan: false,
      type: 'service',
      id: '',
    });
    expect(answer.text).not.toContain(token);
  });
});

describe('policies that grant and deny', () => {
  it('lets deny on the reload path beat a glob that allows it', async () => {
    await writePolicy(
      api,
      'reload-all',
      'path "sys/plugins/reload/*" { capabilities = ["update", "sudo"] }',
    );
    await writePolicy(
      api,
      'no-backend',
      'path "sys/plugins/reload/backend" { capabilities = ["deny"] }',
    );
    const { token } = await createToken(api, {
      policies: ['reload-all', 'no-backend'],
    });
    const denied = await reloadMounts(api, token, ['custom-secrets']);
    expect(denied.status).toBe(403);
    const allowed = await api.call(
      'PUT',
      '/v1/sys/plugins/reload/secret/mock-plugin',
      { body: {}, token },
    );
    expect(allowed.status).toBe(200);
  });

  it('asks for sudo on sys/plugins/reload/:type/:name', async () => {
    await writePolicy(
      api,
      'reload-no-sudo',
      'path "sys/plugins/reload/*" { capabilities = ["update"] }',
    );
    const { token } = await createToken(api, { policies: ['reload-no-sudo'] });
    const answer = await api.call(
      'PUT',
      '/v1/sys/plugins/reload/secret/mock-plugin',
      { body: {}, token },
    );
    expect(answer.status).toBe(403);
    expect((await reloadMounts(api, token, ['custom-secrets'])).status).toBe(
      200,
    );
  });

  it('takes effect at once when a policy changes', async () => {
    await writePolicy(api, 'changing', RELOAD_ONLY);
    const { token } = await createToken(api, { policies: ['changing'] });
    expect((await reloadMounts(api, token, ['custom-secrets'])).status).toBe(
      200,
    );
    await writePolicy(
      api,
      'changing',
      'path "sys/mounts" { capabilities = ["read"] }',
    );
    expect((await reloadMounts(api, token, ['custom-secrets'])).status).toBe(
      403,
    );
    expect((await api.call('GET', '/v1/sys/mounts', { token })).status).toBe(
      200,
    );
  });
});

describe('the life of a token', () => {
  it('is refused at once when revoked, and so are the tokens it made', async () => {
    await writePolicy(
      api,
      'make-and-reload',
      `path "auth/token/create" { capabilities = ["update"] }
       path "sys/plugins/reload/backend" { capabilities = ["update"] }`,
    );
    const parent = await createToken(api, { policies: ['make-and-reload'] });
    const child = await createToken(
      api,
      { policies: ['make-and-reload'] },
      { as: parent.token },
    );
    expect(child.answer.status).toBe(200);
    expect((await reloadMounts(api, child.token, ['secret'])).status).toBe(200);

    const revoked = await api.call('POST', '/v1/auth/token/revoke', {
      body: { token: parent.token },
    });
    expect(revoked.status).toBe(204);
    for (const token of [parent.token, child.token]) {
      const answer = await reloadMounts(api, token, ['secret']);
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual(DENIED);
    }
  });

  it('leaves an orphan alone when its creator is revoked', async () => {
    await writePolicy(
      api,
      'token-maker',
      `path "auth/token/create" { capabilities = ["update", "sudo"] }
       path "sys/plugins/reload/backend" { capabilities = ["update"] }`,
    );
    const maker = await createToken(api, { policies: ['token-maker'] });
    const orphan = await createToken(
      api,
      { policies: ['token-maker'], no_parent: true },
      { as: maker.token },
    );
    expect(orphan.answer.body.auth).toMatchObject({ orphan: true });
    await api.call('POST', '/v1/auth/token/revoke', {
      body: { token: maker.token },
    });
    expect((await reloadMounts(api, orphan.token, ['secret'])).status).toBe(
      200,
    );
  });

  it('revokes itself with revoke-self', async () => {
    const { token } = await createToken(api, { policies: ['deploy'] });
    const answer = await api.call('POST', '/v1/auth/token/revoke-self', {
      token,
    });
    expect(answer.status).toBe(204);
    expect((await reloadMounts(api, token, ['secret'])).status).toBe(403);
  });

  it('is refused once its ttl has passed', async () => {
    const { token, auth } = await createToken(api, {
      policies: ['deploy'],
      ttl: '1s',
    });
    expect(auth).toMatchObject({ lease_duration: 1, renewable: false });
    await pause(1_200);
    const answer = await reloadMounts(api, token, ['secret']);
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual(DENIED);
  });

  it('works before its ttl has passed', async () => {
    const { token } = await createToken(api, {
      policies: ['deploy'],
      ttl: '30s',
    });
    const lookup = await api.call('GET', '/v1/auth/token/lookup-self', {
      token,
    });
    expect(lookup.body.data?.ttl).toBeGreaterThan(25);
    expect(lookup.body.data?.ttl).toBeLessThanOrEqual(30);
    expect((await reloadMounts(api, token, ['secret'])).status).toBe(200);
  });

  it('works once with num_uses=1', async () => {
    const { token, auth } = await createToken(api, {
      policies: ['deploy'],
      num_uses: 1,
    });
    expect(auth).toMatchObject({ num_uses: 1 });
    expect((await reloadMounts(api, token, ['secret'])).status).toBe(200);
    const second = await reloadMounts(api, token, ['secret']);
    expect(second.status).toBe(403);
    expect(second.body).toEqual(DENIED);
  });

  it('gives a num_uses=3 token three uses, even when they race', async () => {
    const { token } = await createToken(api, {
      policies: ['deploy'],
      num_uses: 3,
    });
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => reloadMounts(api, token, ['secret'])),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 200, 200, 403, 403, 403, 403, 403]);
  });

  it('cannot make tokens when its own uses are limited', async () => {
    await writePolicy(
      api,
      'limited-maker',
      'path "auth/token/create" { capabilities = ["update"] }',
    );
    const limited = await createToken(api, {
      policies: ['limited-maker'],
      num_uses: 5,
    });
    const child = await createToken(api, {}, { as: limited.token });
    expect(child.answer.status).toBe(400);
    expect(child.answer.body.errors).toEqual([
      'restricted use token cannot generate child tokens',
    ]);
  });
});

describe('the token endpoints', () => {
  it("answers create in Vault's shape, with warnings for missing policies", async () => {
    const { answer, token } = await createToken(api, {
      policies: ['deploy', 'Not-Yet'],
      display_name: 'ci pipeline',
      meta: { team: 'b' },
      ttl: '2h',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      lease_id: '',
      data: null,
      warnings: ['Policy "not-yet" does not exist'],
      auth: {
        accessor: expect.any(String),
        policies: ['default', 'deploy', 'not-yet'],
        token_policies: ['default', 'deploy', 'not-yet'],
        metadata: { team: 'b' },
        lease_duration: 7200,
        token_type: 'service',
        orphan: false,
        num_uses: 0,
      },
    });
    expect(token).toMatch(/^hvs\./);
    const lookup = await api.call('GET', '/v1/auth/token/lookup-self', {
      token,
    });
    expect(lookup.body.data).toMatchObject({
      display_name: 'token-ci-pipeline',
      meta: { team: 'b' },
      creation_ttl: 7200,
      path: 'auth/token/create',
    });
  });

  it('caps a ttl above 768h with a warning', async () => {
    const { answer } = await createToken(api, {
      policies: ['deploy'],
      ttl: '1000h',
    });
    expect(answer.body.auth).toMatchObject({ lease_duration: 768 * 3600 });
    expect(answer.body.warnings).toEqual([
      'TTL of "1000h0m0s" exceeded the effective max_ttl of "768h0m0s"; TTL value is capped accordingly',
    ]);
  });

  it('looks tokens up and revokes them by accessor', async () => {
    const { auth, token } = await createToken(api, { policies: ['deploy'] });
    const accessor = auth?.accessor;
    const lookup = await api.call('POST', '/v1/auth/token/lookup-accessor', {
      body: { accessor },
    });
    expect(lookup.status).toBe(200);
    expect(lookup.body.data).toMatchObject({ accessor, id: '' });
    const byToken = await api.call('POST', '/v1/auth/token/lookup', {
      body: { token },
    });
    expect(byToken.body.data).toMatchObject({ accessor });
    expect(byToken.text).not.toContain(token);

    const revoked = await api.call('POST', '/v1/auth/token/revoke-accessor', {
      body: { accessor },
    });
    expect(revoked.status).toBe(204);
    expect((await reloadMounts(api, token, ['secret'])).status).toBe(403);
    const again = await api.call('POST', '/v1/auth/token/lookup-accessor', {
      body: { accessor },
    });
    expect(again.status).toBe(400);
    expect(again.body.errors).toEqual(['invalid accessor']);
    const gone = await api.call('POST', '/v1/auth/token/lookup', {
      body: { token },
    });
    expect(gone.status).toBe(403);
    expect(gone.body.errors).toEqual(['bad token']);
  });

  it('only lets a token hand out policies it holds', async () => {
    await writePolicy(
      api,
      'maker',
      'path "auth/token/create" { capabilities = ["update"] }',
    );
    const maker = await createToken(api, { policies: ['maker'] });
    const wider = await createToken(
      api,
      { policies: ['deploy'] },
      { as: maker.token },
    );
    expect(wider.answer.status).toBe(400);
    expect(wider.answer.body.errors).toEqual([
      'child policies must be subset of parent',
    ]);
    const orphan = await createToken(
      api,
      { no_parent: true },
      { as: maker.token },
    );
    expect(orphan.answer.body.errors).toEqual([
      'root or sudo privileges required to create orphan token',
    ]);
    const root = await createToken(
      api,
      { policies: ['root'] },
      { as: maker.token },
    );
    expect(root.answer.status).toBe(400);
    const same = await createToken(
      api,
      { policies: ['maker'] },
      { as: maker.token },
    );
    expect(same.answer.status).toBe(200);
  });

  it('refuses bad input with a 400 that changes nothing', async () => {
    const cases = [
      [{ ttl: 'soon' }, /ttl/],
      [{ ttl: '-5s' }, /ttl must be positive/],
      [{ num_uses: -1 }, /number of uses cannot be negative/],
      [{ policies: 42 }, /policies/],
      [{ meta: { a: 1 } }, /meta/],
      [{ type: 'batch' }, /batch tokens are not supported/],
      [{ period: '1h' }, /periodic tokens are not supported/],
    ] as const;
    for (const [body, message] of cases) {
      const { answer } = await createToken(api, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.errors?.join(' ')).toMatch(message);
    }
  });

  it('answers an unknown, missing or malformed token with the same 403', async () => {
    for (const token of [null, 'hvs.nope', ' ', 'x'.repeat(5000)]) {
      const answer = await api.call('GET', '/v1/auth/token/lookup-self', {
        token,
      });
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual(DENIED);
    }
  });

  it('keeps the token out of an answer even when it is put in the path', async () => {
    const { token } = await createToken(api, { policies: ['deploy'] });
    const answer = await api.call('GET', `/v1/auth/token/lookup/${token}`);
    expect(answer.status).toBe(404);
    expect(answer.text).not.toContain(token);
  });
});

describe('what a guess costs', () => {
  it('reads one item per wrong token, writes nothing, and lets the real caller through', async () => {
    const sent = recordOperations(api.catalog);
    const guesses = Array.from({ length: 40 }, (_, index) =>
      reloadMounts(api, `hvs.guess-${index}`, ['secret'], 'team-b'),
    );
    const real = reloadMounts(api, ROOT_TOKEN, ['secret'], 'team-b');
    const answers = await Promise.all(guesses);
    expect(answers.every((answer) => answer.status === 403)).toBe(true);
    expect((await real).status).toBe(200);

    // The real reload costs two reads (token, then namespace) and one
    // transaction; each guess one read and nothing else.
    const reads = sent.filter((operation) => operation === 'BatchGetItem');
    const writes = sent.filter((operation) => operation !== 'BatchGetItem');
    expect(reads).toHaveLength(40 + 3);
    expect(writes).toEqual(['TransactWriteItems']);
  });
});

describe('the stored token', () => {
  it('holds no token in clear, only its keyed hash', async () => {
    const { token, auth } = await createToken(api, {
      policies: ['deploy'],
      id: 'my-chosen-token-value',
    });
    expect(token).toBe('my-chosen-token-value');
    const scan = await api.catalog.client.send(
      new ScanCommand({ TableName: api.catalog.tableName }),
    );
    const items = scan.Items ?? [];
    const stored = items.find(
      (item) => item.accessor === auth?.accessor && item.sk === 'TOKEN',
    );
    expect(stored?.pk).toBe(`TOKEN#${tokenDigest(token, HMAC_KEY)}`);
    expect(stored?.pk).not.toBe(`TOKEN#${tokenDigest(token)}`);
    const everything = JSON.stringify(items);
    for (const value of [token, ROOT_TOKEN]) {
      expect(everything).not.toContain(value);
    }
  });
});

describe('the older reload path', () => {
  it('is governed by the rules of sys/plugins/reload/backend', async () => {
    const { token } = await createToken(api, { policies: ['deploy'] });
    const answer = await api.call('PUT', '/v1/sys/plugins/backend/reload', {
      body: { mounts: ['secret'] },
      token,
    });
    expect(answer.status).toBe(204);
  });
});
