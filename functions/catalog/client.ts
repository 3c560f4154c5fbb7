import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The catalog table as the code reaches it: a document client and the table
 * name. Region, credentials and endpoint come from the AWS SDK's own chain
 * (including `AWS_ENDPOINT_URL_DYNAMODB`), so the same code runs in Lambda,
 * in a worker and against DynamoDB Local.
 */
export interface Catalog {
  client: DynamoDBDocumentClient;
  tableName: string;
}

export interface CatalogOptions {
  tableName?: string;
  /** Overrides the endpoint the SDK would find, such as DynamoDB Local's. */
  endpoint?: string;
  region?: string;
  maxAttempts?: number;
}

/** Reads the table name from `CATALOG_TABLE_NAME` unless one is given. */
export const createCatalog = (options: CatalogOptions = {}): Catalog => {
  const tableName = options.tableName ?? process.env.CATALOG_TABLE_NAME;
  if (!tableName) {
    throw new Error('the catalog table name is not set (CATALOG_TABLE_NAME)');
  }
  const dynamodb = new DynamoDBClient({
    endpoint: options.endpoint,
    region: options.region,
    // The SDK's own retry strategy, with its backoff and throttling handling.
    maxAttempts: options.maxAttempts ?? 4,
  });
  const client = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, tableName };
};
