import type { Catalog } from '../catalog/client.js';
import { mapInFlight } from '../catalog/in-flight.js';
import {
  type MountRef,
  observationCollectionKey,
  RELOAD_TARGET_PREFIX,
  reloadCollectionKey,
} from '../catalog/keys.js';
import { displayMountPath } from '../catalog/mount-path.js';
import { queryAll } from '../catalog/query.js';
import type { ObservationItem } from './observation.js';
import type { ReloadRecord, ReloadTargetItem } from './reload-record.js';

/** How many mounts' observations are read at once. */
const MOUNTS_IN_FLIGHT = 16;

export interface WorkerResult {
  timestamp: string;
  error: string;
}

export interface MountStatus {
  namespace: string;
  generation: number;
  reloaded: { worker_id: string; timestamp: string }[];
  pending: string[];
  failed: { worker_id: string; timestamp: string; error: string }[];
}

export interface ReloadStatus {
  reload_id: string;
  /** Vault's shape: one entry per worker that finished, keyed by its id. */
  results: Record<string, WorkerResult>;
  plugin: string;
  namespace: string;
  created_at: string;
  mounts: Record<string, MountStatus>;
}

/**
 * The status of one reload, per mount and per worker: reloaded once the
 * worker reloaded the target generation or a later one, failed when its
 * callback failed there, pending while it has not reached it.
 *
 * @returns undefined when there is no such reload.
 */
export const readReloadStatus = async (
  catalog: Catalog,
  reloadId: string,
): Promise<ReloadStatus | undefined> => {
  const items = await queryAll<Record<string, unknown>>(catalog, {
    KeyConditionExpression: 'pk = :reload',
    ExpressionAttributeValues: { ':reload': reloadCollectionKey(reloadId) },
  });
  const record = items.find((item) => item.sk === 'RELOAD') as
    | ReloadRecord
    | undefined;
  if (!record) return undefined;
  const targets = items.filter((item) =>
    String(item.sk).startsWith(RELOAD_TARGET_PREFIX),
  ) as unknown as ReloadTargetItem[];

  const observations = await mapInFlight(targets, MOUNTS_IN_FLIGHT, (target) =>
    queryAll<ObservationItem>(catalog, {
      KeyConditionExpression: 'pk = :mount',
      ExpressionAttributeValues: {
        ':mount': observationCollectionKey(target),
      },
    }),
  );

  const results: Record<string, WorkerResult> = {};
  const mounts: Record<string, MountStatus> = {};
  targets.forEach((target, index) => {
    const status: MountStatus = {
      namespace: target.namespace,
      generation: target.generation,
      reloaded: [],
      pending: [],
      failed: [],
    };
    for (const seen of observations[index] ?? []) {
      if (seen.reloadedGeneration >= target.generation) {
        status.reloaded.push({
          worker_id: seen.workerId,
          timestamp: seen.reloadedAt,
        });
        mergeResult(results, seen.workerId, seen.reloadedAt, '');
      } else if (seen.observedGeneration >= target.generation) {
        status.failed.push({
          worker_id: seen.workerId,
          timestamp: seen.observedAt,
          error: seen.error,
        });
        mergeResult(results, seen.workerId, seen.observedAt, seen.error);
      } else {
        status.pending.push(seen.workerId);
      }
    }
    mounts[qualifiedPath(target)] = status;
  });
  return {
    reload_id: record.reloadId,
    results,
    plugin: record.plugin,
    namespace: record.namespace,
    created_at: record.createdAt,
    mounts,
  };
};

/**
 * A worker's entry in Vault's `results`: its latest time across the mounts,
 * and every error it reported, so one failure is not hidden by a success.
 */
const mergeResult = (
  results: Record<string, WorkerResult>,
  workerId: string,
  timestamp: string,
  error: string,
) => {
  const previous = results[workerId];
  const errors = [previous?.error, error].filter(Boolean);
  results[workerId] = {
    timestamp:
      previous && previous.timestamp > timestamp
        ? previous.timestamp
        : timestamp,
    error: [...new Set(errors)].join('; '),
  };
};

/** A mount's path with its namespace, as a reload across namespaces needs. */
const qualifiedPath = (mount: MountRef) =>
  `${mount.namespace}${displayMountPath(mount)}`;
