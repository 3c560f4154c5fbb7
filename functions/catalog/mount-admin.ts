import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  ContendedReloadError,
  InvalidRequestError,
  NotFoundError,
} from '../api/errors.js';
import { writeVersionReload } from '../generations/version-reload.js';
import type { Catalog } from './client.js';
import {
  historyWith,
  markOf,
  type PluginVersionMark,
  sameMark,
  selectPlugin,
  type VersionedMount,
} from './effective-version.js';
import { type MountEntry, type MountItem, mountItemOf } from './items.js';
import {
  type MountKind,
  type MountRef,
  migrationKey,
  mountKey,
  pluginKey,
} from './keys.js';
import {
  checkTunable,
  type MountConfigInput,
  mountConfigOf,
  newMountEntry,
  type TuneInput,
  tunedEntry,
  tuneView,
} from './mount-entry.js';
import {
  candidateMountPaths,
  displayMountPath,
  withTrailingSlash,
} from './mount-path.js';
import {
  findOverlappingMount,
  getMount,
  qualifiedMountPath,
  startingGeneration,
} from './mounts.js';
import { pluginNotFound } from './plugin-catalog.js';
import {
  canonicalVersion,
  compareVersions,
  describeVersion,
} from './plugin-version.js';
import {
  type PluginCollection,
  pluginTypeOfKind,
  readPluginCollection,
} from './plugins.js';

/**
 * Vault's mount table management: enabling, disabling, tuning and moving
 * secrets and auth mounts, with Vault's rules and Vault's words for
 * breaking them. Tuning a mount to another plugin version reloads it in the
 * same write, unless the caller asks not to.
 */

/** Secrets paths Vault keeps for itself. */
const PROTECTED_SECRET_PATHS = [
  'audit/',
  'auth/',
  'sys/',
  'cubbyhole/',
  'identity/',
];

/** Mount types that exist once, made by Vault itself. */
const SINGLETON_TYPES = new Set([
  'cubbyhole',
  'ns_cubbyhole',
  'system',
  'ns_system',
  'token',
  'ns_token',
  'identity',
  'ns_identity',
]);

/** Vault's older names for the KV secrets engine. */
const KV_ALIASES: Record<string, string | undefined> = {
  'kv-v1': '1',
  'kv-v2': '2',
  generic: undefined,
};

/** The auth mount every namespace has, which no one enables or disables. */
const TOKEN_AUTH_PATH = 'token/';

const hasControlCharacter = (text: string) =>
  [...text].some((character) => {
    const code = character.charCodeAt(0);
    return code < 0x20 || code === 0x7f;
  });

/**
 * A mount path as the mount table keys it, from the path of a request:
 * relative to its table and ending with a slash.
 *
 * @throws InvalidRequestError for a path that cannot name a mount.
 */
export const mountPathOf = (written: string): string => {
  const path = withTrailingSlash(written.trim().replace(/^\/+/, ''));
  if (path === '/') {
    throw new InvalidRequestError('backend path must be specified');
  }
  if (
    path.includes('#') ||
    path.includes('//') ||
    /(^|\/)\.\.?\//.test(path) ||
    hasControlCharacter(path)
  ) {
    throw new InvalidRequestError(`invalid mount path: ${written}`);
  }
  return path;
};

const pluginTypeWord = (kind: MountKind) =>
  kind === 'auth' ? 'auth' : 'secrets';

const refFor = (namespace: string, kind: MountKind, path: string) => ({
  namespace,
  kind,
  path,
});

/** The fields of `POST sys/mounts/:path` and `POST sys/auth/:path`. */
export interface EnableMountInput {
  namespace: string;
  kind: MountKind;
  /** The path as the request wrote it. */
  path: string;
  type: string;
  /** The deprecated top-level `plugin_name`, for type `plugin`. */
  pluginName: string;
  description: string;
  config: MountConfigInput & { plugin_name?: string; plugin_version?: string };
  options: Record<string, string> | null;
  local: boolean;
  sealWrap: boolean;
  externalEntropyAccess: boolean;
  /** `plugin_version` given beside `config` rather than inside it. */
  pluginVersion: string;
}

/** The plugin name a new mount runs, from its type and its aliases. */
const pluginNameOf = (input: EnableMountInput) => {
  if (input.type === '') {
    throw new InvalidRequestError('backend type must be specified as a string');
  }
  if (input.type !== 'plugin') return input.type;
  const named = input.config.plugin_name || input.pluginName;
  if (!named) {
    throw new InvalidRequestError(
      'plugin_name must be provided for plugin backend',
    );
  }
  return named;
};

/**
 * The `plugin_version` a new mount stores, by Vault's rules: a builtin's
 * own version is stored as "", a builtin name takes no other version, and
 * without a version the mount takes the unversioned plugin, else the newest
 * registered version, else the builtin one.
 */
const chooseVersion = (
  kind: MountKind,
  name: string,
  versions: PluginCollection['versions'],
  written: string,
): string => {
  const builtin = versions.find((plugin) => plugin.builtin);
  const unversioned = versions.find(
    (plugin) => plugin.version === '' && !plugin.builtin,
  );
  if (written !== '') {
    const version = canonicalVersion(written);
    if (builtin && version === builtin.version) {
      if (unversioned) {
        throw new InvalidRequestError(
          `${pluginTypeOfKind(kind)} plugin "${name}", version ${version} ` +
            'not found, as it is overridden by an unversioned plugin of the ' +
            'same name. Omit `plugin_version` to use the unversioned plugin',
        );
      }
      return '';
    }
    if (builtin) {
      throw new InvalidRequestError(
        'cannot select non-builtin version of ' +
          `${pluginTypeWord(kind)} plugin ${name}`,
      );
    }
    if (!versions.some((plugin) => plugin.version === version)) {
      throw pluginNotFound(name, version);
    }
    return version;
  }
  if (unversioned) return '';
  const newest = versions
    .filter((plugin) => !plugin.builtin && plugin.version !== '')
    .sort((left, right) => compareVersions(left.version, right.version))
    .at(-1);
  if (newest) return newest.version;
  if (builtin) return '';
  throw pluginNotFound(name);
};

/** Vault refuses builtins on their way out, and warns of deprecated ones. */
const deprecationWarnings = (type: string, status: string | undefined) => {
  if (status === 'pending removal' || status === 'removed') {
    throw new InvalidRequestError(
      `could not mount "${type}": ` +
        `mount entry associated with ${status} builtin`,
    );
  }
  return status === 'deprecated'
    ? ['mount entry associated with deprecated builtin']
    : [];
};

/** Refuses the paths and types Vault keeps to itself. */
const checkMountable = (kind: MountKind, path: string, type: string) => {
  if (kind === 'secret') {
    if (PROTECTED_SECRET_PATHS.some((prefix) => path.startsWith(prefix))) {
      throw new InvalidRequestError(`cannot mount "${path}"`);
    }
    if (SINGLETON_TYPES.has(type)) {
      throw new InvalidRequestError(`mount type of "${type}" is not mountable`);
    }
    return;
  }
  if (type === 'token' || type === 'ns_token') {
    throw new InvalidRequestError(
      'token credential backend cannot be instantiated',
    );
  }
  if (path.startsWith(TOKEN_AUTH_PATH)) {
    throw new InvalidRequestError(
      `path is already in use at ${TOKEN_AUTH_PATH}`,
    );
  }
};

const isCancellation = (error: unknown) =>
  error instanceof TransactionCanceledException
    ? (error.CancellationReasons ?? [])
    : undefined;

const failed = (reason: { Code?: string } | undefined) =>
  reason?.Code === 'ConditionalCheckFailed';

/**
 * `POST sys/mounts/:path`, `POST sys/auth/:path`: a new mount. It starts at
 * the generation 0, or above whatever workers acknowledged of a mount that
 * was at the same path before.
 *
 * @returns Vault's warnings for the new mount.
 */
export const enableMount = async (
  catalog: Catalog,
  input: EnableMountInput,
): Promise<{ warnings: string[]; mount: MountRef }> => {
  const path = mountPathOf(input.path);
  const ref = refFor(input.namespace, input.kind, path);
  let name = pluginNameOf(input);
  let options = input.options;
  // Vault's KV aliases name the engine `kv` and set its version.
  if (input.kind === 'secret' && Object.hasOwn(KV_ALIASES, name)) {
    const version = KV_ALIASES[name];
    name = 'kv';
    if (version) options = { ...options, version };
  } else if (options?.version && name !== 'kv') {
    throw new InvalidRequestError(
      input.kind === 'auth'
        ? `auth method "${name}" does not allow setting a version`
        : `secrets engine "${name}" does not allow setting a version`,
    );
  }
  const writtenVersion =
    input.config.plugin_version || input.pluginVersion || '';
  // Checked before the catalog is read: a malformed version needs no read.
  if (writtenVersion) canonicalVersion(writtenVersion);
  checkMountable(input.kind, path, name);
  const config = mountConfigOf(input.kind, input.config);

  const [collection, overlapping] = await Promise.all([
    readPluginCollection(catalog, name),
    findOverlappingMount(catalog, ref),
  ]);
  const type = pluginTypeOfKind(input.kind);
  const versions = collection.versions.filter((plugin) => plugin.type === type);
  const pluginVersion = chooseVersion(
    input.kind,
    name,
    versions,
    writtenVersion,
  );
  const pin = collection.pins.find((candidate) => candidate.type === type);
  const selected = selectPlugin(versions, pin, pluginVersion);
  if (!selected) throw pluginNotFound(name, pin?.version ?? pluginVersion);
  const warnings = selected.builtin
    ? deprecationWarnings(name, selected.deprecation_status)
    : [];
  if (overlapping) {
    throw new InvalidRequestError(
      `path is already in use at ${overlapping.path}`,
    );
  }

  const entry = newMountEntry({
    kind: input.kind,
    type: name,
    description: input.description,
    config,
    options,
    local: input.local,
    sealWrap: input.sealWrap,
    externalEntropyAccess: input.externalEntropyAccess,
    pluginVersion,
    builtinVersion: selected.builtin ? selected.version : undefined,
    deprecationStatus: selected.builtin
      ? selected.deprecation_status
      : undefined,
  });
  const generation = await startingGeneration(catalog, ref);
  const item: VersionedMount = {
    ...mountItemOf(ref, entry),
    generation,
    versionHistory: [{ generation, ...markOf(selected) }],
  };
  const above = candidateMountPaths(path).slice(1);
  const transaction: TransactWriteCommandInput['TransactItems'] = [
    {
      Put: {
        TableName: catalog.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    {
      // The plugin chosen must still be registered when the mount is made.
      ConditionCheck: {
        TableName: catalog.tableName,
        Key: pluginKey(selected.name, selected.type, selected.version),
        ConditionExpression: 'attribute_exists(pk)',
      },
    },
    // A mount made above the new one meanwhile would hold it inside.
    ...above.map((prefix) => ({
      ConditionCheck: {
        TableName: catalog.tableName,
        Key: mountKey({ ...ref, path: prefix }),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    })),
  ];
  try {
    await catalog.client.send(
      new TransactWriteCommand({ TransactItems: transaction }),
    );
  } catch (error) {
    const reasons = isCancellation(error);
    if (!reasons) throw error;
    const [mount, plugin, ...prefixes] = reasons;
    if (failed(mount)) {
      throw new InvalidRequestError(`path is already in use at ${path}`);
    }
    if (failed(plugin)) throw pluginNotFound(name, selected.version);
    const taken = prefixes.findIndex(failed);
    if (taken >= 0) {
      throw new InvalidRequestError(
        `path is already in use at ${above[taken]}`,
      );
    }
    throw error;
  }
  return { warnings, mount: ref };
};

/**
 * `DELETE sys/mounts/:path`, `DELETE sys/auth/:path`. A path with no mount
 * is a success, as in Vault, which does not say whether a mount existed.
 *
 * @returns the mount removed, if there was one.
 */
export const disableMount = async (
  catalog: Catalog,
  namespace: string,
  kind: MountKind,
  written: string,
): Promise<MountRef | undefined> => {
  const path = mountPathOf(written);
  if (
    kind === 'secret' &&
    PROTECTED_SECRET_PATHS.some((prefix) => path.startsWith(prefix))
  ) {
    throw new InvalidRequestError(`cannot unmount "${path}"`);
  }
  if (kind === 'auth' && path.startsWith(TOKEN_AUTH_PATH)) {
    throw new InvalidRequestError(
      'token credential backend cannot be disabled',
    );
  }
  const ref = refFor(namespace, kind, path);
  const answer = await catalog.client.send(
    new DeleteCommand({
      TableName: catalog.tableName,
      Key: mountKey(ref),
      ReturnValues: 'ALL_OLD',
    }),
  );
  return answer.Attributes ? ref : undefined;
};

/** Reads a mount for a tune, in Vault's words when there is none. */
const mountForTune = async (catalog: Catalog, ref: MountRef) => {
  const item = await getMount(catalog, ref);
  if (!item) {
    throw new InvalidRequestError(
      `tune of path "${displayMountPath(ref)}" failed: no mount entry found`,
    );
  }
  return item;
};

/** `GET sys/mounts/:path/tune`, `GET sys/auth/:path/tune`. */
export const readMountTune = async (
  catalog: Catalog,
  namespace: string,
  kind: MountKind,
  written: string,
) => {
  const ref = refFor(namespace, kind, mountPathOf(written));
  const item = await getMount(catalog, ref);
  if (!item) {
    throw new InvalidRequestError(
      `cannot fetch mount entry for path "${displayMountPath(ref)}"`,
    );
  }
  return tuneView(kind, item.entry);
};

export interface TuneMountRequest {
  namespace: string;
  kind: MountKind;
  path: string;
  tune: TuneInput;
  /** The fields the request gave, for the singleton mounts' rule. */
  fields: string[];
  /** Vault's behaviour: change the version, reload nothing. */
  skipReload: boolean;
}

export interface TuneOutcome {
  mount: MountRef;
  reloadId?: string;
  generation?: number;
  warnings: string[];
}

/** How often a tune is tried again after another write changed the mount. */
const TUNE_ATTEMPTS = 5;

/**
 * The version a mount runs, before and after its `plugin_version` changes,
 * and the pin that may hold it where it is.
 */
const versionShift = (
  collection: PluginCollection,
  kind: MountKind,
  before: MountEntry,
  after: MountEntry,
) => {
  const type = pluginTypeOfKind(kind);
  const versions = collection.versions.filter((plugin) => plugin.type === type);
  const pin = collection.pins.find((candidate) => candidate.type === type);
  const previous = markOf(
    selectPlugin(versions, pin, String(before.plugin_version ?? '')),
  );
  const next = markOf(
    selectPlugin(versions, pin, String(after.plugin_version ?? '')),
  );
  return { previous, next, pin };
};

/**
 * `POST sys/mounts/:path/tune`, `POST sys/auth/:path/tune`. A new
 * `plugin_version` must be registered. When it changes the version the
 * mount runs, the new entry and the mount's next generation are written in
 * one transaction and the answer carries the reload id, unless
 * `skipReload` asks for Vault's behaviour: the mount then runs the new
 * version from its next reload on.
 */
export const tuneMount = async (
  catalog: Catalog,
  request: TuneMountRequest,
): Promise<TuneOutcome> => {
  const path = mountPathOf(request.path);
  checkTunable(request.kind, path, request.fields);
  const ref = refFor(request.namespace, request.kind, path);
  const where = qualifiedMountPath(ref);
  const tune = { ...request.tune };
  if (tune.plugin_version !== undefined) {
    tune.plugin_version = canonicalVersion(tune.plugin_version);
  }

  for (let attempt = 0; attempt < TUNE_ATTEMPTS; attempt++) {
    const seen = await mountForTune(catalog, ref);
    const entry = tunedEntry(request.kind, seen.entry, tune);
    const type = pluginTypeOfKind(request.kind);
    const plugin = `${type} plugin ${seen.pluginName}`;
    const warnings: string[] = [];
    let shift:
      | { previous: PluginVersionMark; next: PluginVersionMark }
      | undefined;
    if (
      tune.plugin_version !== undefined &&
      tune.plugin_version !== (seen.entry.plugin_version ?? '')
    ) {
      const collection = await readPluginCollection(catalog, seen.pluginName);
      const wanted = collection.versions.find(
        (candidate) =>
          candidate.type === type && candidate.version === tune.plugin_version,
      );
      if (tune.plugin_version !== '' && !wanted) {
        throw pluginNotFound(seen.pluginName, tune.plugin_version);
      }
      const found = versionShift(collection, request.kind, seen.entry, entry);
      if (found.pin) {
        warnings.push(
          `${where} is pinned to ${found.pin.version} by ` +
            `sys/plugins/pins/${type}/${seen.pluginName}; ` +
            'it keeps running that version',
        );
      }
      if (!sameMark(found.previous, found.next)) shift = found;
    }

    if (shift && !request.skipReload) {
      const outcome = await writeVersionReload(catalog, {
        namespace: request.namespace,
        plugin: '',
        changes: [
          {
            mount: ref,
            seen,
            previous: shift.previous,
            next: shift.next,
            entryOf: (current) => tunedEntry(request.kind, current.entry, tune),
          },
        ],
        catalogItems: [
          pluginStillRegistered(catalog, seen, request.kind, tune),
        ],
        onVanished: 'fail',
      });
      warnings.push(
        `${where} will reload to run ${plugin} ` +
          describeVersion(shift.next.version),
      );
      return {
        mount: ref,
        reloadId: outcome.reloadId,
        generation: outcome.moved[0]?.generation,
        warnings,
      };
    }
    if (shift) {
      warnings.push(
        `${where} is to run ${plugin} ` +
          `${describeVersion(shift.next.version)} from its next reload; ` +
          `it keeps running ${describeVersion(shift.previous.version)} ` +
          'until then',
      );
    }
    const history = shift
      ? historyWith(
          seen as VersionedMount,
          seen.generation + 1,
          shift.previous,
          shift.next,
        )
      : undefined;
    if (await writeEntry(catalog, seen, entry, history)) {
      return { mount: ref, warnings };
    }
  }
  throw new ContendedReloadError();
};

/** The version a tune moves to must still be registered when it is written. */
const pluginStillRegistered = (
  catalog: Catalog,
  seen: MountItem,
  kind: MountKind,
  tune: TuneInput,
) => ({
  ConditionCheck: {
    TableName: catalog.tableName,
    Key: pluginKey(
      seen.pluginName,
      pluginTypeOfKind(kind),
      tune.plugin_version ?? '',
    ),
    ConditionExpression: 'attribute_exists(pk)',
  },
});

/**
 * Writes a tuned entry with no reload, if the mount still holds the entry
 * and generation it was tuned from.
 *
 * @returns false when another write got there first.
 */
const writeEntry = async (
  catalog: Catalog,
  seen: MountItem,
  entry: MountEntry,
  history: VersionedMount['versionHistory'],
): Promise<boolean> => {
  try {
    await catalog.client.send(
      new UpdateCommand({
        TableName: catalog.tableName,
        Key: { pk: seen.pk, sk: seen.sk },
        UpdateExpression: history
          ? 'SET #entry = :entry, versionHistory = :history'
          : 'SET #entry = :entry',
        ConditionExpression: '#entry = :seenEntry AND generation = :seen',
        ExpressionAttributeNames: { '#entry': 'entry' },
        ExpressionAttributeValues: {
          ':entry': entry,
          ':seenEntry': seen.entry,
          ':seen': seen.generation,
          ...(history ? { ':history': history } : {}),
        },
      }),
    );
    return true;
  } catch (error) {
    if (
      error instanceof Error &&
      error.name === 'ConditionalCheckFailedException'
    ) {
      return false;
    }
    throw error;
  }
};

/** How long a move's outcome stays readable at `sys/remount/status`. */
const MIGRATION_RECORD_DAYS = 30;

/** A finished `sys/remount`, as its status endpoint reports it. */
export interface MigrationItem {
  pk: string;
  sk: string;
  migrationId: string;
  namespace: string;
  sourceMount: string;
  targetMount: string;
  status: 'success';
  createdAt: string;
  expiresAt: number;
}

/** `from` and `to` of a remount: `auth/` names the auth table. */
const remountPath = (field: 'from' | 'to', written: string) => {
  if (written.trim() !== written) {
    throw new InvalidRequestError(
      `'${field}' path cannot contain trailing whitespace`,
    );
  }
  const auth = written.replace(/^\/+/, '').startsWith('auth/');
  const bare = written.replace(/^\/+/, '').replace(/^auth\//, '');
  return { auth, written, path: bare };
};

/**
 * `POST sys/remount`: moves a mount to another path of the same table, with
 * its generation and the history of what its generations run, in one
 * transaction. Vault answers at once and moves the mount in the
 * background; here the move is done when the answer comes, and its status
 * already reads as a success.
 *
 * @returns the id under which `sys/remount/status` reports the move.
 */
export const remountMount = async (
  catalog: Catalog,
  namespace: string,
  fromWritten: string,
  toWritten: string,
): Promise<MigrationItem> => {
  if (fromWritten === '' || toWritten === '') {
    throw new InvalidRequestError(
      "both 'from' and 'to' path must be specified as a string",
    );
  }
  const from = remountPath('from', fromWritten);
  const to = remountPath('to', toWritten);
  if (to.path === '' || to.path === '/') {
    throw new InvalidRequestError(
      `invalid destination mount path "${toWritten}"`,
    );
  }
  const toPath = withTrailingSlash(to.path);
  if (toPath.includes('//') || /(^|\/)\.\.?\//.test(toPath)) {
    throw new InvalidRequestError(
      `invalid destination mount: path '${toWritten}' is not a clean path`,
    );
  }
  const fromPath = mountPathOf(from.path || '/');
  if (from.auth && !to.auth) {
    throw new InvalidRequestError(
      'cannot remount auth mount to non-auth mount ' +
        `"${withTrailingSlash(toWritten)}"`,
    );
  }
  const kind: MountKind = from.auth ? 'auth' : 'secret';
  if (from.auth) {
    if (fromPath.startsWith(TOKEN_AUTH_PATH)) {
      throw new InvalidRequestError(`cannot remount "auth/${fromPath}"`);
    }
    if (toPath.startsWith(TOKEN_AUTH_PATH)) {
      throw new InvalidRequestError(
        `cannot remount to destination "auth/${toPath}"`,
      );
    }
  } else {
    const fullTo = to.auth ? `auth/${toPath}` : toPath;
    for (const prefix of PROTECTED_SECRET_PATHS) {
      if (fromPath.startsWith(prefix)) {
        throw new InvalidRequestError(`cannot remount "${fromPath}"`);
      }
      if (fullTo.startsWith(prefix)) {
        throw new InvalidRequestError(
          `cannot remount to destination ${fullTo}`,
        );
      }
    }
  }
  const source = refFor(namespace, kind, fromPath);
  const target = refFor(namespace, kind, mountPathOf(toPath));
  const [seen, overlapping] = await Promise.all([
    getMount(catalog, source),
    findOverlappingMount(catalog, target),
  ]);
  if (!seen) {
    throw new InvalidRequestError(
      `no matching mount at "${displayMountPath(source)}"`,
    );
  }
  if (overlapping) {
    throw new InvalidRequestError(
      `path already in use at "${displayMountPath({
        kind,
        path: overlapping.path,
      })}"`,
    );
  }

  // The generation goes with the mount; it only starts higher where workers
  // remember an older mount at the new path.
  const generation = await startingGeneration(catalog, target, seen.generation);
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...kept } = seen;
  const moved = {
    ...kept,
    ...mountItemOf(target, seen.entry),
    generation,
  };
  const createdAt = new Date();
  const migrationId = randomUUID();
  const migration: MigrationItem = {
    ...migrationKey(migrationId),
    migrationId,
    namespace,
    sourceMount: qualifiedMountPath(source),
    targetMount: qualifiedMountPath(target),
    status: 'success',
    createdAt: createdAt.toISOString(),
    expiresAt:
      Math.floor(createdAt.getTime() / 1000) +
      MIGRATION_RECORD_DAYS * 24 * 60 * 60,
  };
  const above = candidateMountPaths(target.path).slice(1);
  const transaction: TransactWriteCommandInput['TransactItems'] = [
    {
      Delete: {
        TableName: catalog.tableName,
        Key: mountKey(source),
        // Moved only as read: a reload or tune meanwhile means read again.
        ConditionExpression: 'generation = :seen AND #entry = :seenEntry',
        ExpressionAttributeNames: { '#entry': 'entry' },
        ExpressionAttributeValues: {
          ':seen': seen.generation,
          ':seenEntry': seen.entry,
        },
      },
    },
    {
      Put: {
        TableName: catalog.tableName,
        Item: moved,
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    { Put: { TableName: catalog.tableName, Item: migration } },
    ...above.map((prefix) => ({
      ConditionCheck: {
        TableName: catalog.tableName,
        Key: mountKey({ ...target, path: prefix }),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    })),
  ];
  try {
    await catalog.client.send(
      new TransactWriteCommand({ TransactItems: transaction }),
    );
  } catch (error) {
    const reasons = isCancellation(error);
    if (!reasons) throw error;
    const [removed, put, , ...prefixes] = reasons;
    if (failed(removed)) throw new ContendedReloadError();
    if (failed(put) || prefixes.some(failed)) {
      throw new InvalidRequestError(
        `path already in use at "${displayMountPath(target)}"`,
      );
    }
    throw error;
  }
  return migration;
};

/** `GET sys/remount/status/:migration_id`. */
export const readMigration = async (
  catalog: Catalog,
  namespace: string,
  migrationId: string,
) => {
  const answer = await catalog.client.send(
    new GetCommand({
      TableName: catalog.tableName,
      Key: migrationKey(migrationId),
    }),
  );
  const item = answer.Item as MigrationItem | undefined;
  if (!item || item.namespace !== namespace) {
    throw new NotFoundError(`no migration with id ${migrationId}`);
  }
  return {
    migration_id: item.migrationId,
    migration_info: {
      source_mount: item.sourceMount,
      target_mount: item.targetMount,
      status: item.status,
    },
  };
};
