import { randomUUID } from 'node:crypto';
import { ContendedReloadError, InvalidRequestError } from '../api/errors.js';
import type { Catalog } from '../catalog/client.js';
import {
  historyWith,
  type PluginVersionMark,
  type VersionedMount,
} from '../catalog/effective-version.js';
import type { MountEntry, MountItem } from '../catalog/items.js';
import type { MountRef } from '../catalog/keys.js';
import { displayMountPath } from '../catalog/mount-path.js';
import type { ReloadRecord } from './reload-record.js';
import {
  CatalogChangedError,
  ContendedWriteError,
  type TransactionItem,
  VanishedMountsError,
  type WrittenTarget,
  writeReload,
} from './write-reload.js';

/**
 * Reloads that a catalog change causes: a new pinned version, or a mount
 * tuned to another `plugin_version`. The change and the generations it
 * moves are written together, so no mount runs a new version without its
 * workers being told to reload, and no generation moves for a change that
 * was not written.
 */

/** One mount whose plugin version changes. */
export interface VersionChange {
  mount: MountRef;
  /** The mount as read when the change was decided. */
  seen: MountItem;
  /** The version it ran, and the one it is to run. */
  previous: PluginVersionMark;
  next: PluginVersionMark;
  /**
   * The mount's new entry, for a change the entry itself carries (a tune);
   * worked out again from the mount as it is if a concurrent write got there
   * first.
   */
  entryOf?: (seen: MountItem) => MountEntry;
}

export interface VersionReloadRequest {
  /** "" for a change that reaches every namespace, such as a pin. */
  namespace: string;
  /** The plugin, for a change of the whole plugin; "" for one mount. */
  plugin: string;
  changes: VersionChange[];
  /** The catalog writes that cause the reload. */
  catalogItems: TransactionItem[];
  /** A mount deleted meanwhile fails a tune, and is dropped from a pin. */
  onVanished: 'fail' | 'skip';
}

export interface VersionReloadOutcome {
  reloadId: string;
  moved: WrittenTarget[];
}

/**
 * Writes the catalog change and raises each changed mount's generation by
 * one, recording from which generation on its workers are to run the new
 * version.
 *
 * @throws ContendedReloadError when concurrent writers kept winning, or the
 *   catalog item changed meanwhile; nothing was written.
 */
export const writeVersionReload = async (
  catalog: Catalog,
  request: VersionReloadRequest,
): Promise<VersionReloadOutcome> => {
  const record: ReloadRecord = {
    reloadId: randomUUID(),
    namespace: request.namespace,
    plugin: request.plugin,
    scope: '',
    createdAt: new Date().toISOString(),
    targetCount: request.changes.length,
  };
  const targets = request.changes.map((change) => ({
    mount: change.mount,
    seenGeneration: change.seen.generation,
    change: {
      seen: change.seen,
      attributes: (seen: MountItem, generation: number) => ({
        versionHistory: historyWith(
          seen as VersionedMount,
          generation,
          change.previous,
          change.next,
        ),
        ...(change.entryOf ? { entry: change.entryOf(seen) } : {}),
      }),
    },
  }));
  try {
    const moved = await writeReload(catalog, record, targets, {
      onVanished: request.onVanished,
      catalogItems: request.catalogItems,
    });
    return { reloadId: record.reloadId, moved };
  } catch (error) {
    if (error instanceof VanishedMountsError) {
      throw new InvalidRequestError(
        error.mounts.map((mount) => `no mount at ${displayMountPath(mount)}`),
      );
    }
    if (
      error instanceof ContendedWriteError ||
      error instanceof CatalogChangedError
    ) {
      throw new ContendedReloadError();
    }
    throw error;
  }
};
