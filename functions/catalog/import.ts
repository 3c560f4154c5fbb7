import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Catalog } from './client.js';
import { mountItemOf, type PluginItem } from './items.js';
import {
  catalogIndexKey,
  type ItemKey,
  KEY_SEPARATOR,
  namespaceKey,
  pluginKey,
} from './keys.js';
import { catalogTable } from './table-definition.js';
import type {
  CatalogMount,
  CatalogPlugin,
  CatalogSnapshot,
} from './vault-export.js';

/**
 * Writes a checked Vault export into the catalog table.
 *
 * Every item is written with one conditional UpdateItem that only goes
 * through when the item is new or differs from what the file says. So an
 * import of the same file twice changes nothing (not even a stream record),
 * and the count of changed items comes for free: an item that was already
 * right fails its condition instead of being rewritten.
 *
 * A mount's generation is never written from the file: a new mount starts at
 * 0 and an existing one keeps the generation its reloads have raised it to.
 *
 * The writes are not one transaction (a catalog can hold far more mounts
 * than a transaction takes), so DynamoDB failing in the middle of an import
 * leaves the items written until then in place. That state is still a
 * correct catalog for the part written, and running the import again is safe
 * and finishes the job, because every write is idempotent.
 */

/** What an import wrote. */
export interface ImportResult {
  mounts: number;
  plugins: number;
  namespaces: number;
  /** Items that were new or differed from the file; 0 on a re-import. */
  changed: number;
}

export interface ImportOptions {
  /** Writes in flight at once. */
  concurrency?: number;
}

/**
 * DynamoDB failed during an import. `completed` writes had finished; the
 * import can be run again as it is.
 *
 * @example
 * try {
 *   await importCatalog(catalog, snapshot);
 * } catch (error) {
 *   if (error instanceof CatalogImportError) console.error(error.message);
 * }
 */
export class CatalogImportError extends Error {
  override readonly name = 'CatalogImportError';
  readonly completed: number;
  readonly total: number;

  constructor(completed: number, total: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `the catalog import stopped after ${completed} of ${total} writes ` +
        `(${reason}); what was written stays, and importing the same file ` +
        'again is safe',
      { cause },
    );
    this.completed = completed;
    this.total = total;
  }
}

/**
 * Enough to keep DynamoDB busy without queueing many requests in the SDK's
 * connection pool, which holds 50 sockets by default.
 */
const DEFAULT_CONCURRENCY = 16;

/** One conditional write: the item's key and what it should hold. */
interface ItemWrite {
  key: ItemKey;
  /** Attributes the file sets. */
  set: Record<string, unknown>;
  /** Optional attributes the file leaves out, removed if stored. */
  remove?: readonly string[];
  /** Mount items: the generation survives, and starts at 0. */
  keepGeneration?: boolean;
}

/**
 * The conditional UpdateItem for one item. Its condition holds, and the
 * item is written, only when something would change.
 */
const updateOf = (tableName: string, write: ItemWrite) => {
  const names: Record<string, string> = {
    '#pk': catalogTable.partitionKey,
  };
  const values: Record<string, unknown> = {};
  const assignments: string[] = [];
  const removals: string[] = [];

  /** A new item has nothing to compare against. */
  const itemIsNew = 'attribute_not_exists(#pk)';
  /** An attribute the file sets holds something else, or nothing. */
  const differs: string[] = [];
  /** An attribute the file leaves out is still stored. */
  const leftOver: string[] = [];

  Object.entries(write.set).forEach(([attribute, value], index) => {
    names[`#a${index}`] = attribute;
    values[`:a${index}`] = value;
    assignments.push(`#a${index} = :a${index}`);
    // `<>` compares maps and lists by content, so an unchanged mount entry
    // compares equal whatever the order of its fields.
    differs.push(`#a${index} <> :a${index}`);
  });
  write.remove?.forEach((attribute, index) => {
    names[`#r${index}`] = attribute;
    removals.push(`#r${index}`);
    leftOver.push(`attribute_exists(#r${index})`);
  });

  /** A mount stored without a generation (by hand, say) gets one. */
  let generationMissing: string[] = [];
  if (write.keepGeneration) {
    names['#generation'] = 'generation';
    values[':zero'] = 0;
    assignments.push('#generation = if_not_exists(#generation, :zero)');
    generationMissing = ['attribute_not_exists(#generation)'];
  }

  const update = [
    `SET ${assignments.join(', ')}`,
    removals.length > 0 ? `REMOVE ${removals.join(', ')}` : '',
  ];
  const condition = [itemIsNew, ...generationMissing, ...differs, ...leftOver];
  return new UpdateCommand({
    TableName: tableName,
    Key: write.key,
    UpdateExpression: update.filter(Boolean).join(' '),
    ConditionExpression: condition.join(' OR '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  });
};

/** Whether the write changed the item; an item already right is left be. */
const writeItem = async (catalog: Catalog, write: ItemWrite) => {
  try {
    await catalog.client.send(updateOf(catalog.tableName, write));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};

const namespaceWrite = (namespace: string): ItemWrite => ({
  key: namespaceKey(namespace),
  set: { path: namespace },
});

/** The attributes of a plugin item that an export may leave out. */
const OPTIONAL_PLUGIN_FIELDS = [
  'sha256',
  'command',
  'args',
  'env',
  'deprecation_status',
] as const;

const pluginWrite = (plugin: CatalogPlugin): ItemWrite => {
  const attributes: Omit<PluginItem, 'pk' | 'sk'> = {
    gsi1pk: catalogIndexKey(plugin.type),
    gsi1sk: `${plugin.name}${KEY_SEPARATOR}${plugin.version}`,
    name: plugin.name,
    type: plugin.type,
    version: plugin.version,
    builtin: plugin.builtin,
  };
  const set: Record<string, unknown> = { ...attributes };
  const remove: string[] = [];
  for (const field of OPTIONAL_PLUGIN_FIELDS) {
    if (plugin[field] === undefined) remove.push(field);
    else set[field] = plugin[field];
  }
  return {
    key: pluginKey(plugin.name, plugin.type, plugin.version),
    set,
    remove,
  };
};

const mountWrite = ({ ref, entry }: CatalogMount): ItemWrite => {
  const { pk, sk, ...attributes } = mountItemOf(ref, entry);
  return { key: { pk, sk }, set: attributes, keepGeneration: true };
};

/**
 * Runs the writes with at most `concurrency` in flight and counts those
 * that changed an item. On the first failure no further write starts; the
 * ones in flight finish, then the failure is thrown.
 */
const writeAll = async (
  catalog: Catalog,
  writes: readonly ItemWrite[],
  concurrency: number,
  progress: { completed: number },
) => {
  let next = 0;
  let changed = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < writes.length) {
      const write = writes[next++] as ItemWrite;
      try {
        if (await writeItem(catalog, write)) changed++;
        progress.completed++;
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const lanes = Math.max(1, Math.min(concurrency, writes.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  if (failure) throw failure.error;
  return changed;
};

/**
 * Writes a checked Vault export into the catalog: namespaces, then the
 * plugin catalog, then the mounts, so that a mount is never in the table
 * before its namespace. Check the file first with `parseVaultExport`: that
 * is where a malformed file is refused, before anything is written.
 *
 * Items the file does not name are left as they are.
 *
 * @throws {CatalogImportError} when DynamoDB fails; run the import again.
 * @example
 * const snapshot = parseVaultExport(await readFile(file, 'utf8'));
 * const result = await importCatalog(createCatalog(), snapshot);
 * // { mounts: 18, plugins: 12, namespaces: 1, changed: 31 }
 */
export const importCatalog = async (
  catalog: Catalog,
  snapshot: CatalogSnapshot,
  options: ImportOptions = {},
): Promise<ImportResult> => {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const phases = [
    snapshot.namespaces.map(namespaceWrite),
    snapshot.plugins.map(pluginWrite),
    snapshot.mounts.map(mountWrite),
  ];
  const total = phases.reduce((sum, writes) => sum + writes.length, 0);
  const progress = { completed: 0 };
  let changed = 0;
  try {
    for (const writes of phases) {
      changed += await writeAll(catalog, writes, concurrency, progress);
    }
  } catch (error) {
    throw new CatalogImportError(progress.completed, total, error);
  }
  return {
    mounts: snapshot.mounts.length,
    plugins: snapshot.plugins.length,
    namespaces: snapshot.namespaces.length,
    changed,
  };
};
