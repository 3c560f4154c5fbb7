import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import {
  ContendedReloadError,
  InvalidRequestError,
  NotFoundError,
} from '../api/errors.js';
import {
  type VersionChange,
  writeVersionReload,
} from '../generations/version-reload.js';
import type { TransactionItem } from '../generations/write-reload.js';
import type { Catalog } from './client.js';
import { markOf, sameMark, selectPlugin } from './effective-version.js';
import type { PluginItem } from './items.js';
import {
  KEY_SEPARATOR,
  type MountRef,
  PINS_INDEX_KEY,
  pinKey,
  pluginKey,
} from './keys.js';
import { qualifiedMountPath } from './mounts.js';
import { kindOfPluginType, nameMounts } from './plugin-catalog.js';
import {
  canonicalVersion,
  describeVersion,
  isBuiltinVersion,
} from './plugin-version.js';
import {
  listPins,
  type PinItem,
  type PluginType,
  readMountsRunning,
  readPluginCollection,
} from './plugins.js';

/**
 * Pinned versions, as Vault 1.16 and later have them at `sys/plugins/pins`:
 * a pin makes every mount of a plugin name and type run one version,
 * whatever version the mount names. Beyond Vault, a pin that changes the
 * version a mount runs reloads the mount in the same write, unless the
 * caller asks not to.
 */

/** A pin as Vault shows it. */
export interface PinnedVersion {
  name: string;
  type: string;
  version: string;
}

const viewOf = (pin: PinItem): PinnedVersion => ({
  name: pin.name,
  type: pin.type,
  version: pin.version,
});

/** `GET sys/plugins/pins/:type/:name`. */
export const readPin = async (
  catalog: Catalog,
  type: PluginType,
  name: string,
): Promise<PinnedVersion> => {
  const { pins } = await readPluginCollection(catalog, name);
  const pin = pins.find((candidate) => candidate.type === type);
  if (!pin)
    throw new NotFoundError(`no pinned version for ${type} plugin ${name}`);
  return viewOf(pin);
};

/** `GET sys/plugins/pins`: every pin, by type and name. */
export const listPinnedVersions = async (
  catalog: Catalog,
): Promise<PinnedVersion[]> =>
  (await listPins(catalog))
    .map(viewOf)
    .sort(
      (left, right) =>
        left.type.localeCompare(right.type) ||
        left.name.localeCompare(right.name),
    );

/** What a change of pin did. */
export interface PinOutcome {
  /** Set when mounts were reloaded. */
  reloadId?: string;
  /** The mounts whose plugin version the change moves. */
  changed: MountRef[];
  warnings: string[];
}

/**
 * The mounts whose plugin version moves when the pin of a plugin goes from
 * `before` to `after`, read through the plugin index.
 */
const mountsMoved = async (
  catalog: Catalog,
  type: PluginType,
  name: string,
  versions: PluginItem[],
  before: PinItem | undefined,
  after: Pick<PinItem, 'version'> | undefined,
): Promise<VersionChange[]> => {
  const kind = kindOfPluginType(type);
  if (!kind) return [];
  const mounts = await readMountsRunning(catalog, name, { kind });
  return mounts.flatMap((seen) => {
    const named = String(seen.entry.plugin_version ?? '');
    const previous = markOf(selectPlugin(versions, before, named));
    const next = markOf(selectPlugin(versions, after, named));
    if (sameMark(previous, next)) return [];
    const mount = { namespace: seen.namespace, kind, path: seen.path };
    return [{ mount, seen, previous, next }];
  });
};

/**
 * Writes a pin change: with the reload of the mounts it moves, or (with
 * `skipReload`, Vault's behaviour) alone, the mounts then moving at their
 * next reload.
 */
const applyPinChange = async (
  catalog: Catalog,
  plugin: { type: PluginType; name: string },
  changes: VersionChange[],
  catalogItems: TransactionItem[],
  skipReload: boolean,
  describeNext: string,
): Promise<PinOutcome> => {
  const paths = changes
    .map((change) => qualifiedMountPath(change.mount))
    .sort();
  const changed = changes.map((change) => change.mount);
  const count = `${changes.length} mount${changes.length === 1 ? '' : 's'}`;
  const named = `${plugin.type} plugin ${plugin.name} ${describeNext}`;
  if (changes.length === 0 || skipReload) {
    try {
      await catalog.client.send(
        new TransactWriteCommand({ TransactItems: catalogItems }),
      );
    } catch (error) {
      // The pin or the version changed since they were read.
      if (error instanceof TransactionCanceledException) {
        throw new ContendedReloadError();
      }
      throw error;
    }
    return {
      changed,
      warnings:
        changes.length === 0
          ? []
          : [
              `${count} will run ${named} once reloaded; ` +
                `nothing was reloaded: ${nameMounts(paths)}`,
            ],
    };
  }
  const outcome = await writeVersionReload(catalog, {
    namespace: '',
    plugin: plugin.name,
    changes,
    catalogItems,
    onVanished: 'skip',
  });
  return {
    reloadId: outcome.reloadId,
    changed,
    warnings: [`${count} will reload to run ${named}: ${nameMounts(paths)}`],
  };
};

export interface SetPinRequest {
  type: PluginType;
  name: string;
  /** As the caller wrote it. */
  version: string;
  skipReload: boolean;
}

/**
 * `PUT sys/plugins/pins/:type/:name`: pins a registered, non-builtin
 * version. Every mount the pin moves to another version is reloaded with it.
 *
 * @throws InvalidRequestError for a missing, builtin or unregistered version.
 */
export const setPin = async (
  catalog: Catalog,
  request: SetPinRequest,
): Promise<PinOutcome> => {
  const { type, name } = request;
  const version = canonicalVersion(request.version);
  if (version === '') throw new InvalidRequestError('missing version');
  if (isBuiltinVersion(version)) {
    throw new InvalidRequestError(`cannot pin a builtin version: ${version}`);
  }
  const collection = await readPluginCollection(catalog, name);
  const versions = collection.versions.filter((plugin) => plugin.type === type);
  if (!versions.some((plugin) => plugin.version === version)) {
    throw new InvalidRequestError(
      `plugin not found in the catalog; ${type} plugin "${name}" ` +
        `version ${version} does not exist`,
    );
  }
  const before = collection.pins.find((pin) => pin.type === type);
  const pin: PinItem = {
    ...pinKey(name, type),
    gsi1pk: PINS_INDEX_KEY,
    gsi1sk: `${type}${KEY_SEPARATOR}${name}`,
    name,
    type,
    version,
  };
  const catalogItems: TransactionItem[] = [
    {
      Put: {
        TableName: catalog.tableName,
        Item: pin,
        // Written over the pin as read, so the mounts moved are the right ones.
        ConditionExpression: before
          ? 'version = :before'
          : 'attribute_not_exists(pk)',
        ExpressionAttributeValues: before
          ? { ':before': before.version }
          : undefined,
      },
    },
    {
      ConditionCheck: {
        TableName: catalog.tableName,
        Key: pluginKey(name, type, version),
        ConditionExpression: 'attribute_exists(pk)',
      },
    },
  ];
  const changes = await mountsMoved(catalog, type, name, versions, before, pin);
  return applyPinChange(
    catalog,
    { type, name },
    changes,
    catalogItems,
    request.skipReload,
    version,
  );
};

/**
 * `DELETE sys/plugins/pins/:type/:name`: mounts go back to the version they
 * name, and those that change version reload with it. Removing a pin that
 * is not there changes nothing.
 */
export const deletePin = async (
  catalog: Catalog,
  request: Omit<SetPinRequest, 'version'>,
): Promise<PinOutcome> => {
  const { type, name } = request;
  const collection = await readPluginCollection(catalog, name);
  const before = collection.pins.find((pin) => pin.type === type);
  if (!before) return { changed: [], warnings: [] };
  const versions = collection.versions.filter((plugin) => plugin.type === type);
  const catalogItems: TransactionItem[] = [
    {
      Delete: {
        TableName: catalog.tableName,
        Key: pinKey(name, type),
        ConditionExpression: 'version = :before',
        ExpressionAttributeValues: { ':before': before.version },
      },
    },
  ];
  const changes = await mountsMoved(
    catalog,
    type,
    name,
    versions,
    before,
    undefined,
  );
  return applyPinChange(
    catalog,
    { type, name },
    changes,
    catalogItems,
    request.skipReload,
    'at the version each names instead of the pinned ' +
      describeVersion(before.version),
  );
};
