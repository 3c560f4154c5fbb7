import { createHash } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import nodeVault from 'node-vault';
import type { Catalog } from '../../functions/catalog/client.js';
import { ROOT_TOKEN, type RunningApi } from '../support/api.js';

/**
 * node-vault against the API, as a team would point it at Vault. It sends
 * listings as `GET ...?list=1`, since API Gateway does not pass `LIST` on.
 */
export const vaultClient = (api: RunningApi, namespace?: string) =>
  nodeVault({
    endpoint: api.url,
    token: ROOT_TOKEN,
    noCustomHTTPVerbs: true,
    namespace,
  });

/** A plugin binary's SHA-256, made up from a name. */
export const sha256Of = (seed: string) =>
  createHash('sha256').update(seed).digest('hex');

/** What node-vault reports when the API refuses a request. */
export interface Refusal {
  status: number;
  errors: string[];
}

/** The refusal a request met; fails the test when it was not refused. */
export const refusalOf = async (
  request: Promise<unknown>,
): Promise<Refusal> => {
  try {
    await request;
  } catch (error) {
    const response = (
      error as {
        response?: { statusCode: number; body: { errors?: string[] } };
      }
    ).response;
    if (!response) throw error;
    return { status: response.statusCode, errors: response.body.errors ?? [] };
  }
  throw new Error('the request was not refused');
};

/**
 * Every item of the table, in key order. A test may Scan: it compares the
 * whole catalog before and after a refused request.
 */
export const scanTable = async (catalog: Catalog) => {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await catalog.client.send(
      new ScanCommand({
        TableName: catalog.tableName,
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort((left, right) =>
    `${left.pk}\n${left.sk}`.localeCompare(`${right.pk}\n${right.sk}`),
  );
};

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
export const eventually = async <T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
