import type { Catalog } from './client.js';
import type { MountItem, PluginItem } from './items.js';
import {
  type MountKind,
  pluginCollectionKey,
  pluginIndexKey,
  pluginIndexNamespacePrefix,
} from './keys.js';
import { queryAll } from './query.js';
import { catalogTable } from './table-definition.js';

/** Every registered version and type of one plugin name. */
export const findPluginVersions = (
  catalog: Catalog,
  name: string,
): Promise<PluginItem[]> =>
  queryAll<PluginItem>(catalog, {
    KeyConditionExpression: 'pk = :plugin',
    ExpressionAttributeValues: { ':plugin': pluginCollectionKey(name) },
    ConsistentRead: true,
  });

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
