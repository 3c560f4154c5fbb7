import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { jsonResponse } from '../envelope.js';
import type { RouteHandler } from '../route.js';

/** A key no item has: reading it proves the table answers, for one read. */
const HEALTH_PROBE_KEY = { pk: 'HEALTH', sk: 'PROBE' };

/**
 * Vault's health answer. The service has no seal; it is healthy when the
 * catalog table answers a key lookup, and a DynamoDB failure turns into a 503
 * through the usual error mapping.
 */
export const readHealth: RouteHandler = async ({ catalog }) => {
  await catalog.client.send(
    new GetCommand({ TableName: catalog.tableName, Key: HEALTH_PROBE_KEY }),
  );
  const now = new Date();
  return jsonResponse(200, {
    initialized: true,
    sealed: false,
    standby: false,
    performance_standby: false,
    replication_performance_mode: 'disabled',
    replication_dr_mode: 'disabled',
    server_time_utc: Math.floor(now.getTime() / 1000),
    version: process.env.SERVICE_VERSION ?? '0.1.0',
    cluster_name: 'plugin-reload',
  });
};
