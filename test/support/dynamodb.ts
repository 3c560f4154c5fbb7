import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { type Catalog, createCatalog } from '../../functions/catalog/client.js';
import { ensureCatalogTable } from '../../infra/local/create-table.js';

/** A catalog of its own, on the test run's DynamoDB Local. */
export interface FreshCatalog extends Catalog {
  endpoint: string;
}

/**
 * Creates an empty catalog table with a name no other test uses, so tests
 * running side by side never see each other's items.
 *
 * @example
 * const catalog = await freshCatalog();
 * await catalog.client.send(
 *   new PutCommand({ TableName: catalog.tableName, Item: mountItem }),
 * );
 */
export const freshCatalog = async (): Promise<FreshCatalog> => {
  const endpoint = inject('dynamoEndpoint');
  const tableName = `catalog-${randomUUID()}`;
  const admin = new DynamoDBClient({ endpoint, region: 'us-east-1' });
  try {
    await ensureCatalogTable(admin, tableName);
  } finally {
    admin.destroy();
  }
  const catalog = createCatalog({ tableName, endpoint, region: 'us-east-1' });
  return { ...catalog, endpoint };
};
