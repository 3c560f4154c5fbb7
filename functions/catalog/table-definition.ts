/**
 * The one catalog table, described once. The CDK stack and the local stack
 * both build the table from this description, so the key schema, the index
 * and the time-to-live attribute cannot drift between AWS and one machine.
 */
export const catalogTable = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds after which DynamoDB may delete the item. */
  timeToLiveAttribute: 'expiresAt',
  pluginIndex: {
    name: 'byPlugin',
    partitionKey: 'gsi1pk',
    sortKey: 'gsi1sk',
    /**
     * A reload by plugin reads the mount keys and each mount's generation
     * from the index alone, so those are the only attributes copied there.
     */
    projectedAttributes: ['generation', 'namespace', 'kind', 'path'],
  },
} as const;

/** The `CreateTable` input for a table of the catalog's shape. */
export const createTableInput = (tableName: string) => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST' as const,
  AttributeDefinitions: [
    { AttributeName: catalogTable.partitionKey, AttributeType: 'S' as const },
    { AttributeName: catalogTable.sortKey, AttributeType: 'S' as const },
    {
      AttributeName: catalogTable.pluginIndex.partitionKey,
      AttributeType: 'S' as const,
    },
    {
      AttributeName: catalogTable.pluginIndex.sortKey,
      AttributeType: 'S' as const,
    },
  ],
  KeySchema: [
    { AttributeName: catalogTable.partitionKey, KeyType: 'HASH' as const },
    { AttributeName: catalogTable.sortKey, KeyType: 'RANGE' as const },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: catalogTable.pluginIndex.name,
      KeySchema: [
        {
          AttributeName: catalogTable.pluginIndex.partitionKey,
          KeyType: 'HASH' as const,
        },
        {
          AttributeName: catalogTable.pluginIndex.sortKey,
          KeyType: 'RANGE' as const,
        },
      ],
      Projection: {
        ProjectionType: 'INCLUDE' as const,
        NonKeyAttributes: [...catalogTable.pluginIndex.projectedAttributes],
      },
    },
  ],
});
