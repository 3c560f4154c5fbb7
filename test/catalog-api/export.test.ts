import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../functions/catalog/client.js';
import { exportCatalog } from '../../functions/catalog/export.js';
import { importCatalog } from '../../functions/catalog/import.js';
import { parseVaultExport } from '../../functions/catalog/vault-export.js';
import { type RunningApi, startApi } from '../support/api.js';
import { type FreshCatalog, freshCatalog } from '../support/dynamodb.js';
import { scanTable, sha256Of, vaultClient } from './support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

let api: RunningApi;

beforeAll(async () => {
  api = await startApi();
  // A catalog that has lived: plugins registered, mounts enabled, tuned and
  // reloaded through the API.
  const vault = vaultClient(api);
  await vault.write('sys/plugins/catalog/secret/acme', {
    sha256: sha256Of('acme 1'),
    command: 'vault-plugin-acme --verbose',
    env: ['ACME_MODE=test'],
    version: 'v1.0.0',
  });
  await vault.write('sys/plugins/catalog/database/acme-db', {
    sha256: sha256Of('acme-db'),
    command: 'acme-db',
  });
  await vault.mount({
    mount_point: 'acme',
    type: 'acme',
    options: { tier: 'gold' },
    config: { max_lease_ttl: 7200 },
  });
  await vault.write('sys/mounts/acme/tune', { description: 'tuned' });
  await vault.enableAuth({ mount_point: 'ldap-2', type: 'ldap' });
  const teamB = vaultClient(api, 'team-b');
  await teamB.mount({ mount_point: 'kv-2', type: 'kv-v2' });
  await vault.write('sys/plugins/reload/backend', {
    mounts: ['acme', 'custom-secrets'],
  });
});
afterAll(() => api.close());

/** What a mount item holds beyond the catalog: the state of its reloads. */
const RELOAD_STATE = ['generation', 'reloadId', 'reloadedAt', 'versionHistory'];

/** The catalog's items: mounts without their reload state, plugins, namespaces. */
const catalogItems = async (catalog: Catalog) =>
  (await scanTable(catalog))
    .filter((item) => /^(MOUNT|PLUGIN|NAMESPACE)/.test(String(item.pk)))
    .filter((item) => !String(item.sk).startsWith('PIN#'))
    .map((item) =>
      Object.fromEntries(
        Object.entries(item).filter(([key]) => !RELOAD_STATE.includes(key)),
      ),
    );

const run = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn(TSX, ['infra/cli/catalog.ts', ...args], {
        cwd: ROOT,
        env: {
          ...process.env,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          PLUGIN_RELOAD_STACK_FILE: join(tmpdir(), 'no-such-stack.json'),
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    },
  );

const tableFlags = (catalog: FreshCatalog) => [
  '--table',
  catalog.tableName,
  '--endpoint',
  catalog.endpoint,
  '--region',
  'us-east-1',
];

describe('exporting the catalog', () => {
  it('writes a file that imports into an empty table as the same catalog', async () => {
    const exported = await exportCatalog(api.catalog);
    const empty = await freshCatalog();
    const result = await importCatalog(
      empty,
      parseVaultExport(JSON.stringify(exported)),
    );
    expect(result.changed).toBeGreaterThan(0);
    expect(await catalogItems(empty)).toEqual(await catalogItems(api.catalog));
    expect(await exportCatalog(empty)).toEqual(exported);
  });

  it("keeps each plugin's command, arguments and environment", async () => {
    const exported = await exportCatalog(api.catalog);
    expect(
      exported.plugins.detailed.find((plugin) => plugin.name === 'acme'),
    ).toEqual({
      name: 'acme',
      type: 'secret',
      version: 'v1.0.0',
      builtin: false,
      sha256: sha256Of('acme 1'),
      command: 'vault-plugin-acme',
      args: ['--verbose'],
      env: ['ACME_MODE=test'],
    });
    expect(exported.plugins.database).toContain('acme-db');
    expect(exported.namespaces?.['team-b/']?.mounts['kv-2/']).toMatchObject({
      type: 'kv',
      options: { version: '2' },
    });
  });

  // Two commands of their own, each a fresh Node.js process.
  it('runs as npm run catalog -- export FILE, and the file imports back', {
    timeout: 120_000,
  }, async () => {
    const directory = mkdtempSync(join(tmpdir(), 'catalog-export-'));
    const file = join(directory, 'catalog.json');
    const source = api.catalog;
    await vaultClient(api).write('sys/plugins/pins/secret/mock-plugin', {
      version: 'v1.0.0',
      skip_reload: true,
    });

    const exported = await run(['export', file, ...tableFlags(source)]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe('');
    expect(exported.stderr).toMatch(
      new RegExp(
        `^exported ${source.tableName} to ${file}: \\d+ mounts, \\d+ plugins, 1 namespace\\n`,
      ),
    );
    // The file format has no place for pins, so the command names them.
    expect(exported.stderr).toContain('secret/mock-plugin=v1.0.0');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(
      await exportCatalog(source),
    );

    const empty = await freshCatalog();
    const imported = await run(['import', file, ...tableFlags(empty)]);
    expect(imported.code).toBe(0);
    expect(await catalogItems(empty)).toEqual(await catalogItems(source));
  });

  it('writes to standard output without a file', {
    timeout: 60_000,
  }, async () => {
    const printed = await run(['export', ...tableFlags(api.catalog)]);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(
      await exportCatalog(api.catalog),
    );
  });
});
