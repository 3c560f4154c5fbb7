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
  /**
   * How long one attempt may wait for DynamoDB's answer before the SDK
   * gives up on it and retries. None by default: a worker or an import can
   * wait; the Lambda handler sets one so that a stuck connection costs one
   * attempt instead of the whole invocation.
   */
  requestTimeoutMs?: number;
}

/**
 * Sockets the client may hold open to DynamoDB at once. A reload by plugin
 * sends up to eight transactions and a batch of reads together, so this
 * leaves room without letting one container open hundreds of connections.
 */
const MAX_SOCKETS = 50;

/** How long connecting may take before the attempt counts as failed. */
const CONNECTION_TIMEOUT_MS = 3_000;

/**
 * Reads the table name from `CATALOG_TABLE_NAME` unless one is given.
 *
 * Make one catalog per process and keep it: its connections stay open
 * between requests (keep-alive), so only the first request of a Lambda
 * container or a worker pays for the TCP and TLS handshake.
 *
 * @example
 * const catalog = createCatalog({ tableName: 'plugin-reload-catalog' });
 */
export const createCatalog = (options: CatalogOptions = {}): Catalog => {
  const tableName = options.tableName ?? process.env.CATALOG_TABLE_NAME;
  if (!tableName) {
    throw new Error('the catalog table name is not set (CATALOG_TABLE_NAME)');
  }
  const agent = { keepAlive: true, maxSockets: MAX_SOCKETS };
  const dynamodb = new DynamoDBClient({
    endpoint: options.endpoint,
    region: options.region,
    // The SDK's own retry strategy, with its backoff and throttling handling.
    maxAttempts: options.maxAttempts ?? 4,
    requestHandler: {
      // DynamoDB Local speaks plain HTTP, AWS speaks HTTPS: both keep alive.
      httpAgent: agent,
      httpsAgent: agent,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      ...(options.requestTimeoutMs
        ? {
            requestTimeout: options.requestTimeoutMs,
            throwOnRequestTimeout: true,
          }
        : {}),
    },
  });
  const client = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, tableName };
};
