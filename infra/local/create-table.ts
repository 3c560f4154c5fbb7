import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  catalogTable,
  createTableInput,
} from '../../functions/catalog/table-definition.js';

/** Time-to-live states in which items already expire, or soon will. */
const timeToLiveOn = new Set(['ENABLED', 'ENABLING']);

/**
 * Creates the catalog table from the same definition the CDK stack deploys,
 * waits until it is ACTIVE and turns on item expiry. A table that already
 * exists, such as one kept on disk from an earlier run, is left as it is.
 *
 * @example
 * const client = new DynamoDBClient({ endpoint: dynamodb.endpoint });
 * await ensureCatalogTable(client, 'plugin-reload-catalog');
 */
export const ensureCatalogTable = async (
  client: DynamoDBClient,
  tableName: string,
): Promise<void> => {
  // Create only when missing: CreateTable on an existing table fails, and
  // the data in it must be kept.
  if (!(await tableExists(client, tableName))) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
    } catch (error) {
      // Another process created it between the check and the create.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }

  // The waiter checks at once, then backs off; DynamoDB Local is usually
  // ACTIVE on the first look.
  await waitUntilTableExists(
    { client, minDelay: 1, maxDelay: 5, maxWaitTime: 120 },
    { TableName: tableName },
  );

  // Checked on its own, so a run stopped right after the create still ends
  // with expiry on; asking to enable it twice is an error.
  const { TimeToLiveDescription } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  if (!timeToLiveOn.has(TimeToLiveDescription?.TimeToLiveStatus ?? '')) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: {
          AttributeName: catalogTable.timeToLiveAttribute,
          Enabled: true,
        },
      }),
    );
  }
};

const tableExists = async (
  client: DynamoDBClient,
  tableName: string,
): Promise<boolean> => {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
};
