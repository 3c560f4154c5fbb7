import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../support/api.js';
import { countRequests } from '../support/request-counter.js';
import { sha256Of, vaultClient } from './support.js';

/** More mounts than one transaction holds, so the pin's reload is chunked. */
const MOUNTS = 130;

const pathOf = (index: number) => `bulk-${String(index).padStart(3, '0')}/`;

/** A catalog with one plugin at two versions and many mounts of it. */
const bulkCatalog = () => {
  const mounts: Record<string, unknown> = {};
  for (let index = 0; index < MOUNTS; index++) {
    mounts[pathOf(index)] = {
      type: 'bulk-plugin',
      // Every tenth mount already runs the version about to be pinned.
      plugin_version: index % 10 === 0 ? 'v2.0.0' : 'v1.0.0',
      config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
    };
  }
  const plugin = (version: string) => ({
    name: 'bulk-plugin',
    type: 'secret',
    version,
    builtin: false,
    sha256: sha256Of(`bulk ${version}`),
  });
  const directory = mkdtempSync(join(tmpdir(), 'bulk-catalog-'));
  const file = join(directory, 'catalog.json');
  writeFileSync(
    file,
    JSON.stringify({
      mounts,
      auth: {},
      plugins: { detailed: [plugin('v1.0.0'), plugin('v2.0.0')] },
    }),
  );
  return file;
};

let api: RunningApi;

beforeAll(async () => {
  api = await startApi({ catalogFile: bulkCatalog() });
});
afterAll(() => api.close());

describe('a pin that moves more mounts than one transaction holds', () => {
  it('raises every mount that changes version by exactly one, and no other', async () => {
    const vault = vaultClient(api);
    const counter = countRequests(api.catalog);
    const answer = await vault.write('sys/plugins/pins/secret/bulk-plugin', {
      version: 'v2.0.0',
    });
    // 117 mounts: the pin, the record and 48 mounts in the first
    // transaction, then 49 and 20; every read a key lookup or a Query.
    const sent = counter.sent;
    expect(sent.filter((name) => name === 'TransactWriteItems')).toHaveLength(
      3,
    );
    expect(sent).not.toContain('Scan');
    const changed = MOUNTS - MOUNTS / 10;
    expect(answer.warnings[0]).toMatch(
      new RegExp(
        `^${changed} mounts will reload to run secret plugin bulk-plugin v2\\.0\\.0: bulk-001/, bulk-002/,`,
      ),
    );
    expect(answer.warnings[0]).toMatch(/ and 97 more$/);
    const generations = await api.generations();
    for (let index = 0; index < MOUNTS; index++) {
      expect(generations[pathOf(index)]).toBe(index % 10 === 0 ? 0 : 1);
    }
    const status = await vault.read(
      `sys/plugins/reload/backend/status?reload_id=${answer.data.reload_id}`,
    );
    // The record counts its targets; each is an item of its own.
    expect(status.data.target_count).toBe(changed);
  });
});
