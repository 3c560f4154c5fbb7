import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PluginWatcher,
  type ReloadEvent,
} from '../../functions/worker/watcher.js';
import { movedBetween, type RunningApi, startApi } from '../support/api.js';
import { eventually, refusalOf, vaultClient } from './support.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let api: RunningApi;
let vault: ReturnType<typeof vaultClient>;
const stop = new AbortController();
const running: Promise<void>[] = [];

beforeAll(async () => {
  api = await startApi();
  vault = vaultClient(api);
});
afterAll(async () => {
  stop.abort();
  await Promise.all(running);
  await api.close();
});

const reload = (mounts: string[]) =>
  vault.write('sys/plugins/reload/backend', { mounts });

describe('enabling mounts', () => {
  it('reads kv-v2 as the kv engine at version 2, reporting its builtin version', async () => {
    const answer = await api.call('POST', '/v1/sys/mounts/kv-two', {
      body: { type: 'kv-v2', description: 'second kv' },
    });
    expect(answer.status).toBe(204);
    const mount = await vault.read('sys/mounts/kv-two');
    expect(mount.data).toMatchObject({
      type: 'kv',
      options: { version: '2' },
      plugin_version: '',
      running_plugin_version: 'v0.19.0+builtin',
      deprecation_status: 'supported',
      local: false,
      seal_wrap: false,
      config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
    });
    expect(mount.data.uuid).toMatch(UUID);
  });

  it('takes a KV version in options, and refuses one for other engines', async () => {
    await vault.mount({
      mount_point: 'kv-three',
      type: 'kv',
      options: { version: 2 },
    });
    expect((await vault.read('sys/mounts/kv-three')).data.options).toEqual({
      version: '2',
    });
    const refusal = await refusalOf(
      vault.mount({
        mount_point: 'pki-2',
        type: 'pki',
        options: { version: '2' },
      }),
    );
    expect(refusal.errors).toEqual([
      'secrets engine "pki" does not allow setting a version',
    ]);
  });

  it('takes the newest registered version when none is named, as Vault does', async () => {
    await vault.mount({ mount_point: 'mock-newest', type: 'mock-plugin' });
    const mount = await vault.read('sys/mounts/mock-newest');
    expect(mount.data.plugin_version).toBe('v1.0.1');
    // Nothing runs it until a worker says so.
    expect(mount.data.running_plugin_version).toBe('');
  });

  it('takes the plugin named in config for type plugin, as older clients send it', async () => {
    await vault.mount({
      mount_point: 'by-name',
      type: 'plugin',
      config: { plugin_name: 'mock-plugin', plugin_version: 'v1.0.0' },
    });
    const mount = await vault.read('sys/mounts/by-name');
    expect(mount.data).toMatchObject({
      type: 'mock-plugin',
      plugin_version: 'v1.0.0',
    });
  });

  it('warns of fields it does not know, as Vault does, and still enables', async () => {
    const answer = await api.call('POST', '/v1/sys/mounts/with-extra', {
      body: { type: 'kv', colour: 'blue' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.warnings).toEqual([
      'Endpoint ignored these unrecognized parameters: [colour]',
    ]);
  });

  it('enables an auth method with its token type, and reads it back', async () => {
    await vault.enableAuth({
      mount_point: 'ldap-2',
      type: 'ldap',
      description: 'second directory',
      config: { token_type: 'batch' },
    });
    const mount = await vault.read('sys/auth/ldap-2');
    expect(mount.data).toMatchObject({
      type: 'ldap',
      description: 'second directory',
      config: { token_type: 'batch' },
      reload_generation: 0,
    });
    const tune = await vault.read('sys/auth/ldap-2/tune');
    expect(tune.data).toMatchObject({
      token_type: 'batch',
      default_lease_ttl: 2764800,
      max_lease_ttl: 2764800,
    });
    // Vault also answers an auth mount's tune under sys/mounts/auth/.
    const again = await vault.read('sys/mounts/auth/ldap-2/tune');
    expect(again.data).toEqual(tune.data);
  });
});

describe('tuning without a version change', () => {
  it('changes the entry and moves no generation', async () => {
    const before = await api.generations();
    const answer = await api.call('POST', '/v1/sys/mounts/secret/tune', {
      body: {
        description: 'tuned',
        default_lease_ttl: '30m',
        options: { version: '2' },
      },
    });
    expect(answer.status).toBe(204);
    expect(movedBetween(before, await api.generations())).toEqual({});
    const mount = await vault.read('sys/mounts/secret');
    expect(mount.data).toMatchObject({
      description: 'tuned',
      config: { default_lease_ttl: 1800 },
      options: { version: '2' },
    });
  });

  it('refuses to take kv back to version 1', async () => {
    const refusal = await refusalOf(
      vault.write('sys/mounts/secret/tune', { options: { version: '1' } }),
    );
    expect(refusal.errors).toEqual(['cannot downgrade mount from version 2']);
  });
});

describe('moving a mount', () => {
  it('moves it with its generation, and reports the move as done', async () => {
    await reload(['artifacts']);
    await reload(['artifacts']);
    const moved = await vault.remount({
      from: 'artifacts',
      to: 'moved/artifacts',
    });
    expect(moved.data.migration_id).toMatch(UUID);
    expect(moved.warnings).toEqual([
      `Mount move has completed; its status is at sys/remount/status/${moved.data.migration_id}`,
    ]);
    const status = await vault.read(
      `sys/remount/status/${moved.data.migration_id}`,
    );
    expect(status.data).toEqual({
      migration_id: moved.data.migration_id,
      migration_info: {
        source_mount: 'artifacts/',
        target_mount: 'moved/artifacts/',
        status: 'success',
      },
    });
    const mount = await vault.read('sys/mounts/moved/artifacts');
    expect(mount.data).toMatchObject({
      type: 'artifactory-secrets-plugin',
      reload_generation: 2,
    });
    const old = await api.call('GET', '/v1/sys/mounts/artifacts');
    expect(old.status).toBe(404);
    // The plugin index follows the mount: a reload by plugin finds it.
    const byPlugin = await vault.write('sys/plugins/reload/backend', {
      plugin: 'artifactory-secrets-plugin',
    });
    expect(byPlugin.data.reload_id).toMatch(UUID);
    expect((await vault.read('sys/mounts/moved/artifacts')).data).toMatchObject(
      { reload_generation: 3 },
    );
  });

  it('moves an auth mount within the auth table', async () => {
    await vault.remount({ from: 'auth/userpass', to: 'auth/people' });
    const auth = await vault.auths();
    expect(Object.keys(auth.data)).toContain('people/');
    expect(Object.keys(auth.data)).not.toContain('userpass/');
  });

  it('answers 404 for a migration id it does not know', async () => {
    const answer = await api.call(
      'GET',
      '/v1/sys/remount/status/3f1d2c4b-0000-4000-8000-000000000000',
    );
    expect(answer.status).toBe(404);
  });
});

describe('disabling a mount and enabling one at its path again', () => {
  it('starts the new mount above what workers saw of the old one, so they reload it', async () => {
    await vault.mount({ mount_point: 'scratch', type: 'mock-plugin' });
    const reloads: ReloadEvent[] = [];
    const watcher = new PluginWatcher({
      catalog: api.catalog,
      workerId: 'scratch-worker',
      mounts: ['scratch/'],
      intervalMs: 50,
      onReload: (event) => {
        reloads.push(event);
      },
    });
    running.push(watcher.run(stop.signal));
    await reload(['scratch']);
    await eventually(async () => (reloads.length === 1 ? true : undefined));

    await vault.unmount({ mount_point: 'scratch' });
    const gone = await api.call('GET', '/v1/sys/mounts/scratch');
    expect(gone.status).toBe(404);
    await vault.mount({ mount_point: 'scratch', type: 'mock-plugin' });
    const mount = await vault.read('sys/mounts/scratch');
    expect(mount.data.reload_generation).toBe(2);
    await eventually(async () => (reloads.length === 2 ? true : undefined));
    expect(reloads[1]).toMatchObject({ path: 'scratch/', generation: 2 });
  });
});
