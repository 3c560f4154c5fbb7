import { randomUUID } from 'node:crypto';
import { ContendedReloadError, InvalidRequestError } from '../api/errors.js';
import type { Catalog } from '../catalog/client.js';
import type { MountKind, MountRef } from '../catalog/keys.js';
import {
  displayMountPath,
  isSingletonPath,
  MountPathError,
  parseMountPath,
} from '../catalog/mount-path.js';
import { resolveMountPaths } from '../catalog/mounts.js';
import { findMountsRunning, findPluginVersions } from '../catalog/plugins.js';
import type { ReloadRecord } from './reload-record.js';
import {
  ContendedWriteError,
  TARGETS_PER_TRANSACTION,
  VanishedMountsError,
  type WrittenTarget,
  writeReload,
} from './write-reload.js';

/** Plugin types whose mounts can be reloaded. */
const RELOADABLE_TYPES = new Set(['auth', 'secret']);

export interface ReloadOutcome {
  /** Absent when nothing was written. */
  reloadId?: string;
  moved: WrittenTarget[];
  warnings: string[];
}

export interface ReloadContext {
  catalog: Catalog;
  scope: '' | 'global';
  onRequest?: () => void;
}

/**
 * Reloads the named mounts of one namespace: every path is resolved to its
 * mount, and if any is missing or a singleton the request fails naming them
 * all and nothing moves. Otherwise one transaction raises every mount's
 * generation by one.
 */
export const reloadMounts = async (
  context: ReloadContext,
  namespace: string,
  written: string[],
): Promise<ReloadOutcome> => {
  const problems: string[] = [];
  const inputs = written.flatMap((path) => {
    try {
      const input = parseMountPath(path);
      if (isSingletonPath(input)) {
        problems.push(
          `cannot reload singleton mount: ${displayMountPath(input)}`,
        );
        return [];
      }
      return [input];
    } catch (error) {
      if (error instanceof MountPathError) {
        problems.push(error.message);
        return [];
      }
      throw error;
    }
  });
  if (problems.length > 0) throw new InvalidRequestError(problems);

  const resolved = await resolveMountPaths(
    context.catalog,
    namespace,
    inputs,
    context.onRequest,
  );
  const targets = new Map<string, { mount: MountRef; generation: number }>();
  for (const { input, mount } of resolved) {
    if (!mount) {
      problems.push(`no mount at ${displayMountPath(input)}`);
      continue;
    }
    const ref: MountRef = { namespace, kind: mount.kind, path: mount.path };
    if (isSingletonPath(ref)) {
      problems.push(`cannot reload singleton mount: ${displayMountPath(ref)}`);
      continue;
    }
    // `foo`, `foo/` and `foo/inner` name one target.
    targets.set(`${mount.pk}\n${mount.sk}`, {
      mount: ref,
      generation: mount.generation,
    });
  }
  if (problems.length > 0) throw new InvalidRequestError(problems);
  if (targets.size > TARGETS_PER_TRANSACTION) {
    throw new InvalidRequestError(
      `at most ${TARGETS_PER_TRANSACTION} mounts can be reloaded in one request; reload by plugin or split the list`,
    );
  }
  return write(
    context,
    { namespace, plugin: '' },
    [...targets.values()],
    'fail',
  );
};

/**
 * Reloads every mount that runs a plugin: in one namespace, or with
 * `namespace` absent in all of them (optionally only one plugin type).
 * The plugin must be in the catalog, at any version, as an auth or secret
 * plugin; a plugin with no mounts is a success that moves nothing.
 */
export const reloadPlugin = async (
  context: ReloadContext,
  plugin: string,
  scope: { namespace?: string; type?: 'auth' | 'secret' },
): Promise<ReloadOutcome> => {
  const kind: MountKind | undefined = scope.type;
  // The catalog and the plugin index are read at once: the mounts are only
  // used once the catalog has said the plugin may be reloaded.
  const [versions, mounts] = await Promise.all([
    findPluginVersions(context.catalog, plugin),
    findMountsRunning(context.catalog, plugin, {
      namespace: scope.namespace,
      kind,
    }),
  ]);
  const types = new Set(versions.map((version) => version.type));
  if (types.size === 0) {
    throw new InvalidRequestError(`plugin not found in the catalog: ${plugin}`);
  }
  const registered = [...types].join(' and ');
  if (
    kind &&
    !types.has(kind) &&
    types.has(kind === 'auth' ? 'secret' : 'auth')
  ) {
    throw new InvalidRequestError(
      `plugin ${plugin} is not a ${kind} plugin: it is registered as a ${registered} plugin`,
    );
  }
  const reloadable = [...types].filter((type) => RELOADABLE_TYPES.has(type));
  if (reloadable.length === 0 || (kind && !types.has(kind))) {
    throw new InvalidRequestError(
      `only auth and secret plugins can be reloaded: ${plugin} is a ${registered} plugin`,
    );
  }
  if (mounts.length === 0) {
    return {
      moved: [],
      warnings: [`no mounts run plugin ${plugin}; nothing was reloaded`],
    };
  }
  const targets = mounts.map((mount) => ({
    mount: { namespace: mount.namespace, kind: mount.kind, path: mount.path },
    generation: mount.generation,
  }));
  return write(
    context,
    { namespace: scope.namespace ?? '', plugin },
    targets,
    'skip',
  );
};

const write = async (
  context: ReloadContext,
  request: Pick<ReloadRecord, 'namespace' | 'plugin'>,
  targets: { mount: MountRef; generation: number }[],
  onVanished: 'fail' | 'skip',
): Promise<ReloadOutcome> => {
  const record: ReloadRecord = {
    reloadId: randomUUID(),
    ...request,
    scope: context.scope,
    createdAt: new Date().toISOString(),
    targetCount: targets.length,
  };
  try {
    const moved = await writeReload(
      context.catalog,
      record,
      targets.map(({ mount, generation }) => ({
        mount,
        seenGeneration: generation,
      })),
      { onVanished, onRequest: context.onRequest },
    );
    return { reloadId: record.reloadId, moved, warnings: [] };
  } catch (error) {
    if (error instanceof VanishedMountsError) {
      throw new InvalidRequestError(
        error.mounts.map((mount) => `no mount at ${displayMountPath(mount)}`),
      );
    }
    if (error instanceof ContendedWriteError) throw new ContendedReloadError();
    throw error;
  }
};
