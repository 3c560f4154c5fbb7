import type { ItemKey, MountKind } from '../catalog/keys.js';
import { KEY_SEPARATOR } from '../catalog/keys.js';

/**
 * What one worker last observed of one mount, as Kubernetes keeps an
 * `observedGeneration`: the highest generation it reached, and of those the
 * highest it reloaded without error.
 */
export interface ObservationItem {
  pk: string;
  sk: string;
  workerId: string;
  namespace: string;
  kind: MountKind;
  path: string;
  /** The highest generation the worker acted on, successfully or not. */
  observedGeneration: number;
  /** The highest generation whose reload succeeded (or that it started at). */
  reloadedGeneration: number;
  /** The reload that moved the mount to `observedGeneration`, if known. */
  reloadId?: string;
  /** RFC 3339 time of the last observation. */
  observedAt: string;
  /** RFC 3339 time `reloadedGeneration` was reached. */
  reloadedAt: string;
  /** The callback's error for `observedGeneration`, "" when it succeeded. */
  error: string;
  /**
   * RFC 3339 time the worker stopped serving the mount, when it dropped it;
   * the status then waits for it no longer.
   */
  releasedAt?: string;
  /** Epoch seconds after which DynamoDB may delete the item. */
  expiresAt?: number;
}

/**
 * A worker's heartbeat: one item per worker, rewritten while it runs, that
 * says until when the worker counts as live and names the mounts it serves.
 * The status compares `heartbeatExpiresAt` with the clock, so a worker that
 * stopped is stale as soon as its heartbeat runs out, long before DynamoDB's
 * time to live deletes the item.
 */
export interface HeartbeatItem {
  pk: string;
  sk: string;
  workerId: string;
  /** RFC 3339 time after which the worker counts as stale. */
  heartbeatExpiresAt: string;
  /** RFC 3339 time the worker's watcher started. */
  startedAt: string;
  /** How many mounts the worker serves. */
  mountCount: number;
  /**
   * The mounts it serves, as `namespace` + Vault path; at most
   * `HEARTBEAT_LISTED_MOUNTS` of them, so the item stays small.
   */
  mounts: string[];
  /** Epoch seconds after which DynamoDB may delete the item. */
  expiresAt: number;
}

/**
 * The heartbeat is rewritten every few seconds and read by every status
 * request, so it names only this many mounts; `mountCount` gives the rest.
 */
export const HEARTBEAT_LISTED_MOUNTS = 200;

/**
 * How long a stopped worker stays in the status as stale. Past this it is
 * gone: left out, so workers that came and went do not pile up in the status
 * of every later reload.
 */
export const STALE_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * How long an observation is kept after its last write. A live worker
 * renews its observations well before then, so only those of workers that
 * are gone expire.
 */
export const OBSERVATION_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

export const heartbeatKey = (workerId: string): ItemKey => ({
  pk: `WORKER${KEY_SEPARATOR}${workerId}`,
  sk: 'HEARTBEAT',
});

/** Epoch seconds, as DynamoDB's time to live reads them. */
export const epochSeconds = (time: Date | number) =>
  Math.floor((typeof time === 'number' ? time : time.getTime()) / 1000);
