import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../support/api.js';
import { createToken, inNamespace, reloadMounts } from './support.js';

let api: RunningApi;

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

const HCL = `# the deploy pipeline of team B
path "sys/plugins/reload/backend" {
  capabilities = ["update"]
}
`;

describe('sys/policies/acl', () => {
  it('stores HCL and gives back the same text', async () => {
    const written = await api.call('PUT', '/v1/sys/policies/acl/Deploy', {
      body: { policy: HCL },
    });
    expect(written.status).toBe(204);
    const read = await api.call('GET', '/v1/sys/policies/acl/deploy');
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual({ name: 'deploy', policy: HCL });
  });

  it('takes the JSON form and base64, as Vault does', async () => {
    const json = JSON.stringify({
      path: { 'sys/mounts': { capabilities: ['read'] } },
    });
    const written = await api.call('POST', '/v1/sys/policies/acl/reader', {
      body: { policy: Buffer.from(json).toString('base64') },
    });
    expect(written.status).toBe(204);
    const { token } = await createToken(api, { policies: ['reader'] });
    expect((await api.call('GET', '/v1/sys/mounts', { token })).status).toBe(
      200,
    );
    expect((await reloadMounts(api, token, ['secret'])).status).toBe(403);
  });

  it('lists with ?list=true, default and root included', async () => {
    const answer = await api.call('GET', '/v1/sys/policies/acl?list=true');
    expect(answer.status).toBe(200);
    expect(answer.body.data?.keys).toEqual(
      expect.arrayContaining(['default', 'deploy', 'reader', 'root']),
    );
    const plain = await api.call('GET', '/v1/sys/policies/acl');
    expect(plain.status).toBe(405);
  });

  it('keeps each namespace to its own policies', async () => {
    await api.call('PUT', '/v1/sys/policies/acl/only-b', {
      body: { policy: HCL },
      headers: inNamespace('team-b'),
    });
    const inB = await api.call('GET', '/v1/team-b/sys/policies/acl?list=true');
    expect(inB.body.data?.keys).toEqual(['default', 'only-b']);
    const inRoot = await api.call('GET', '/v1/sys/policies/acl/only-b');
    expect(inRoot.status).toBe(404);
  });

  it('refuses malformed policy text with a 400 and stores nothing', async () => {
    const answer = await api.call('PUT', '/v1/sys/policies/acl/broken', {
      body: { policy: 'path "sys/mounts" { capabilities = ["read" }' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]).toMatch(/^failed to parse policy: At 1:/);
    const read = await api.call('GET', '/v1/sys/policies/acl/broken');
    expect(read.status).toBe(404);
    expect(read.body).toEqual({ errors: [] });
  });

  it.each([
    [{}, "'policy' parameter not supplied or empty"],
    [{ policy: '' }, "'policy' parameter not supplied or empty"],
    [{ policy: 7 }, 'invalid value for "policy": expected a string'],
  ])('refuses %j', async (body, message) => {
    const answer = await api.call('PUT', '/v1/sys/policies/acl/x', { body });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([message]);
  });

  it('protects the root and default policies as Vault does', async () => {
    const writeRoot = await api.call('PUT', '/v1/sys/policies/acl/root', {
      body: { policy: HCL },
    });
    expect(writeRoot.body.errors).toEqual(['cannot update "root" policy']);
    for (const name of ['root', 'default']) {
      const answer = await api.call('DELETE', `/v1/sys/policies/acl/${name}`);
      expect(answer.status).toBe(400);
      expect(answer.body.errors).toEqual([`cannot delete "${name}" policy`]);
    }
    const defaultPolicy = await api.call('GET', '/v1/sys/policies/acl/default');
    expect(defaultPolicy.body.data?.policy).toContain('auth/token/lookup-self');
  });

  it('deletes a policy, and its tokens lose what it granted', async () => {
    await api.call('PUT', '/v1/sys/policies/acl/short-lived', {
      body: { policy: HCL },
    });
    const { token } = await createToken(api, { policies: ['short-lived'] });
    expect((await reloadMounts(api, token, ['secret'])).status).toBe(200);
    const deleted = await api.call(
      'DELETE',
      '/v1/sys/policies/acl/short-lived',
    );
    expect(deleted.status).toBe(204);
    expect((await reloadMounts(api, token, ['secret'])).status).toBe(403);
  });
});

describe('the older sys/policy', () => {
  it('writes with rules, reads rules back and lists policies beside keys', async () => {
    const written = await api.call('PUT', '/v1/sys/policy/legacy', {
      body: { rules: HCL },
    });
    expect(written.status).toBe(200);
    expect(written.body.warnings).toEqual([
      "'rules' is deprecated, please use 'policy' instead",
    ]);
    const read = await api.call('GET', '/v1/sys/policy/legacy');
    expect(read.body).toMatchObject({
      name: 'legacy',
      rules: HCL,
      data: { name: 'legacy', rules: HCL },
    });
    const list = await api.call('GET', '/v1/sys/policy');
    expect(list.body.policies).toEqual(list.body.keys);
    expect(list.body.data?.policies).toContain('legacy');
  });
});

describe('who may manage policies', () => {
  it('needs the capabilities of each method on the policy path', async () => {
    await api.call('PUT', '/v1/sys/policies/acl/policy-reader', {
      body: {
        policy: 'path "sys/policies/acl/*" { capabilities = ["read", "list"] }',
      },
    });
    const { token } = await createToken(api, { policies: ['policy-reader'] });
    expect(
      (await api.call('GET', '/v1/sys/policies/acl/deploy', { token })).status,
    ).toBe(200);
    expect(
      (await api.call('GET', '/v1/sys/policies/acl?list=true', { token }))
        .status,
    ).toBe(200);
    const write = await api.call('PUT', '/v1/sys/policies/acl/deploy', {
      body: { policy: 'path "sys/*" { capabilities = ["sudo"] }' },
      token,
    });
    expect(write.status).toBe(403);
    // A missing policy is a 403 too, not a 404, for a caller who may not
    // read it.
    const { token: nobody } = await createToken(api, { policies: ['deploy'] });
    const hidden = await api.call('GET', '/v1/sys/policies/acl/nope', {
      token: nobody,
    });
    expect(hidden.status).toBe(403);
  });
});
