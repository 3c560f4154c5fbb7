import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Catalog } from '../catalog/client.js';
import {
  epochSeconds,
  HEARTBEAT_LISTED_MOUNTS,
  type HeartbeatItem,
  heartbeatKey,
  STALE_RETENTION_MS,
} from '../generations/observation.js';

/**
 * One heartbeat of one worker.
 *
 * @example
 * const beat: Heartbeat = {
 *   workerId: 'worker-1', mounts: ['custom-secrets/'], startedAt,
 *   ttlMs: 30_000, at: new Date(),
 * };
 */
export interface Heartbeat {
  workerId: string;
  /** The mounts served, as `namespace` + Vault path. */
  mounts: string[];
  startedAt: Date;
  /** How long the worker counts as live after this heartbeat. */
  ttlMs: number;
  at: Date;
}

/**
 * Writes a worker's heartbeat: until `at + ttlMs` the status counts the
 * worker as live on every mount it observed, and afterwards as stale. The
 * item is the worker's alone and says nothing about generations, so an
 * unconditional write is safe. DynamoDB's time to live removes it a day
 * after it ran out.
 *
 * @returns when the heartbeat runs out.
 *
 * @example
 * await writeHeartbeat(catalog, {
 *   workerId: 'worker-1',
 *   mounts: ['custom-secrets/', 'team-b/auth/oidc/'],
 *   startedAt,
 *   ttlMs: 30_000,
 *   at: new Date(),
 * });
 */
export const writeHeartbeat = async (
  catalog: Catalog,
  heartbeat: Heartbeat,
): Promise<Date> => {
  const expires = new Date(heartbeat.at.getTime() + heartbeat.ttlMs);
  const item: HeartbeatItem = {
    ...heartbeatKey(heartbeat.workerId),
    workerId: heartbeat.workerId,
    heartbeatExpiresAt: expires.toISOString(),
    startedAt: heartbeat.startedAt.toISOString(),
    mountCount: heartbeat.mounts.length,
    mounts: heartbeat.mounts.slice(0, HEARTBEAT_LISTED_MOUNTS),
    expiresAt: epochSeconds(expires.getTime() + STALE_RETENTION_MS),
  };
  await catalog.client.send(
    new PutCommand({ TableName: catalog.tableName, Item: item }),
  );
  return expires;
};
