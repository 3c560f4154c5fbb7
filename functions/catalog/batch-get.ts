import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { Catalog } from './client.js';
import type { ItemKey } from './keys.js';

/** DynamoDB reads at most this many keys in one BatchGetItem. */
export const BATCH_GET_LIMIT = 100;

/** How often unprocessed keys are asked for again before giving up. */
const UNPROCESSED_ATTEMPTS = 8;

export class UnprocessedKeysError extends Error {
  override name = 'UnprocessedKeysError';
}

export interface BatchGetOptions {
  /** Attribute names to read; the key attributes are always read. */
  attributes?: string[];
  consistentRead?: boolean;
  /** Called once per BatchGetItem sent, for those who count round trips. */
  onRequest?: () => void;
}

const pause = (milliseconds: number) =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Reads items by key, 100 keys a request, the requests sent concurrently.
 * Keys DynamoDB leaves unprocessed (it does so under throttling, and the SDK
 * does not retry them because the request itself succeeded) are asked for
 * again with exponential backoff. Missing items are simply absent from the
 * result.
 */
export const batchGet = async <T extends ItemKey>(
  catalog: Catalog,
  keys: ItemKey[],
  options: BatchGetOptions = {},
): Promise<T[]> => {
  const unique = [
    ...new Map(keys.map((key) => [`${key.pk}\n${key.sk}`, key])).values(),
  ];
  const chunks: ItemKey[][] = [];
  for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
    chunks.push(unique.slice(start, start + BATCH_GET_LIMIT));
  }
  const pages = await Promise.all(
    chunks.map((chunk) => readChunk<T>(catalog, chunk, options)),
  );
  return pages.flat();
};

const readChunk = async <T>(
  catalog: Catalog,
  chunk: ItemKey[],
  options: BatchGetOptions,
): Promise<T[]> => {
  const items: T[] = [];
  let pending: Record<string, unknown>[] = chunk.map((key) => ({ ...key }));
  const projection = options.attributes
    ? projectionOf(['pk', 'sk', ...options.attributes])
    : undefined;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= UNPROCESSED_ATTEMPTS) {
      throw new UnprocessedKeysError(
        `${pending.length} keys stayed unprocessed`,
      );
    }
    if (attempt > 0) await pause(Math.random() * 25 * 2 ** attempt);
    options.onRequest?.();
    const answer = await catalog.client.send(
      new BatchGetCommand({
        RequestItems: {
          [catalog.tableName]: {
            Keys: pending,
            ConsistentRead: options.consistentRead ?? true,
            ...projection,
          },
        },
      }),
    );
    items.push(...((answer.Responses?.[catalog.tableName] ?? []) as T[]));
    pending = answer.UnprocessedKeys?.[catalog.tableName]?.Keys ?? [];
  }
  return items;
};

/** A projection with every name escaped, so reserved words are safe. */
export const projectionOf = (attributes: string[]) => ({
  ProjectionExpression: attributes.map((_, index) => `#a${index}`).join(', '),
  ExpressionAttributeNames: Object.fromEntries(
    attributes.map((name, index) => [`#a${index}`, name]),
  ),
});
