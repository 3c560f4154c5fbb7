import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { targetVersionOf } from '../../functions/catalog/effective-version.js';
import { getMount } from '../../functions/catalog/mounts.js';
import {
  PluginWatcher,
  type ReloadEvent,
} from '../../functions/worker/watcher.js';
import { movedBetween, type RunningApi, startApi } from '../support/api.js';
import { eventually, sha256Of, vaultClient } from './support.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let api: RunningApi;
let vault: ReturnType<typeof vaultClient>;
let teamB: ReturnType<typeof vaultClient>;
let watcher: PluginWatcher;
const stop = new AbortController();
let running: Promise<void>;
const reloads: ReloadEvent[] = [];

/** All generations, root and team-b, keyed as `team-b/acme-b/`. */
const allGenerations = async () => ({
  ...(await api.generations()),
  ...Object.fromEntries(
    Object.entries(await api.generations('team-b')).map(([path, value]) => [
      `team-b/${path}`,
      value,
    ]),
  ),
});

const register = (type: string, version: string) =>
  vault.write(`sys/plugins/catalog/${type}/acme`, {
    sha256: sha256Of(`${type} acme ${version}`),
    command: 'vault-plugin-acme',
    version,
  });

beforeAll(async () => {
  api = await startApi();
  vault = vaultClient(api);
  teamB = vaultClient(api, 'team-b');
});

afterAll(async () => {
  stop.abort();
  await running;
  await api.close();
});

describe('managing a plugin through the API with node-vault', () => {
  it('registers a plugin at two versions, side by side', async () => {
    for (const type of ['secret', 'auth']) {
      await register(type, 'v1.0.0');
      await register(type, '1.1.0');
    }
    const catalog = await vault.read('sys/plugins/catalog');
    const acme = (catalog.data.detailed as Record<string, unknown>[]).filter(
      (plugin) => plugin.name === 'acme',
    );
    expect(acme).toEqual([
      {
        name: 'acme',
        type: 'auth',
        version: 'v1.0.0',
        builtin: false,
        sha256: sha256Of('auth acme v1.0.0'),
      },
      {
        name: 'acme',
        type: 'auth',
        version: 'v1.1.0',
        builtin: false,
        sha256: sha256Of('auth acme 1.1.0'),
      },
      {
        name: 'acme',
        type: 'secret',
        version: 'v1.0.0',
        builtin: false,
        sha256: sha256Of('secret acme v1.0.0'),
      },
      {
        name: 'acme',
        type: 'secret',
        version: 'v1.1.0',
        builtin: false,
        sha256: sha256Of('secret acme 1.1.0'),
      },
    ]);
    const names = await vault.list('sys/plugins/catalog/secret');
    expect(names.data.keys).toContain('acme');
    const one = await vault.read(
      'sys/plugins/catalog/secret/acme?version=v1.1.0',
    );
    expect(one.data).toMatchObject({
      name: 'acme',
      version: 'v1.1.0',
      command: 'vault-plugin-acme',
      builtin: false,
    });
  });

  it('enables a secrets mount and an auth mount of it at the first version', async () => {
    await vault.mount({
      mount_point: 'acme',
      type: 'acme',
      description: 'acme secrets',
      config: { plugin_version: 'v1.0.0', default_lease_ttl: '1h' },
    });
    await vault.enableAuth({
      mount_point: 'acme',
      type: 'acme',
      config: { plugin_version: 'v1.0.0' },
    });
    await teamB.mount({
      mount_point: 'acme-b',
      type: 'acme',
      config: { plugin_version: 'v1.0.0' },
    });
    const mount = await vault.read('sys/mounts/acme');
    expect(mount.data).toMatchObject({
      type: 'acme',
      description: 'acme secrets',
      plugin_version: 'v1.0.0',
      reload_generation: 0,
      config: { default_lease_ttl: 3600, max_lease_ttl: 0 },
    });
    expect(mount.data.accessor).toMatch(/^acme_[0-9a-f]{8}$/);
    const auth = await vault.auths();
    expect(auth.data['acme/']).toMatchObject({
      type: 'acme',
      plugin_version: 'v1.0.0',
      reload_generation: 0,
    });
    expect(auth.data['acme/'].accessor).toMatch(/^auth_acme_[0-9a-f]{8}$/);
  });

  it('starts a worker that serves the three mounts', async () => {
    watcher = new PluginWatcher({
      catalog: api.catalog,
      workerId: 'acme-worker',
      mounts: ['acme/', 'auth/acme/', { path: 'acme-b/', namespace: 'team-b' }],
      intervalMs: 50,
      onReload: (event) => {
        reloads.push(event);
      },
    });
    running = watcher.run(stop.signal);
    // Until the worker acknowledges, nothing is known to run.
    await eventually(async () => {
      const mount = await vault.read('sys/mounts/acme');
      return mount.data.running_plugin_version === 'v1.0.0' || undefined;
    });
    const mount = await vault.read('sys/mounts/acme');
    expect(mount.data.running_sha256).toBe(sha256Of('secret acme v1.0.0'));
  });

  it('tunes the secrets mount to the new version: its generation moves once and the worker reloads it', async () => {
    const before = await allGenerations();
    const answer = await vault.write('sys/mounts/acme/tune', {
      plugin_version: 'v1.1.0',
    });
    expect(answer.data.reload_id).toMatch(UUID);
    expect(answer.warnings).toEqual([
      'acme/ will reload to run secret plugin acme v1.1.0',
    ]);
    expect(movedBetween(before, await allGenerations())).toEqual({
      'acme/': 1,
    });

    await eventually(async () =>
      reloads.some((event) => event.path === 'acme/') ? true : undefined,
    );
    expect(reloads).toHaveLength(1);
    expect(reloads[0]).toMatchObject({
      path: 'acme/',
      generation: 1,
      previousGeneration: 0,
      pluginName: 'acme',
      pluginVersion: 'v1.1.0',
      reloadId: answer.data.reload_id,
    });
    const mount = await eventually(async () => {
      const read = await vault.read('sys/mounts/acme');
      return read.data.running_plugin_version === 'v1.1.0' ? read : undefined;
    });
    expect(mount.data).toMatchObject({
      plugin_version: 'v1.1.0',
      running_sha256: sha256Of('secret acme 1.1.0'),
      reload_generation: 1,
    });
    const tune = await vault.read('sys/mounts/acme/tune');
    expect(tune.data).toMatchObject({
      plugin_version: 'v1.1.0',
      default_lease_ttl: 3600,
      description: 'acme secrets',
    });
  });

  it('pins a new version, and every mount of the plugin reloads to it', async () => {
    await register('secret', 'v1.2.0');
    const before = await allGenerations();
    const answer = await vault.write('sys/plugins/pins/secret/acme', {
      version: 'v1.2.0',
    });
    expect(answer.data.reload_id).toMatch(UUID);
    expect(answer.warnings).toEqual([
      '2 mounts will reload to run secret plugin acme v1.2.0: acme/, team-b/acme-b/',
    ]);
    expect(movedBetween(before, await allGenerations())).toEqual({
      'acme/': 1,
      'team-b/acme-b/': 1,
    });
    // The worker is told to start the pinned version.
    const pinned = await eventually(async () =>
      reloads.find((event) => event.path === 'acme/' && event.generation === 2),
    );
    expect(pinned.pluginVersion).toBe('v1.2.0');
    // A worker starting the mount afresh is to run the pinned version, not
    // the one the mount names.
    const item = await getMount(api.catalog, {
      namespace: 'team-b/',
      kind: 'secret',
      path: 'acme-b/',
    });
    expect(item && targetVersionOf(item)).toEqual({
      version: 'v1.2.0',
      sha256: sha256Of('secret acme v1.2.0'),
    });
    expect(item?.entry.plugin_version).toBe('v1.0.0');
    const pin = await vault.read('sys/plugins/pins/secret/acme');
    expect(pin.data).toEqual({
      name: 'acme',
      type: 'secret',
      version: 'v1.2.0',
    });

    // The workers' acknowledgements say they now run the pinned version.
    for (const read of [
      () => vault.read('sys/mounts/acme'),
      () => teamB.read('sys/mounts/acme-b'),
    ]) {
      const mount = await eventually(async () => {
        const answer = await read();
        return answer.data.running_plugin_version === 'v1.2.0'
          ? answer
          : undefined;
      });
      expect(mount.data.running_sha256).toBe(sha256Of('secret acme v1.2.0'));
    }
  });

  it('pins the auth plugin too, which moves the auth mount alone', async () => {
    const before = await allGenerations();
    const answer = await vault.write('sys/plugins/pins/auth/acme', {
      version: 'v1.1.0',
    });
    expect(answer.warnings).toEqual([
      '1 mount will reload to run auth plugin acme v1.1.0: auth/acme/',
    ]);
    expect(movedBetween(before, await allGenerations())).toEqual({
      'auth/acme/': 1,
    });
    const pins = await vault.list('sys/plugins/pins');
    expect(pins.data.pinned_versions).toEqual([
      { name: 'acme', type: 'auth', version: 'v1.1.0' },
      { name: 'acme', type: 'secret', version: 'v1.2.0' },
    ]);
  });

  it('removes the pin, and each mount reloads to the version it names', async () => {
    const before = await allGenerations();
    const answer = await vault.delete('sys/plugins/pins/secret/acme');
    expect(answer.data.reload_id).toMatch(UUID);
    expect(movedBetween(before, await allGenerations())).toEqual({
      'acme/': 1,
      'team-b/acme-b/': 1,
    });
    const mount = await eventually(async () => {
      const read = await teamB.read('sys/mounts/acme-b');
      return read.data.running_plugin_version === 'v1.0.0' ? read : undefined;
    });
    expect(mount.data.plugin_version).toBe('v1.0.0');
  });

  it("keeps Vault's manual behaviour when asked to skip the reload", async () => {
    const before = await allGenerations();
    const answer = await vault.write('sys/plugins/pins/secret/acme', {
      version: 'v1.2.0',
      skip_reload: true,
    });
    expect(answer.data).toBeNull();
    expect(answer.warnings).toEqual([
      '2 mounts will run secret plugin acme v1.2.0 once reloaded; nothing was reloaded: acme/, team-b/acme-b/',
    ]);
    expect(movedBetween(before, await allGenerations())).toEqual({});
    const tuned = await vault.write('sys/auth/acme/tune', {
      plugin_version: 'v1.1.0',
      skip_reload: true,
    });
    expect(tuned.warnings).toEqual([
      'auth/acme/ is pinned to v1.1.0 by sys/plugins/pins/auth/acme; it keeps running that version',
    ]);
    expect(movedBetween(before, await allGenerations())).toEqual({});
  });
});
