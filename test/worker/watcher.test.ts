import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledge } from '../../functions/worker/observations.js';
import type { ReloadEvent } from '../../functions/worker/watcher.js';
import { PluginWatcher } from '../../functions/worker/watcher.js';
import { type RunningApi, startApi } from '../support/api.js';

let api: RunningApi;

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

const reload = async (body: unknown, headers?: Record<string, string>) => {
  const answer = await api.call('PUT', '/v1/sys/plugins/reload/backend', {
    body,
    headers,
  });
  expect(answer.status).toBe(200);
  return String(answer.body.data?.reload_id);
};

const status = async (reloadId: string, headers?: Record<string, string>) =>
  api.call(
    'GET',
    `/v1/sys/plugins/reload/backend/status?reload_id=${reloadId}`,
    { headers },
  );

/** A watcher whose reloads are recorded, and fail while `failWith` is set. */
const recordingWatcher = (
  workerId: string,
  mounts: string[],
  namespace?: string,
) => {
  const reloads: ReloadEvent[] = [];
  const control = { failWith: '' };
  const watcher = new PluginWatcher({
    catalog: api.catalog,
    workerId,
    mounts,
    namespace,
    onReload: (event) => {
      reloads.push(event);
      if (control.failWith) throw new Error(control.failWith);
    },
  });
  const step = async () => {
    await watcher.poll();
    await watcher.settled();
  };
  return { watcher, reloads, control, step };
};

describe('a worker watching its mounts', () => {
  it('starts at the current generation without reloading', async () => {
    await reload({ mounts: ['artifacts'] });
    const { reloads, step } = recordingWatcher('starter', ['artifacts/']);
    await step();
    await step();
    expect(reloads).toEqual([]);
  });

  it('reloads once a reload moved its mount, and the status names it', async () => {
    const { reloads, step } = recordingWatcher('worker-a', [
      'custom-secrets/',
      'auth/oidc-custom/',
    ]);
    await step();
    const reloadId = await reload({
      mounts: 'custom-secrets,auth/oidc-custom',
    });
    await step();
    expect(reloads.map((event) => [event.path, event.reloadId])).toEqual([
      ['custom-secrets/', reloadId],
      ['auth/oidc-custom/', reloadId],
    ]);
    expect(reloads[0]?.pluginName).toBe('mock-plugin');
    expect(reloads[0]?.pluginVersion).toBe('v1.0.1');
    expect(reloads[1]?.pluginName).toBe('mock-auth-plugin');

    const answer = await status(reloadId);
    expect(answer.status).toBe(200);
    const data = answer.body.data as {
      reload_id: string;
      results: Record<string, { timestamp: string; error: string }>;
      mounts: Record<string, { reloaded: { worker_id: string }[] }>;
    };
    expect(data.reload_id).toBe(reloadId);
    expect(data.results['worker-a']?.error).toBe('');
    expect(Date.parse(data.results['worker-a']?.timestamp ?? '')).not.toBeNaN();
    expect(data.mounts['custom-secrets/']?.reloaded).toEqual([
      expect.objectContaining({ worker_id: 'worker-a' }),
    ]);
    expect(data.mounts['auth/oidc-custom/']?.reloaded).toEqual([
      expect.objectContaining({ worker_id: 'worker-a' }),
    ]);
  });

  it('folds several moves between two polls into one reload', async () => {
    const { reloads, step } = recordingWatcher('folder', ['kv-legacy/']);
    await step();
    const before = (await api.generations())['kv-legacy/'] ?? 0;
    await reload({ mounts: ['kv-legacy'] });
    await reload({ mounts: ['kv-legacy'] });
    const last = await reload({ mounts: ['kv-legacy'] });
    await step();
    expect(reloads).toHaveLength(1);
    expect(reloads[0]).toMatchObject({
      previousGeneration: before,
      generation: before + 3,
      reloadId: last,
    });
  });

  it('reports a failing reload with its error, and tries the next move again', async () => {
    const { reloads, control, step } = recordingWatcher('failing', ['pki/']);
    await step();
    control.failWith = 'backend would not start';
    const failed = await reload({ mounts: ['pki'] });
    await step();
    const failedStatus = (await status(failed)).body.data as {
      results: Record<string, { error: string }>;
      mounts: Record<string, { failed: { error: string }[] }>;
    };
    expect(failedStatus.results.failing?.error).toBe('backend would not start');
    expect(failedStatus.mounts['pki/']?.failed).toEqual([
      expect.objectContaining({ error: 'backend would not start' }),
    ]);

    control.failWith = '';
    const retried = await reload({ mounts: ['pki'] });
    await step();
    expect(reloads).toHaveLength(2);
    const retriedStatus = (await status(retried)).body.data as {
      results: Record<string, { error: string }>;
    };
    expect(retriedStatus.results.failing?.error).toBe('');
  });

  it('shows a worker that has not reached the target as pending', async () => {
    const { step } = recordingWatcher('slow', ['database/']);
    await step();
    const reloadId = await reload({ mounts: ['database'] });
    const data = (await status(reloadId)).body.data as {
      results: Record<string, unknown>;
      mounts: Record<string, { pending: string[] }>;
    };
    expect(data.mounts['database/']?.pending).toEqual(['slow']);
    expect(data.results).toEqual({});
  });

  it('does not reload again after a restart for the generation it started at', async () => {
    const first = recordingWatcher('restarting', ['old-style/']);
    await first.step();
    await reload({ mounts: ['old-style'] });
    // The process restarts before it polled again.
    const second = recordingWatcher('restarting', ['old-style/']);
    await second.step();
    await second.step();
    expect(second.reloads).toEqual([]);
  });

  it('watches mounts of a namespace', async () => {
    const { reloads, step } = recordingWatcher(
      'team-b-worker',
      ['custom-secrets/'],
      'team-b',
    );
    await step();
    const reloadId = await reload(
      { plugin: 'mock-plugin' },
      { 'X-Vault-Namespace': 'team-b' },
    );
    await step();
    expect(reloads.map((event) => event.reloadId)).toEqual([reloadId]);
    const answer = await status(reloadId, { 'X-Vault-Namespace': 'team-b' });
    expect(
      (answer.body.data as { results: Record<string, unknown> }).results,
    ).toHaveProperty('team-b-worker');
  });

  it('never moves an acknowledgement backwards under concurrent writers', async () => {
    const mount = { namespace: '', kind: 'secret' as const, path: 'secret/' };
    const reloadIds: string[] = [];
    for (let index = 0; index < 12; index++) {
      reloadIds.push(await reload({ mounts: ['secret'] }));
    }
    const last = (await api.generations())['secret/'] ?? 0;
    const ack = (generation: number, error = '') =>
      acknowledge(api.catalog, {
        workerId: 'racer',
        mount,
        generation,
        error,
        at: new Date(),
      });
    // Twelve writers at once, in shuffled order, each claiming one of the
    // twelve generations.
    const generations = reloadIds.map((_, index) => last - index);
    generations.sort(() => Math.random() - 0.5);
    const written = await Promise.all(generations.map((g) => ack(g)));
    expect(written.filter(Boolean).length).toBeGreaterThan(0);

    // A straggler for an older generation, failed or not, changes nothing.
    expect(await ack(last - 3, 'too late')).toBe(false);
    expect(await ack(last)).toBe(false);
    for (const reloadId of [reloadIds[0], reloadIds.at(-1)]) {
      const data = (await status(String(reloadId))).body.data as {
        results: Record<string, { error: string }>;
        mounts: Record<string, { reloaded: { worker_id: string }[] }>;
      };
      expect(data.results.racer?.error).toBe('');
      expect(data.mounts['secret/']?.reloaded.map((w) => w.worker_id)).toEqual([
        'racer',
      ]);
    }
    expect(await ack(last + 1)).toBe(true);
  });
});

describe('the reload status', () => {
  it('answers a missing id with 400 and an unknown one with 404', async () => {
    const missing = await api.call(
      'GET',
      '/v1/sys/plugins/reload/backend/status',
    );
    expect(missing.status).toBe(400);
    const unknown = await status('8a1c0b52-9d54-4c3a-9a8e-3f2d7c6b5a41');
    expect(unknown.status).toBe(404);
  });

  it('names the target generation of each mount', async () => {
    const reloadId = await reload({ mounts: ['artifacts'] });
    const generation = (await api.generations())['artifacts/'];
    const data = (await status(reloadId)).body.data as {
      mounts: Record<string, { generation: number }>;
    };
    expect(data.mounts['artifacts/']?.generation).toBe(generation);
  });
});
