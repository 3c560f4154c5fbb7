import { readFileSync } from 'node:fs';
import {
  GetCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { Catalog } from '../../functions/catalog/client.js';
import {
  CatalogImportError,
  importCatalog,
} from '../../functions/catalog/import.js';
import {
  catalogIndexKey,
  type MountKind,
  mountKey,
  mountTableKey,
  namespaceKey,
  pluginKey,
} from '../../functions/catalog/keys.js';
import {
  CatalogFileError,
  parseVaultExport,
} from '../../functions/catalog/vault-export.js';
import { freshCatalog } from '../support/dynamodb.js';

const FIXTURE = readFileSync(
  new URL('../../../shared/fixtures/vault-export.json', import.meta.url),
  'utf8',
);
const SAMPLE = readFileSync(
  new URL('../../sample-catalog.json', import.meta.url),
  'utf8',
);

/** What the CLI does: check the whole file, then write it. */
const importFile = async (catalog: Catalog, text: string) =>
  importCatalog(catalog, parseVaultExport(text));

const getItem = async (catalog: Catalog, key: { pk: string; sk: string }) => {
  const { Item } = await catalog.client.send(
    new GetCommand({ TableName: catalog.tableName, Key: key }),
  );
  return Item;
};

const MOUNT_TABLES: Array<[string, MountKind]> = [
  ['', 'secret'],
  ['', 'auth'],
  ['team-b/', 'secret'],
  ['team-b/', 'auth'],
];

/** Every mount item of the fixture's namespaces, read by Query. */
const readMountTables = async (catalog: Catalog) => {
  const items: Record<string, unknown>[] = [];
  for (const [namespace, kind] of MOUNT_TABLES) {
    const { Items = [] } = await catalog.client.send(
      new QueryCommand({
        TableName: catalog.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': mountTableKey(namespace, kind) },
        ConsistentRead: true,
      }),
    );
    items.push(...Items);
  }
  return items;
};

/** The whole table, for comparing one state with another. */
const readTable = async (catalog: Catalog) => {
  const { Items = [] } = await catalog.client.send(
    new ScanCommand({ TableName: catalog.tableName, ConsistentRead: true }),
  );
  const keyOf = (item: Record<string, unknown>) => `${item.pk} ${item.sk}`;
  return Items.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
};

const customSecrets = mountKey({
  namespace: '',
  kind: 'secret',
  path: 'custom-secrets/',
});

describe('importing a Vault export', () => {
  it('writes mounts at generation 0, plugins and namespaces', async () => {
    const catalog = await freshCatalog();

    const result = await importFile(catalog, FIXTURE);

    expect(result).toEqual({
      mounts: 18,
      plugins: 12,
      namespaces: 1,
      changed: 31,
    });
    const mount = await getItem(catalog, customSecrets);
    expect(mount).toMatchObject({
      namespace: '',
      kind: 'secret',
      path: 'custom-secrets/',
      pluginName: 'mock-plugin',
      gsi1pk: 'RUNS#mock-plugin',
      generation: 0,
      entry: { type: 'mock-plugin', running_plugin_version: 'v1.0.0' },
    });
    expect(mount?.reloadId).toBeUndefined();
  });

  it('writes the old-style mount under the plugin it runs', async () => {
    const catalog = await freshCatalog();

    await importFile(catalog, FIXTURE);

    const mount = await getItem(
      catalog,
      mountKey({ namespace: '', kind: 'secret', path: 'old-style/' }),
    );
    expect(mount?.pluginName).toBe('mock-plugin');
    expect(mount?.gsi1pk).toBe('RUNS#mock-plugin');
  });

  it('writes auth and team-b/ mounts in their own tables', async () => {
    const catalog = await freshCatalog();

    await importFile(catalog, FIXTURE);

    const oidc = await getItem(
      catalog,
      mountKey({ namespace: '', kind: 'auth', path: 'oidc-custom/' }),
    );
    expect(oidc?.pluginName).toBe('mock-auth-plugin');
    const teamB = await getItem(
      catalog,
      mountKey({
        namespace: 'team-b/',
        kind: 'secret',
        path: 'custom-secrets/',
      }),
    );
    expect(teamB?.entry.description).toBe('team B copy of the mock plugin');
    expect(await getItem(catalog, namespaceKey('team-b/'))).toEqual({
      ...namespaceKey('team-b/'),
      path: 'team-b/',
    });
  });

  it('writes each plugin version into the catalog index', async () => {
    const catalog = await freshCatalog();

    await importFile(catalog, FIXTURE);

    expect(
      await getItem(catalog, pluginKey('mock-plugin', 'secret', 'v1.0.1')),
    ).toEqual({
      ...pluginKey('mock-plugin', 'secret', 'v1.0.1'),
      gsi1pk: catalogIndexKey('secret'),
      gsi1sk: 'mock-plugin#v1.0.1',
      name: 'mock-plugin',
      type: 'secret',
      version: 'v1.0.1',
      builtin: false,
      sha256:
        'e3a1c5b7d9f0e2a4c6b8d0f1e3a5c7b9d1f3e5a7c9b0d2f4e6a8c0b2d4f6e8a0',
    });
  });

  it('changes nothing when the same file is imported twice', async () => {
    const catalog = await freshCatalog();
    await importFile(catalog, FIXTURE);
    const mountsBefore = await readMountTables(catalog);
    const tableBefore = await readTable(catalog);

    const again = await importFile(catalog, FIXTURE);

    expect(again.changed).toBe(0);
    expect(mountsBefore).toHaveLength(18);
    expect(await readMountTables(catalog)).toEqual(mountsBefore);
    expect(await readTable(catalog)).toEqual(tableBefore);
  });

  it('keeps a generation raised since the last import', async () => {
    const catalog = await freshCatalog();
    await importFile(catalog, FIXTURE);
    await catalog.client.send(
      new UpdateCommand({
        TableName: catalog.tableName,
        Key: customSecrets,
        UpdateExpression: 'SET generation = :raised, reloadId = :reload',
        ExpressionAttributeValues: { ':raised': 5, ':reload': 'r-1' },
      }),
    );

    const again = await importFile(catalog, FIXTURE);

    expect(again.changed).toBe(0);
    expect(await getItem(catalog, customSecrets)).toMatchObject({
      generation: 5,
      reloadId: 'r-1',
    });
  });

  it('rewrites a changed mount entry and keeps its generation', async () => {
    const catalog = await freshCatalog();
    await importFile(catalog, FIXTURE);
    await catalog.client.send(
      new UpdateCommand({
        TableName: catalog.tableName,
        Key: customSecrets,
        UpdateExpression: 'SET generation = :raised',
        ExpressionAttributeValues: { ':raised': 2 },
      }),
    );
    const upgraded = FIXTURE.replace(
      '"running_plugin_version": "v1.0.0"',
      '"running_plugin_version": "v1.0.1"',
    );

    const result = await importFile(catalog, upgraded);

    expect(result.changed).toBe(1);
    expect(await getItem(catalog, customSecrets)).toMatchObject({
      generation: 2,
      entry: { running_plugin_version: 'v1.0.1' },
    });
  });

  it('imports the project sample catalog, twice without change', async () => {
    const catalog = await freshCatalog();

    const first = await importFile(catalog, SAMPLE);
    const second = await importFile(catalog, SAMPLE);

    expect(first.changed).toBe(first.mounts + first.plugins + first.namespaces);
    expect(second.changed).toBe(0);
  });
});

describe('importing a malformed file', () => {
  it('is refused and leaves the table empty', async () => {
    const catalog = await freshCatalog();
    // Everything is right but the last mount of the last namespace.
    const malformed = FIXTURE.replace('"type": "approle"', '"type": ""');

    await expect(importFile(catalog, malformed)).rejects.toThrow(
      CatalogFileError,
    );

    expect(await readTable(catalog)).toEqual([]);
  });
});

describe('DynamoDB failing during an import', () => {
  it('says how far the import got and that it can be run again', async () => {
    const catalog = await freshCatalog();
    const missing = { ...catalog, tableName: `${catalog.tableName}-gone` };

    const attempt = importFile(missing, FIXTURE);

    await expect(attempt).rejects.toThrow(CatalogImportError);
    await expect(attempt).rejects.toThrow(
      /stopped after 0 of 31 writes .*importing the same file again is safe/,
    );
  });
});
