import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  syntheticMountPath,
  syntheticPluginName,
  syntheticVaultExport,
} from '../../bench/synthetic-catalog.js';
import { importCatalog } from '../../functions/catalog/import.js';
import { parseVaultExport } from '../../functions/catalog/vault-export.js';
import { PluginWatcher } from '../../functions/worker/watcher.js';
import { type RunningApi, startApi } from '../support/api.js';

const MOUNTS = 120;

let api: RunningApi;
let reloadId: string;

beforeAll(async () => {
  api = await startApi();
  await importCatalog(
    api.catalog,
    parseVaultExport(
      syntheticVaultExport({ plugins: 1, mountsPerPlugin: MOUNTS }),
    ),
  );
  // One worker serves the first three mounts and has recorded its start.
  const watcher = new PluginWatcher({
    catalog: api.catalog,
    workerId: 'paged-worker',
    mounts: [0, 1, 2].map((index) => syntheticMountPath(0, index)),
    onReload: () => {},
  });
  await watcher.poll();
  const answer = await api.call('PUT', '/v1/sys/plugins/reload/backend', {
    body: { plugin: syntheticPluginName(0) },
  });
  expect(answer.status).toBe(200);
  reloadId = String(answer.body.data?.reload_id);
});
afterAll(() => api.close());

interface Page {
  target_count: number;
  mounts: Record<string, { generation: number; pending: string[] }>;
  next_after: string | null;
}

const page = (query: string) =>
  api.call(
    'GET',
    `/v1/sys/plugins/reload/backend/status?reload_id=${reloadId}${query}`,
  );

describe('the status of a reload of many mounts', () => {
  it('comes in pages of `limit` mounts, each pointing at the next', async () => {
    const sizes: number[] = [];
    const seen = new Set<string>();
    let after: string | null = null;
    do {
      const answer = await page(
        `&limit=50${after ? `&after=${encodeURIComponent(after)}` : ''}`,
      );
      expect(answer.status).toBe(200);
      const data = answer.body.data as unknown as Page;
      expect(data.target_count).toBe(MOUNTS);
      sizes.push(Object.keys(data.mounts).length);
      for (const path of Object.keys(data.mounts)) seen.add(path);
      after = data.next_after;
    } while (after);
    expect(sizes).toEqual([50, 50, 20]);
    expect(seen.size).toBe(MOUNTS);
    expect(seen.has(syntheticMountPath(0, 119))).toBe(true);
  });

  it('shows 100 mounts unless told, with the live worker pending where it serves', async () => {
    const answer = await page('');
    const data = answer.body.data as unknown as Page;
    expect(Object.keys(data.mounts)).toHaveLength(100);
    expect(data.next_after).toEqual(expect.any(String));
    const pending = Object.entries(data.mounts)
      .filter(([, mount]) => mount.pending.length > 0)
      .map(([path, mount]) => [path, mount.pending]);
    expect(pending).toEqual(
      [0, 1, 2].map((index) => [
        syntheticMountPath(0, index),
        ['paged-worker'],
      ]),
    );
  });

  it('answers a page of every mount with no next page', async () => {
    const answer = await page('&limit=1000');
    const data = answer.body.data as unknown as Page;
    expect(Object.keys(data.mounts)).toHaveLength(MOUNTS);
    expect(data.next_after).toBeNull();
  });

  it('refuses a cursor it did not hand out, and a limit out of range, with 400', async () => {
    for (const [query, message] of [
      ['&after=not-a-cursor!', 'after must be the next_after'],
      ['&after=Zm9v', 'after must be the next_after'],
      ['&limit=0', 'limit must be a whole number from 1 to 1000'],
      ['&limit=1001', 'limit must be a whole number from 1 to 1000'],
      ['&limit=ten', 'limit must be a whole number from 1 to 1000'],
    ] as const) {
      const answer = await page(query);
      expect(answer.status, query).toBe(400);
      expect(answer.body.errors?.[0], query).toContain(message);
    }
  });
});
