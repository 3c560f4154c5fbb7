import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../support/api.js';
import { refusalOf, scanTable, sha256Of, vaultClient } from './support.js';

let api: RunningApi;
let vault: ReturnType<typeof vaultClient>;

beforeAll(async () => {
  api = await startApi();
  vault = vaultClient(api);
});
afterAll(() => api.close());

type Detail = { name: string; type: string; version: string; builtin: boolean };

const detailed = async () =>
  (await vault.read('sys/plugins/catalog')).data.detailed as Detail[];

describe('the plugin catalog', () => {
  it("lists each type's names and every version in detailed, builtins included", async () => {
    const answer = await vault.read('sys/plugins/catalog');
    expect(answer.data.secret).toEqual([
      'artifactory-secrets-plugin',
      'database',
      'kv',
      'mock-plugin',
      'orphan-plugin',
      'pki',
    ]);
    expect(answer.data.database).toEqual([
      'my-db-plugin',
      'postgresql-database-plugin',
    ]);
    expect(
      answer.data.detailed.filter((plugin: Detail) => plugin.name === 'kv'),
    ).toEqual([
      {
        name: 'kv',
        type: 'secret',
        version: 'v0.19.0+builtin',
        builtin: true,
        deprecation_status: 'supported',
      },
    ]);
    const versions = answer.data.detailed
      .filter((plugin: Detail) => plugin.name === 'mock-plugin')
      .map((plugin: Detail) => plugin.version);
    expect(versions).toEqual(['v1.0.0', 'v1.0.1']);
  });

  it('lists the names of one type with GET ?list=true, as API Gateway passes it', async () => {
    const answer = await api.call(
      'GET',
      '/v1/sys/plugins/catalog/auth?list=true',
    );
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({
      keys: ['ldap', 'mock-auth-plugin', 'userpass'],
    });
    // node-vault without custom verbs sends ?list=1.
    expect((await vault.list('sys/plugins/catalog/auth')).data.keys).toEqual([
      'ldap',
      'mock-auth-plugin',
      'userpass',
    ]);
  });

  it('reads a builtin plugin, which has no command', async () => {
    const answer = await vault.read('sys/plugins/catalog/secret/kv');
    expect(answer.data).toEqual({
      name: 'kv',
      args: [],
      command: '',
      sha256: '',
      builtin: true,
      version: 'v0.19.0+builtin',
      deprecation_status: 'supported',
    });
  });

  it('answers 404 for a plugin or version that is not registered', async () => {
    const missing = await api.call(
      'GET',
      '/v1/sys/plugins/catalog/secret/mock-plugin?version=v7.0.0',
    );
    expect(missing.status).toBe(404);
    expect(missing.body.errors).toEqual([
      'no secret plugin mock-plugin v7.0.0 in the catalog',
    ]);
  });

  it('stores a SHA-256 written in capitals in lower case, and replaces a version registered again', async () => {
    const path = 'sys/plugins/catalog/secret/acme';
    await vault.write(path, {
      sha256: sha256Of('first').toUpperCase(),
      command: 'acme',
      version: 'v2.0.0',
    });
    expect((await vault.read(`${path}?version=v2.0.0`)).data.sha256).toBe(
      sha256Of('first'),
    );
    await vault.write(path, {
      sha256: sha256Of('second'),
      command: 'acme',
      args: ['--fast'],
      version: 'v2.0.0',
    });
    const read = await vault.read(`${path}?version=v2.0.0`);
    expect(read.data).toMatchObject({
      sha256: sha256Of('second'),
      args: ['--fast'],
    });
    expect(
      (await detailed()).filter((plugin) => plugin.name === 'acme'),
    ).toHaveLength(1);
  });

  it('hides a builtin behind an unversioned plugin of the same name, as Vault does', async () => {
    await vault.write('sys/plugins/catalog/auth/userpass', {
      sha256: sha256Of('userpass fork'),
      command: 'userpass-fork',
    });
    const userpass = (await detailed()).filter(
      (plugin) => plugin.name === 'userpass',
    );
    expect(userpass).toEqual([
      {
        name: 'userpass',
        type: 'auth',
        version: '',
        builtin: false,
        sha256: sha256Of('userpass fork'),
      },
    ]);
    expect(
      (await vault.read('sys/plugins/catalog/auth/userpass')).data,
    ).toMatchObject({ builtin: false, command: 'userpass-fork' });
  });

  it('deregisters a version no mount runs', async () => {
    await vault.delete(
      'sys/plugins/catalog/secret/orphan-plugin?version=v0.1.0',
    );
    expect(
      (await detailed()).some((plugin) => plugin.name === 'orphan-plugin'),
    ).toBe(false);
  });

  it('names every mount, in every namespace, that still runs a version', async () => {
    const before = await scanTable(api.catalog);
    const refusal = await refusalOf(
      vault.delete('sys/plugins/catalog/secret/mock-plugin?version=v1.0.1'),
    );
    expect(refusal).toEqual({
      status: 400,
      errors: [
        'cannot deregister secret plugin mock-plugin v1.0.1: it is in use by mounts custom-secrets/, team-a/secrets/, team-b/custom-secrets/',
      ],
    });
    expect(await scanTable(api.catalog)).toEqual(before);
  });

  it('answers 404 for a pin that is not set, and 204 for removing one', async () => {
    const pin = await api.call('GET', '/v1/sys/plugins/pins/secret/kv');
    expect(pin.status).toBe(404);
    const removed = await api.call('DELETE', '/v1/sys/plugins/pins/secret/kv');
    expect(removed.status).toBe(204);
    const pins = await api.call('GET', '/v1/sys/plugins/pins?list=true');
    expect(pins.body.data).toEqual({ pinned_versions: [] });
  });
});
