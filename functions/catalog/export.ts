import type { Catalog } from './client.js';
import type { MountEntry, NamespaceItem, PluginItem } from './items.js';
import { namespaceKey } from './keys.js';
import { listMounts } from './mounts.js';
import { compareVersions } from './plugin-version.js';
import { listCatalog, PLUGIN_TYPES } from './plugins.js';
import { queryAll } from './query.js';

/**
 * Writes the catalog out as a Vault export: the file `npm run catalog --
 * import` reads, with the mount tables as `GET sys/mounts` and
 * `GET sys/auth` give them and the plugin catalog as
 * `GET sys/plugins/catalog` does, plus each plugin's command, arguments
 * and environment, so that importing the file into an empty table gives
 * the same catalog. Generations are not part of it: they are the state of
 * the reloads, and a fresh import starts every mount at 0.
 *
 * Every read is a Query: the namespaces, each mount table, and each plugin
 * type through the plugin index.
 */

/** A mount table as the file holds it: path to entry. */
export type MountTableFile = Record<string, MountEntry>;

/** One entry of `plugins.detailed`. */
export type PluginFileEntry = Omit<
  PluginItem,
  'pk' | 'sk' | 'gsi1pk' | 'gsi1sk'
>;

/** The file `exportCatalog` writes and `parseVaultExport` reads. */
export interface CatalogExport {
  mounts: MountTableFile;
  auth: MountTableFile;
  plugins: {
    auth?: string[];
    database?: string[];
    secret?: string[];
    detailed: PluginFileEntry[];
  };
  namespaces?: Record<string, { mounts: MountTableFile; auth: MountTableFile }>;
}

/** The namespaces other than the root, from their one item collection. */
const readNamespaces = async (catalog: Catalog): Promise<string[]> => {
  const items = await queryAll<NamespaceItem>(catalog, {
    KeyConditionExpression: 'pk = :namespaces',
    ExpressionAttributeValues: { ':namespaces': namespaceKey('').pk },
    ConsistentRead: true,
  });
  return items.map((item) => item.path).filter((path) => path !== '');
};

const mountTables = async (catalog: Catalog, namespace: string) => {
  const [mounts, auth] = await Promise.all([
    listMounts(catalog, namespace, 'secret'),
    listMounts(catalog, namespace, 'auth'),
  ]);
  const table = (items: typeof mounts): MountTableFile =>
    Object.fromEntries(items.map((item) => [item.path, item.entry]));
  return { mounts: table(mounts), auth: table(auth) };
};

/** The optional fields of a plugin entry, written only when stored. */
const OPTIONAL_PLUGIN_FIELDS = [
  'sha256',
  'deprecation_status',
  'command',
  'args',
  'env',
] as const;

const pluginEntryOf = (plugin: PluginItem): PluginFileEntry => {
  const entry: PluginFileEntry = {
    name: plugin.name,
    type: plugin.type,
    version: plugin.version,
    builtin: plugin.builtin,
  };
  for (const field of OPTIONAL_PLUGIN_FIELDS) {
    if (plugin[field] !== undefined)
      Object.assign(entry, { [field]: plugin[field] });
  }
  return entry;
};

/**
 * The whole catalog as a Vault export.
 *
 * @example
 * const file = await exportCatalog(createCatalog());
 * writeFileSync('catalog.json', `${JSON.stringify(file, null, 2)}\n`);
 */
export const exportCatalog = async (
  catalog: Catalog,
): Promise<CatalogExport> => {
  const [namespaces, root, byType] = await Promise.all([
    readNamespaces(catalog),
    mountTables(catalog, ''),
    Promise.all(PLUGIN_TYPES.map((type) => listCatalog(catalog, type))),
  ]);
  const plugins: CatalogExport['plugins'] = { detailed: [] };
  PLUGIN_TYPES.forEach((type, index) => {
    const ofType = byType[index] ?? [];
    if (ofType.length > 0) {
      plugins[type] = [...new Set(ofType.map((plugin) => plugin.name))].sort();
    }
    plugins.detailed.push(
      ...ofType
        .sort(
          (left, right) =>
            left.name.localeCompare(right.name) ||
            compareVersions(left.version, right.version),
        )
        .map(pluginEntryOf),
    );
  });
  const file: CatalogExport = { ...root, plugins };
  if (namespaces.length > 0) {
    const tables = await Promise.all(
      namespaces.map((namespace) => mountTables(catalog, namespace)),
    );
    file.namespaces = Object.fromEntries(
      namespaces.map((namespace, index) => [
        namespace,
        tables[index] ?? { mounts: {}, auth: {} },
      ]),
    );
  }
  return file;
};
