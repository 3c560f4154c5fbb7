import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { InvalidRequestError, NotFoundError } from '../api/errors.js';
import type { Catalog } from './client.js';
import { selectPlugin } from './effective-version.js';
import type { MountItem, PluginItem } from './items.js';
import {
  catalogIndexKey,
  KEY_SEPARATOR,
  type MountKind,
  pinKey,
  pluginKey,
} from './keys.js';
import { qualifiedMountPath } from './mounts.js';
import {
  canonicalVersion,
  checkSha256,
  compareVersions,
  describeVersion,
  isBuiltinVersion,
} from './plugin-version.js';
import {
  listCatalog,
  PLUGIN_TYPES,
  type PluginType,
  readMountsRunning,
  readPluginCollection,
} from './plugins.js';

/**
 * The plugin catalog as Vault's `sys/plugins/catalog` manages it: several
 * versions of one plugin side by side, builtin plugins listed beside the
 * registered ones and never removed, and (beyond Vault) no version removed
 * while a mount still runs it.
 */

/** Vault's answer when a plugin, or one version of it, is not registered. */
export const pluginNotFound = (name: string, version = '') =>
  new InvalidRequestError(
    `plugin not found in the catalog: ${name}` +
      (version ? `, version=${version}` : ''),
  );

/** At most this many mounts are named in a message; the rest are counted. */
const NAMED_MOUNTS = 20;

/** Mount paths for a message: the first ones, and how many more there are. */
export const nameMounts = (paths: string[]) => {
  const named = paths.slice(0, NAMED_MOUNTS).join(', ');
  const more = paths.length - NAMED_MOUNTS;
  return more > 0 ? `${named} and ${more} more` : named;
};

/** The mount tables whose mounts run plugins of a type. */
export const kindOfPluginType = (type: PluginType): MountKind | undefined =>
  type === 'auth' ? 'auth' : type === 'secret' ? 'secret' : undefined;

/**
 * Names and commands may not climb out of the plugin directory, and `#`
 * separates the parts of the catalog's keys.
 */
const checkName = (name: string) => {
  if (name.includes('..')) {
    throw new InvalidRequestError('path cannot contain parent references');
  }
  if (name.includes(KEY_SEPARATOR) || name.trim() !== name || name === '') {
    throw new InvalidRequestError(`invalid plugin name "${name}"`);
  }
};

export interface RegisterPluginInput {
  type: PluginType;
  name: string;
  /** As the caller wrote it; "" registers the unversioned plugin. */
  version: string;
  sha256: string;
  command: string;
  args: string[];
  env: string[];
}

/**
 * Registers one version of a plugin, or replaces what was registered under
 * that version. Builtin versions cannot be registered.
 *
 * @throws InvalidRequestError in Vault's words for a bad version, a missing
 *   or malformed SHA-256, or a missing command.
 */
export const registerPlugin = async (
  catalog: Catalog,
  input: RegisterPluginInput,
): Promise<PluginItem> => {
  checkName(input.name);
  const version = canonicalVersion(input.version);
  if (isBuiltinVersion(version)) {
    throw new InvalidRequestError(
      `version "${version}" is not allowed because 'builtin' is a ` +
        'reserved metadata identifier',
    );
  }
  if (input.sha256 === '') {
    throw new InvalidRequestError('missing SHA-256 value');
  }
  if (input.command.trim() === '') {
    throw new InvalidRequestError('missing command value');
  }
  if (input.command.includes('..')) {
    throw new InvalidRequestError('path cannot contain parent references');
  }
  // Older clients write the arguments into the command; not both at once.
  const [command = '', ...inline] = input.command.trim().split(/\s+/);
  if (inline.length > 0 && input.args.length > 0) {
    throw new InvalidRequestError(
      'must not specify args in command and args field',
    );
  }
  const item: PluginItem = {
    ...pluginKey(input.name, input.type, version),
    gsi1pk: catalogIndexKey(input.type),
    gsi1sk: `${input.name}${KEY_SEPARATOR}${version}`,
    name: input.name,
    type: input.type,
    version,
    builtin: false,
    sha256: checkSha256(input.sha256),
    command,
    args: inline.length > 0 ? inline : input.args,
    env: input.env,
  };
  await catalog.client.send(
    new PutCommand({
      TableName: catalog.tableName,
      Item: item,
      // A builtin plugin's item is the catalog's record of Vault's own
      // plugin; nothing registered replaces it.
      ConditionExpression: 'attribute_not_exists(pk) OR builtin = :external',
      ExpressionAttributeValues: { ':external': false },
    }),
  );
  return item;
};

/** The versions of one plugin name and type, from its item collection. */
const versionsOf = (versions: PluginItem[], type: string) =>
  versions.filter((plugin) => plugin.type === type);

/**
 * `GET sys/plugins/catalog/:type/:name`: one version, or without a version
 * the unversioned plugin, else the builtin one. The environment is never
 * shown, as in Vault: it may hold secrets.
 */
export const readPlugin = async (
  catalog: Catalog,
  type: PluginType,
  name: string,
  writtenVersion: string,
) => {
  const version = canonicalVersion(writtenVersion);
  const { versions } = await readPluginCollection(catalog, name);
  const candidates = versionsOf(versions, type);
  const plugin = version
    ? candidates.find((candidate) => candidate.version === version)
    : selectPlugin(candidates, undefined, '');
  if (!plugin) {
    throw new NotFoundError(
      `no ${type} plugin ${name} ${describeVersion(version)} in the catalog`,
    );
  }
  return {
    name: plugin.name,
    args: plugin.args ?? [],
    command: plugin.builtin ? '' : (plugin.command ?? ''),
    sha256: plugin.sha256 ?? '',
    builtin: plugin.builtin,
    version: plugin.version,
    ...(plugin.builtin
      ? { deprecation_status: plugin.deprecation_status ?? 'supported' }
      : {}),
  };
};

/**
 * The mounts that run, or name, one version of a plugin: those whose
 * selected plugin is that version, and those whose own `plugin_version`
 * names it (a pin may hide it now, but not once the pin is gone).
 */
export const mountsUsingVersion = async (
  catalog: Catalog,
  plugin: PluginItem,
  versions: PluginItem[],
  pinVersion: string | undefined,
): Promise<MountItem[]> => {
  const kind = kindOfPluginType(plugin.type as PluginType);
  if (!kind) return [];
  const mounts = await readMountsRunning(catalog, plugin.name, { kind });
  const pin = pinVersion === undefined ? undefined : { version: pinVersion };
  return mounts.filter((mount) => {
    const named = String(mount.entry.plugin_version ?? '');
    const selected = selectPlugin(versions, pin, named);
    return (
      selected?.version === plugin.version ||
      (named !== '' && named === plugin.version)
    );
  });
};

/**
 * `DELETE sys/plugins/catalog/:type/:name`: removes one version. Removing a
 * version that is not registered changes nothing, as in Vault. Builtin
 * plugins, a pinned version and (beyond Vault) a version a mount still runs
 * are refused, the mounts named.
 */
export const deregisterPlugin = async (
  catalog: Catalog,
  type: PluginType,
  name: string,
  writtenVersion: string,
): Promise<void> => {
  const version = canonicalVersion(writtenVersion);
  if (isBuiltinVersion(version)) {
    throw new InvalidRequestError(`version "${version}" cannot be deleted`);
  }
  const collection = await readPluginCollection(catalog, name);
  const versions = versionsOf(collection.versions, type);
  const plugin = versions.find((candidate) => candidate.version === version);
  if (!plugin) return;
  if (plugin.builtin) {
    throw new InvalidRequestError(
      `version "${plugin.version}" cannot be deleted`,
    );
  }
  const pin = collection.pins.find((candidate) => candidate.type === type);
  if (pin?.version === version) {
    throw new InvalidRequestError('cannot delete a pinned version');
  }
  const users = await mountsUsingVersion(
    catalog,
    plugin,
    versions,
    pin?.version,
  );
  if (users.length > 0) {
    throw new InvalidRequestError(
      `cannot deregister ${type} plugin ${name} ${describeVersion(version)}: ` +
        `it is in use by ${users.length === 1 ? 'mount' : 'mounts'} ` +
        nameMounts(users.map(qualifiedMountPath).sort()),
    );
  }
  const pinItem = pinKey(name, type);
  const items: TransactWriteCommandInput['TransactItems'] = [
    {
      Delete: {
        TableName: catalog.tableName,
        Key: pluginKey(name, type, version),
        ConditionExpression: 'builtin = :external',
        ExpressionAttributeValues: { ':external': false },
      },
    },
    {
      // A pin set on this version meanwhile keeps it.
      ConditionCheck: {
        TableName: catalog.tableName,
        Key: pinItem,
        ConditionExpression: 'attribute_not_exists(pk) OR version <> :version',
        ExpressionAttributeValues: { ':version': version },
      },
    },
  ];
  try {
    await catalog.client.send(
      new TransactWriteCommand({ TransactItems: items }),
    );
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const [removed, pinned] = error.CancellationReasons ?? [];
      // Gone already: someone else deregistered it.
      if (removed?.Code === 'ConditionalCheckFailed') return;
      if (pinned?.Code === 'ConditionalCheckFailed') {
        throw new InvalidRequestError('cannot delete a pinned version');
      }
    }
    throw error;
  }
};

/** A catalog entry as `detailed` lists it. */
const detailOf = (plugin: PluginItem) => ({
  name: plugin.name,
  type: plugin.type,
  version: plugin.version,
  builtin: plugin.builtin,
  ...(plugin.sha256 ? { sha256: plugin.sha256 } : {}),
  ...(plugin.deprecation_status
    ? { deprecation_status: plugin.deprecation_status }
    : {}),
});

const byTypeNameVersion = (left: PluginItem, right: PluginItem) =>
  left.type.localeCompare(right.type) ||
  left.name.localeCompare(right.name) ||
  compareVersions(left.version, right.version);

/** The names of one type's plugins, each once, sorted. */
const namesOf = (plugins: PluginItem[]) =>
  [...new Set(plugins.map((plugin) => plugin.name))].sort();

/**
 * `GET sys/plugins/catalog`: the names of each type, and every version in
 * `detailed`. An unversioned plugin hides the builtin of its name, as in
 * Vault, where it replaces it.
 */
export const listPluginCatalog = async (catalog: Catalog) => {
  const byType = await Promise.all(
    PLUGIN_TYPES.map((type) => listCatalog(catalog, type)),
  );
  const answer: Record<string, unknown> = {};
  const detailed: PluginItem[] = [];
  PLUGIN_TYPES.forEach((type, index) => {
    const plugins = byType[index] ?? [];
    if (plugins.length > 0) answer[type] = namesOf(plugins);
    const unversioned = new Set(
      plugins
        .filter((plugin) => plugin.version === '' && !plugin.builtin)
        .map((plugin) => plugin.name),
    );
    detailed.push(
      ...plugins.filter(
        (plugin) => !(plugin.builtin && unversioned.has(plugin.name)),
      ),
    );
  });
  answer.detailed = detailed.sort(byTypeNameVersion).map(detailOf);
  return answer;
};

/** `LIST sys/plugins/catalog/:type`: the names of one type. */
export const listPluginNames = async (catalog: Catalog, type: PluginType) =>
  namesOf(await listCatalog(catalog, type));
