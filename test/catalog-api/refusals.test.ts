import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../support/api.js';
import { refusalOf, scanTable, sha256Of, vaultClient } from './support.js';

let api: RunningApi;
let vault: ReturnType<typeof vaultClient>;

beforeAll(async () => {
  api = await startApi();
  vault = vaultClient(api);
  // A pin, so that removing a pinned version can be refused too.
  await vault.write('sys/plugins/pins/secret/mock-plugin', {
    version: 'v1.0.1',
    skip_reload: true,
  });
});
afterAll(() => api.close());

type Client = ReturnType<typeof vaultClient>;

/**
 * Requests the API refuses, with Vault's words for each (or, where Vault
 * has none, words in its manner), and the status.
 */
const REFUSALS: Array<[string, (vault: Client) => Promise<unknown>, string]> = [
  [
    'a mount under an existing mount',
    (vault) => vault.mount({ mount_point: 'custom-secrets/inner', type: 'kv' }),
    'path is already in use at custom-secrets/',
  ],
  [
    'a mount above an existing mount',
    (vault) => vault.mount({ mount_point: 'team-a', type: 'kv' }),
    'path is already in use at team-a/secrets/',
  ],
  [
    'a mount at an existing path',
    (vault) => vault.mount({ mount_point: 'secret/', type: 'kv' }),
    'path is already in use at secret/',
  ],
  [
    'a mount at sys/',
    (vault) => vault.mount({ mount_point: 'sys', type: 'kv' }),
    'cannot mount "sys/"',
  ],
  [
    'a mount under auth/',
    (vault) => vault.mount({ mount_point: 'auth/mine', type: 'kv' }),
    'cannot mount "auth/mine/"',
  ],
  [
    'a second cubbyhole',
    (vault) => vault.mount({ mount_point: 'cubby2', type: 'cubbyhole' }),
    'mount type of "cubbyhole" is not mountable',
  ],
  [
    'a second token auth method',
    (vault) => vault.enableAuth({ mount_point: 'token2', type: 'token' }),
    'token credential backend cannot be instantiated',
  ],
  [
    'a mount of an unknown type',
    (vault) => vault.mount({ mount_point: 'nope', type: 'no-such-plugin' }),
    'plugin not found in the catalog: no-such-plugin',
  ],
  [
    'an auth mount of a secrets plugin',
    (vault) => vault.enableAuth({ mount_point: 'kv', type: 'kv' }),
    'plugin not found in the catalog: kv',
  ],
  [
    'a mount at a version that is not registered',
    (vault) =>
      vault.mount({
        mount_point: 'mock-9',
        type: 'mock-plugin',
        config: { plugin_version: 'v9.9.9' },
      }),
    'plugin not found in the catalog: mock-plugin, version=v9.9.9',
  ],
  [
    'a mount at a version that is not a version',
    (vault) =>
      vault.mount({
        mount_point: 'mock-x',
        type: 'mock-plugin',
        config: { plugin_version: 'latest' },
      }),
    'version "latest" is not a valid semantic version: Malformed version: latest',
  ],
  [
    'a builtin plugin at another version',
    (vault) =>
      vault.mount({
        mount_point: 'kv-new',
        type: 'kv',
        config: { plugin_version: 'v9.0.0' },
      }),
    'cannot select non-builtin version of secrets plugin kv',
  ],
  [
    'a mount without a type',
    (vault) => vault.mount({ mount_point: 'untyped' }),
    'backend type must be specified as a string',
  ],
  [
    'disabling sys/',
    (vault) => vault.unmount({ mount_point: 'sys' }),
    'cannot unmount "sys/"',
  ],
  [
    'disabling the token auth method',
    (vault) => vault.disableAuth({ mount_point: 'token' }),
    'token credential backend cannot be disabled',
  ],
  [
    'deregistering a version in use',
    (vault) =>
      vault.delete('sys/plugins/catalog/auth/mock-auth-plugin?version=v2.3.0'),
    'cannot deregister auth plugin mock-auth-plugin v2.3.0: it is in use by mount auth/oidc-custom/',
  ],
  [
    'deregistering a pinned version',
    (vault) =>
      vault.delete('sys/plugins/catalog/secret/mock-plugin?version=v1.0.1'),
    'cannot delete a pinned version',
  ],
  [
    'deregistering a builtin plugin',
    (vault) =>
      vault.delete('sys/plugins/catalog/secret/kv?version=v0.19.0%2Bbuiltin'),
    'version "v0.19.0+builtin" cannot be deleted',
  ],
  [
    'registering a malformed sha256',
    (vault) =>
      vault.write('sys/plugins/catalog/secret/new-plugin', {
        sha256: 'not-hex',
        command: 'new-plugin',
      }),
    "Could not decode SHA256 value from Hex not-hex: encoding/hex: invalid byte: U+006E 'n'",
  ],
  [
    'registering a sha256 of the wrong length',
    (vault) =>
      vault.write('sys/plugins/catalog/secret/new-plugin', {
        sha256: 'abcd',
        command: 'new-plugin',
      }),
    'a SHA256 value is 64 hex characters, got 4',
  ],
  [
    'registering without a sha256',
    (vault) =>
      vault.write('sys/plugins/catalog/secret/new-plugin', {
        command: 'new-plugin',
      }),
    'missing SHA-256 value',
  ],
  [
    'registering without a command',
    (vault) =>
      vault.write('sys/plugins/catalog/secret/new-plugin', {
        sha256: sha256Of('new-plugin'),
      }),
    'missing command value',
  ],
  [
    'registering a builtin version',
    (vault) =>
      vault.write('sys/plugins/catalog/secret/kv', {
        sha256: sha256Of('kv'),
        command: 'kv',
        version: 'v1.0.0+builtin',
      }),
    `version "v1.0.0+builtin" is not allowed because 'builtin' is a reserved metadata identifier`,
  ],
  [
    'registering a plugin of an unknown type',
    (vault) =>
      vault.write('sys/plugins/catalog/widget/new-plugin', {
        sha256: sha256Of('new-plugin'),
        command: 'new-plugin',
      }),
    '"widget" is not a supported plugin type',
  ],
  [
    'pinning a version that is not registered',
    (vault) =>
      vault.write('sys/plugins/pins/secret/mock-plugin', {
        version: 'v3.0.0',
      }),
    'plugin not found in the catalog; secret plugin "mock-plugin" version v3.0.0 does not exist',
  ],
  [
    'pinning a builtin version',
    (vault) =>
      vault.write('sys/plugins/pins/secret/kv', {
        version: 'v0.19.0+builtin',
      }),
    'cannot pin a builtin version: v0.19.0+builtin',
  ],
  [
    'tuning a mount to a version that is not registered',
    (vault) =>
      vault.write('sys/mounts/artifacts/tune', { plugin_version: 'v0.3.0' }),
    'plugin not found in the catalog: artifactory-secrets-plugin, version=v0.3.0',
  ],
  [
    'tuning a mount that does not exist',
    (vault) => vault.write('sys/mounts/nope/tune', { description: 'x' }),
    'tune of path "nope/" failed: no mount entry found',
  ],
  [
    'tuning sys/',
    (vault) => vault.write('sys/mounts/sys/tune', { description: 'mine' }),
    'cannot tune parameter description of sys/',
  ],
  [
    'tuning a max lease TTL below the default one',
    (vault) =>
      vault.write('sys/mounts/secret/tune', {
        default_lease_ttl: '2h',
        max_lease_ttl: '1h',
      }),
    'backend max lease TTL of 3600 would be less than backend default lease TTL of 7200',
  ],
  [
    'moving a mount onto another',
    (vault) => vault.remount({ from: 'pki', to: 'secret' }),
    'path already in use at "secret/"',
  ],
  [
    'moving a mount that does not exist',
    (vault) => vault.remount({ from: 'nope', to: 'elsewhere' }),
    'no matching mount at "nope/"',
  ],
  [
    'moving an auth mount out of the auth table',
    (vault) => vault.remount({ from: 'auth/userpass', to: 'userpass' }),
    'cannot remount auth mount to non-auth mount "userpass/"',
  ],
  [
    'moving sys/',
    (vault) => vault.remount({ from: 'sys', to: 'system' }),
    'cannot remount "sys/"',
  ],
];

describe('refusals, in Vault words, that leave the catalog as it was', () => {
  it.each(REFUSALS)('refuses %s', async (_name, request, message) => {
    const before = await scanTable(api.catalog);
    const refusal = await refusalOf(request(vault));
    expect(refusal).toEqual({ status: 400, errors: [message] });
    expect(await scanTable(api.catalog)).toEqual(before);
  });

  it('answers 204 and changes nothing for a mount that is not there', async () => {
    const before = await scanTable(api.catalog);
    await vault.unmount({ mount_point: 'never-was' });
    await vault.delete('sys/plugins/catalog/secret/never-was?version=v1.0.0');
    expect(await scanTable(api.catalog)).toEqual(before);
  });
});
