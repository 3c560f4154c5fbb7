import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../../functions/catalog/client.js';
import { importCatalog } from '../../functions/catalog/import.js';
import { parseVaultExport } from '../../functions/catalog/vault-export.js';
import {
  type HeartbeatItem,
  heartbeatKey,
} from '../../functions/generations/observation.js';
import {
  PluginWatcher,
  type ReloadEvent,
  type WatcherEvent,
  type WatcherOptions,
} from '../../functions/worker/watcher.js';
import { ensureCatalogTable } from '../../infra/local/create-table.js';
import { FIXTURE, type RunningApi, startApi } from '../support/api.js';

let api: RunningApi;
const stops: AbortController[] = [];

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  for (const stop of stops) stop.abort();
  await api.close();
});

interface MountStatus {
  generation: number;
  reloaded: { worker_id: string; timestamp: string }[];
  pending: string[];
  failed: { worker_id: string; error: string }[];
  stale: { worker_id: string; heartbeat_expired_at: string }[];
}

const reload = async (mounts: string[]) => {
  const answer = await api.call('PUT', '/v1/sys/plugins/reload/backend', {
    body: { mounts },
  });
  expect(answer.status).toBe(200);
  return String(answer.body.data?.reload_id);
};

const mountStatus = async (reloadId: string, path: string) => {
  const answer = await api.call(
    'GET',
    `/v1/sys/plugins/reload/backend/status?reload_id=${reloadId}`,
  );
  expect(answer.status).toBe(200);
  const data = answer.body.data as { mounts: Record<string, MountStatus> };
  return data.mounts[path] as MountStatus;
};

const sleep = (milliseconds: number) =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Waits until `check` holds, asking every 50 ms for at most `within` ms. */
const eventually = async <T>(
  check: () => Promise<T> | T,
  within = 10_000,
): Promise<T> => {
  const deadline = Date.now() + within;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
};

/** A watcher that runs on its own, as a worker process would. */
const running = (
  options: Partial<WatcherOptions> & Pick<WatcherOptions, 'workerId'>,
) => {
  const events: WatcherEvent[] = [];
  const reloads: ReloadEvent[] = [];
  const onReload = options.onReload ?? (() => {});
  const stop = new AbortController();
  stops.push(stop);
  const watcher = new PluginWatcher({
    catalog: api.catalog,
    mounts: [],
    intervalMs: 50,
    ...options,
    onReload: (event) => {
      reloads.push(event);
      return onReload(event);
    },
    onEvent: (event) => events.push(event),
  });
  const done = watcher.run(stop.signal);
  const started = (path: string) =>
    eventually(() => {
      expect(
        events.some((event) => event.type === 'started' && event.path === path),
      ).toBe(true);
    });
  return { watcher, events, reloads, stop, done, started };
};

describe('workers at fleet scale', () => {
  it('reports a hanging callback as failed, and reloads again on the next move without two callbacks at once', async () => {
    let inFlight = 0;
    let mostAtOnce = 0;
    let release = () => {};
    const hanging = new Promise<void>((resolve) => {
      release = resolve;
    });
    const worker = running({
      workerId: 'hanging',
      mounts: ['kv-legacy/'],
      callbackTimeoutMs: 200,
      onReload: async () => {
        inFlight++;
        mostAtOnce = Math.max(mostAtOnce, inFlight);
        // The first reload hangs past its timeout, ignoring its signal,
        // until the test lets it go.
        if (worker.reloads.length === 1) await hanging;
        inFlight--;
      },
    });
    await worker.started('kv-legacy/');
    const hung = await reload(['kv-legacy']);
    const failed = await eventually(async () => {
      const status = await mountStatus(hung, 'kv-legacy/');
      expect(status.failed).toHaveLength(1);
      return status;
    });
    expect(failed.failed[0]).toEqual(
      expect.objectContaining({
        worker_id: 'hanging',
        error: 'reload callback timed out after 200 ms',
      }),
    );

    // The next move comes while the hung callback still runs: the worker
    // waits for it instead of running a second one beside it.
    const next = await reload(['kv-legacy']);
    await eventually(() =>
      expect(worker.events.map((event) => event.type)).toContain('waiting'),
    );
    expect((await mountStatus(next, 'kv-legacy/')).pending).toEqual([
      'hanging',
    ]);
    expect(worker.reloads).toHaveLength(1);

    release();
    const reloaded = await eventually(async () => {
      const status = await mountStatus(next, 'kv-legacy/');
      expect(status.reloaded).toHaveLength(1);
      return status;
    });
    expect(reloaded.reloaded[0]?.worker_id).toBe('hanging');
    expect(reloaded.failed).toEqual([]);
    expect(worker.reloads.map((event) => event.generation)).toEqual([
      failed.generation,
      reloaded.generation,
    ]);
    expect(mostAtOnce).toBe(1);
    worker.stop.abort();
    await worker.done;
  });

  it('acknowledges two workers on one mount, each in the status', async () => {
    const first = running({ workerId: 'pair-1', mounts: ['pki/'] });
    const second = running({ workerId: 'pair-2', mounts: ['pki/'] });
    await first.started('pki/');
    await second.started('pki/');
    const reloadId = await reload(['pki']);
    const status = await eventually(async () => {
      const seen = await mountStatus(reloadId, 'pki/');
      expect(seen.reloaded).toHaveLength(2);
      return seen;
    });
    expect(status.reloaded.map((worker) => worker.worker_id)).toEqual([
      'pair-1',
      'pair-2',
    ]);
    expect(status.pending).toEqual([]);
    expect(first.reloads).toHaveLength(1);
    expect(second.reloads).toHaveLength(1);
    first.stop.abort();
    second.stop.abort();
    await Promise.all([first.done, second.done]);
  });

  it('shows a worker that dies in the middle of a reload as pending, then as stale once its heartbeat ran out', async () => {
    const reloads: ReloadEvent[] = [];
    const watcher = new PluginWatcher({
      catalog: api.catalog,
      workerId: 'died-mid-reload',
      mounts: ['database/'],
      heartbeatTtlMs: 2500,
      // The process freezes inside the reload and never polls again.
      onReload: (event) => {
        reloads.push(event);
        return new Promise<void>(() => {});
      },
    });
    await watcher.poll();
    const reloadId = await reload(['database']);
    await watcher.poll();
    await eventually(() => expect(reloads).toHaveLength(1));

    const right = await mountStatus(reloadId, 'database/');
    expect(right.pending).toEqual(['died-mid-reload']);
    expect(right.stale).toEqual([]);

    const later = await eventually(async () => {
      const seen = await mountStatus(reloadId, 'database/');
      expect(seen.stale).toHaveLength(1);
      return seen;
    }, 10_000);
    expect(later.pending).toEqual([]);
    expect(later.failed).toEqual([]);
    expect(later.stale[0]?.worker_id).toBe('died-mid-reload');
    expect(Date.parse(later.stale[0]?.heartbeat_expired_at ?? '')).toBeLessThan(
      Date.now(),
    );
  });

  it('shows a worker stopped in the middle of a reload as stale at once, not as failed', async () => {
    const worker = running({
      workerId: 'stopped-mid-reload',
      mounts: ['auth/userpass/'],
      onReload: ({ signal }) =>
        new Promise<void>((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('stopped'))),
        ),
    });
    await worker.started('auth/userpass/');
    const reloadId = await reload(['auth/userpass']);
    await eventually(() => expect(worker.reloads).toHaveLength(1));
    worker.stop.abort();
    await worker.done;

    const seen = await mountStatus(reloadId, 'auth/userpass/');
    expect(seen.failed).toEqual([]);
    expect(seen.pending).toEqual([]);
    expect(seen.stale.map((entry) => entry.worker_id)).toEqual([
      'stopped-mid-reload',
    ]);
  });

  it('does not reload again after a restart, at the generation the first run acknowledged', async () => {
    const first = running({ workerId: 'phoenix', mounts: ['artifacts/'] });
    await first.started('artifacts/');
    const reloadId = await reload(['artifacts']);
    await eventually(async () => {
      const seen = await mountStatus(reloadId, 'artifacts/');
      expect(seen.reloaded).toHaveLength(1);
    });
    first.stop.abort();
    await first.done;

    const second = running({ workerId: 'phoenix', mounts: ['artifacts/'] });
    await second.started('artifacts/');
    await sleep(300);
    expect(second.reloads).toEqual([]);
    const seen = await mountStatus(reloadId, 'artifacts/');
    expect(seen.reloaded.map((worker) => worker.worker_id)).toEqual([
      'phoenix',
    ]);
    second.stop.abort();
    await second.done;
  });

  it('takes up and drops mounts while it runs, and the status stops waiting for a dropped one', async () => {
    const worker = running({ workerId: 'shifting', mounts: ['old-style/'] });
    await worker.started('old-style/');
    worker.watcher.addMount('custom-secrets/');
    await worker.started('custom-secrets/');
    expect(worker.watcher.mounts).toEqual(['old-style/', 'custom-secrets/']);
    const heartbeat = await eventually(async () => {
      const answer = await api.catalog.client.send(
        new GetCommand({
          TableName: api.catalog.tableName,
          Key: heartbeatKey('shifting'),
        }),
      );
      const item = answer.Item as HeartbeatItem;
      expect(item.mounts).toEqual(['old-style/', 'custom-secrets/']);
      return item;
    });
    expect(Date.parse(heartbeat.heartbeatExpiresAt)).toBeGreaterThan(
      Date.now(),
    );

    worker.watcher.removeMount('old-style');
    await sleep(300);
    const reloadId = await reload(['old-style', 'custom-secrets']);
    const dropped = await mountStatus(reloadId, 'old-style/');
    expect(dropped.pending).toEqual([]);
    expect(dropped.stale).toEqual([]);
    const kept = await eventually(async () => {
      const seen = await mountStatus(reloadId, 'custom-secrets/');
      expect(seen.reloaded).toHaveLength(1);
      return seen;
    });
    expect(kept.reloaded[0]?.worker_id).toBe('shifting');
    expect(worker.reloads.map((event) => event.path)).toEqual([
      'custom-secrets/',
    ]);
    worker.stop.abort();
    await worker.done;
  });

  it('backs off while DynamoDB fails and recovers by itself once it answers', async () => {
    const tableName = `catalog-later-${randomUUID()}`;
    const endpoint = api.catalog.endpoint;
    const catalog = createCatalog({
      tableName,
      endpoint,
      region: 'us-east-1',
      maxAttempts: 1,
    });
    const events: WatcherEvent[] = [];
    const stop = new AbortController();
    stops.push(stop);
    const watcher = new PluginWatcher({
      catalog,
      workerId: 'patient',
      mounts: ['custom-secrets/'],
      intervalMs: 20,
      maxBackoffMs: 400,
      onReload: () => {},
      onEvent: (event) => events.push(event),
    });
    const done = watcher.run(stop.signal);
    // The table does not exist yet: every poll fails, each wait longer.
    await eventually(() =>
      expect(
        events.filter((event) => event.type === 'poll-failed').length,
      ).toBeGreaterThanOrEqual(4),
    );
    const waits = events.flatMap((event) =>
      event.type === 'poll-failed' ? [event.retryInMs] : [],
    );
    expect(waits[3]).toBeGreaterThan(waits[0] ?? 0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(400 * 1.2);

    const admin = new DynamoDBClient({ endpoint, region: 'us-east-1' });
    await ensureCatalogTable(admin, tableName);
    admin.destroy();
    await importCatalog(
      catalog,
      parseVaultExport(readFileSync(FIXTURE, 'utf8')),
    );
    await eventually(() =>
      expect(events).toContainEqual(
        expect.objectContaining({
          type: 'started',
          path: 'custom-secrets/',
          generation: 0,
        }),
      ),
    );
    stop.abort();
    await done;
  });

  it('reads 150 mounts in two requests a poll', async () => {
    const polls: WatcherEvent[] = [];
    const mounts = Array.from({ length: 150 }, (_, index) => `many-${index}/`);
    const watcher = new PluginWatcher({
      catalog: api.catalog,
      workerId: 'wide',
      mounts,
      onReload: () => {},
      onEvent: (event) => {
        if (event.type === 'polled') polls.push(event);
      },
    });
    await watcher.poll();
    expect(polls).toEqual([{ type: 'polled', mounts: 150, requests: 2 }]);
  });
});
