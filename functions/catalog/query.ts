import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Catalog } from './client.js';

/**
 * Runs a Query to its last page. Each page is at most 1 MB, so a partition of
 * many items costs one request per megabyte read.
 */
export const queryAll = async <T>(
  catalog: Catalog,
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
): Promise<T[]> => {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await catalog.client.send(
      new QueryCommand({
        ...input,
        TableName: catalog.tableName,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...((page.Items ?? []) as T[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
};
