import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { batchGet } from '../catalog/batch-get.js';
import type { Catalog } from '../catalog/client.js';
import { mapInFlight } from '../catalog/in-flight.js';
import {
  KEY_SEPARATOR,
  type MountRef,
  observationCollectionKey,
  RELOAD_TARGET_PREFIX,
  reloadCollectionKey,
  reloadKey,
} from '../catalog/keys.js';
import { displayMountPath } from '../catalog/mount-path.js';
import { queryAll } from '../catalog/query.js';
import {
  type HeartbeatItem,
  heartbeatKey,
  type ObservationItem,
  STALE_RETENTION_MS,
} from './observation.js';
import type { ReloadRecord, ReloadTargetItem } from './reload-record.js';

/** How many mounts' observations are read at once. */
const MOUNTS_IN_FLIGHT = 16;

/** Mounts on one page of the status unless the caller asks otherwise. */
export const DEFAULT_STATUS_LIMIT = 100;

/** The most mounts one page may hold; each costs one Query. */
export const MAX_STATUS_LIMIT = 1000;

/** Vault's entry for one worker in `results`. */
export interface WorkerResult {
  timestamp: string;
  error: string;
}

export interface MountStatus {
  namespace: string;
  /** The mount as Vault names it in its namespace: `auth/oidc/`. */
  path: string;
  /** The generation this reload moved the mount to. */
  generation: number;
  /** Live or not, the workers that reached the generation (or a later one). */
  reloaded: { worker_id: string; timestamp: string }[];
  /** Live workers serving the mount that have not reached it yet. */
  pending: string[];
  /** Workers whose reload of the generation (or a later one) failed. */
  failed: { worker_id: string; timestamp: string; error: string }[];
  /** Workers that had not reached it when their heartbeat ran out. */
  stale: { worker_id: string; heartbeat_expired_at: string }[];
}

export interface ReloadStatus {
  reload_id: string;
  /**
   * Vault's shape: one entry per worker that finished on a mount of this
   * page, keyed by its id.
   */
  results: Record<string, WorkerResult>;
  plugin: string;
  namespace: string;
  created_at: string;
  /** How many mounts the reload moved, over all pages. */
  target_count: number;
  /** The mounts of this page, keyed by namespace and Vault path. */
  mounts: Record<string, MountStatus>;
  /** Pass as `after` for the next page; null on the last page. */
  next_after: string | null;
}

export interface StatusPage {
  /** A `next_after` from an earlier page. */
  after?: string;
  limit?: number;
  /** The time heartbeats are compared with. */
  now?: Date;
}

/** An `after` that no page of the status handed out. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

/**
 * The status of one reload, a page of its mounts at a time, per mount and
 * per worker. A worker counts as reloaded once it reloaded the target
 * generation or a later one, as failed when its callback failed there, and
 * otherwise as pending while its heartbeat is live and stale once it ran
 * out. A worker that dropped the mount, or that has been gone for a day, is
 * left out unless it had reached the target.
 *
 * Cost: one key lookup and one Query for the page of targets, one Query per
 * mount of the page, and one batched lookup per 100 undecided workers.
 *
 * @returns undefined when there is no such reload.
 */
export const readReloadStatus = async (
  catalog: Catalog,
  reloadId: string,
  page: StatusPage = {},
): Promise<ReloadStatus | undefined> => {
  const limit = page.limit ?? DEFAULT_STATUS_LIMIT;
  const startAfter =
    page.after === undefined ? undefined : decodeCursor(page.after);
  const [recordAnswer, targetPage] = await Promise.all([
    catalog.client.send(
      new GetCommand({
        TableName: catalog.tableName,
        Key: reloadKey(reloadId),
      }),
    ),
    catalog.client.send(
      new QueryCommand({
        TableName: catalog.tableName,
        KeyConditionExpression: 'pk = :reload AND begins_with(sk, :target)',
        ExpressionAttributeValues: {
          ':reload': reloadCollectionKey(reloadId),
          ':target': RELOAD_TARGET_PREFIX,
        },
        ExclusiveStartKey:
          startAfter === undefined
            ? undefined
            : { pk: reloadCollectionKey(reloadId), sk: startAfter },
        // One more than the page holds tells whether another page follows,
        // so the last page never points at an empty one.
        Limit: limit + 1,
      }),
    ),
  ]);
  const record = recordAnswer.Item as ReloadRecord | undefined;
  if (!record) return undefined;
  const found = (targetPage.Items ?? []) as (ReloadTargetItem & {
    sk: string;
  })[];
  const targets = found.slice(0, limit);
  const last = targets.at(-1);
  const hasMore = found.length > limit || targetPage.LastEvaluatedKey;
  const nextAfter = hasMore && last ? encodeCursor(last.sk) : null;

  const observations = await mapInFlight(targets, MOUNTS_IN_FLIGHT, (target) =>
    queryAll<ObservationItem>(catalog, {
      KeyConditionExpression: 'pk = :mount',
      ExpressionAttributeValues: {
        ':mount': observationCollectionKey(target),
      },
    }),
  );
  const undecided = new Set<string>();
  targets.forEach((target, index) => {
    for (const seen of observations[index] ?? []) {
      if (seen.observedGeneration < target.generation && !seen.releasedAt) {
        undecided.add(seen.workerId);
      }
    }
  });
  const heartbeats = await readHeartbeats(catalog, [...undecided]);
  const now = (page.now ?? new Date()).getTime();

  const results: Record<string, WorkerResult> = {};
  const mounts: Record<string, MountStatus> = {};
  targets.forEach((target, index) => {
    const status: MountStatus = {
      namespace: target.namespace,
      path: displayMountPath(target),
      generation: target.generation,
      reloaded: [],
      pending: [],
      failed: [],
      stale: [],
    };
    const seenHere = [...(observations[index] ?? [])].sort((a, b) =>
      a.workerId.localeCompare(b.workerId),
    );
    for (const seen of seenHere) {
      if (seen.reloadedGeneration >= target.generation) {
        status.reloaded.push({
          worker_id: seen.workerId,
          timestamp: seen.reloadedAt,
        });
        mergeResult(results, seen.workerId, seen.reloadedAt, '');
        continue;
      }
      if (seen.observedGeneration >= target.generation) {
        status.failed.push({
          worker_id: seen.workerId,
          timestamp: seen.observedAt,
          error: seen.error,
        });
        mergeResult(results, seen.workerId, seen.observedAt, seen.error);
        continue;
      }
      if (seen.releasedAt) continue;
      const expiresAt = heartbeats.get(seen.workerId);
      const expiry = expiresAt ? Date.parse(expiresAt) : Number.NaN;
      // No heartbeat, or one long run out: a worker that is gone.
      if (Number.isNaN(expiry) || expiry + STALE_RETENTION_MS <= now) continue;
      if (expiry > now) status.pending.push(seen.workerId);
      else {
        status.stale.push({
          worker_id: seen.workerId,
          heartbeat_expired_at: new Date(expiry).toISOString(),
        });
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
    target_count: record.targetCount,
    mounts,
    next_after: nextAfter,
  };
};

/** Each worker's heartbeat expiry, for the workers that have one. */
const readHeartbeats = async (catalog: Catalog, workerIds: string[]) => {
  const items = await batchGet<HeartbeatItem>(
    catalog,
    workerIds.map(heartbeatKey),
    // A heartbeat a moment old only delays when a stopped worker shows as
    // stale, by less than one of its refreshes.
    { attributes: ['workerId', 'heartbeatExpiresAt'], consistentRead: false },
  );
  return new Map(items.map((item) => [item.workerId, item.heartbeatExpiresAt]));
};

/**
 * The cursor is the sort key of the page's last target, so the next page is
 * one Query from exactly there. It is encoded to keep callers from building
 * one by hand: mount paths contain slashes, and a namespace could not be
 * told apart from the path inside it.
 */
const encodeCursor = (sortKey: string) =>
  Buffer.from(sortKey.slice(RELOAD_TARGET_PREFIX.length), 'utf8').toString(
    'base64url',
  );

const decodeCursor = (cursor: string) => {
  const sortKey = Buffer.from(cursor, 'base64url').toString('utf8');
  if (
    !/^[A-Za-z0-9_-]+$/.test(cursor) ||
    sortKey.split(KEY_SEPARATOR).length !== 3 ||
    encodeCursor(`${RELOAD_TARGET_PREFIX}${sortKey}`) !== cursor
  ) {
    throw new InvalidCursorError(
      'after must be the next_after of an earlier page of this status',
    );
  }
  return `${RELOAD_TARGET_PREFIX}${sortKey}`;
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
