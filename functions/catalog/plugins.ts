import { batchGet } from './batch-get.js';
import type { Catalog } from './client.js';
import type { MountItem, PluginItem } from './items.js';
import {
  catalogIndexKey,
  type ItemKey,
  type MountKind,
  PIN_SORT_PREFIX,
  PINS_INDEX_KEY,
  pluginCollectionKey,
  pluginIndexKey,
  pluginIndexNamespacePrefix,
} from './keys.js';
import { queryAll } from './query.js';
import { catalogTable } from './table-definition.js';

/** The plugin types of Vault's catalog. */
export const PLUGIN_TYPES = ['auth', 'database', 'secret'] as const;
export type PluginType = (typeof PLUGIN_TYPES)[number];

export const isPluginType = (type: string): type is PluginType =>
  (PLUGIN_TYPES as readonly string[]).includes(type);

/** The plugin type whose plugins a mount table runs. */
export const pluginTypeOfKind = (kind: MountKind): PluginType =>
  kind === 'auth' ? 'auth' : 'secret';

/**
 * A pinned version: every mount of this plugin name and type runs it,
 * whatever version the mount itself names.
 */
export interface PinItem {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
  name: string;
  type: string;
  version: string;
}

/** One plugin name's item collection: its versions and its pins. */
export interface PluginCollection {
  versions: PluginItem[];
  pins: PinItem[];
}

/** Every registered version and every pin of one plugin name, in one Query. */
export const readPluginCollection = async (
  catalog: Catalog,
  name: string,
): Promise<PluginCollection> => {
  const items = await queryAll<PluginItem | PinItem>(catalog, {
    KeyConditionExpression: 'pk = :plugin',
    ExpressionAttributeValues: { ':plugin': pluginCollectionKey(name) },
    ConsistentRead: true,
  });
  const isPin = (item: PluginItem | PinItem): item is PinItem =>
    item.sk.startsWith(PIN_SORT_PREFIX);
  return {
    versions: items.filter((item) => !isPin(item)) as PluginItem[],
    pins: items.filter(isPin),
  };
};

/** Every registered version and type of one plugin name. */
export const findPluginVersions = async (
  catalog: Catalog,
  name: string,
): Promise<PluginItem[]> =>
  (await readPluginCollection(catalog, name)).versions;

/**
 * Reads the items an index Query names. The index carries only keys for
 * catalog and pin items, so the items themselves are read by key after it.
 */
const itemsNamedBy = async <T extends ItemKey>(
  catalog: Catalog,
  indexKey: string,
): Promise<T[]> => {
  const keys = await queryAll<ItemKey>(catalog, {
    IndexName: catalogTable.pluginIndex.name,
    KeyConditionExpression: 'gsi1pk = :key',
    ExpressionAttributeValues: { ':key': indexKey },
  });
  return batchGet<T>(
    catalog,
    keys.map(({ pk, sk }) => ({ pk, sk })),
  );
};

/** Every registered plugin of one type, every version, builtins included. */
export const listCatalog = (
  catalog: Catalog,
  type: PluginType,
): Promise<PluginItem[]> =>
  itemsNamedBy<PluginItem>(catalog, catalogIndexKey(type));

/** Every pinned version of the catalog. */
export const listPins = (catalog: Catalog): Promise<PinItem[]> =>
  itemsNamedBy<PinItem>(catalog, PINS_INDEX_KEY);

/** The part of a mount item that the plugin index carries. */
export type IndexedMount = Pick<
  MountItem,
  'pk' | 'sk' | 'namespace' | 'kind' | 'path' | 'generation'
>;

export interface PluginMountScope {
  /** One namespace, or every namespace when absent. */
  namespace?: string;
  /** Only the secrets or only the auth mounts, or both when absent. */
  kind?: MountKind;
}

/**
 * The mounts that run a plugin, from the plugin index: a Query page per
 * megabyte, however many mounts there are. The index is eventually
 * consistent, so a generation read here may be a moment old; writers check it
 * with a condition and read again when it has moved.
 */
export const findMountsRunning = (
  catalog: Catalog,
  pluginName: string,
  scope: PluginMountScope,
): Promise<IndexedMount[]> => {
  const inNamespace = scope.namespace !== undefined;
  return queryAll<IndexedMount>(catalog, {
    IndexName: catalogTable.pluginIndex.name,
    KeyConditionExpression: inNamespace
      ? 'gsi1pk = :plugin AND begins_with(gsi1sk, :namespace)'
      : 'gsi1pk = :plugin',
    ...(scope.kind ? { FilterExpression: '#kind = :kind' } : {}),
    ExpressionAttributeNames: scope.kind ? { '#kind': 'kind' } : undefined,
    ExpressionAttributeValues: {
      ':plugin': pluginIndexKey(pluginName),
      ...(inNamespace
        ? {
            ':namespace': pluginIndexNamespacePrefix(scope.namespace ?? ''),
          }
        : {}),
      ...(scope.kind ? { ':kind': scope.kind } : {}),
    },
  });
};

/**
 * The mounts that run a plugin, read in full: the plugin index names them,
 * then each is read by key, since the index carries only their keys and
 * generations.
 */
export const readMountsRunning = async (
  catalog: Catalog,
  pluginName: string,
  scope: PluginMountScope,
): Promise<MountItem[]> => {
  const indexed = await findMountsRunning(catalog, pluginName, scope);
  return batchGet<MountItem>(
    catalog,
    indexed.map(({ pk, sk }) => ({ pk, sk })),
  );
};
