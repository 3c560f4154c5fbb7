import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { catalogTable } from '../../functions/catalog/table-definition.js';
import { ensureCatalogTable } from '../../infra/local/create-table.js';
import {
  JavaMissingError,
  startDynamoDbLocal,
} from '../../infra/local/dynamodb-local.js';
import { freshCatalog } from '../support/dynamodb.js';

const clientFor = (endpoint: string, region = 'us-east-1') =>
  new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

describe('the catalog table on DynamoDB Local', () => {
  const client = clientFor(inject('dynamoEndpoint'));
  afterAll(() => client.destroy());

  it('is created with the key schema, the plugin index and expiry', async () => {
    const tableName = `catalog-shape-${Date.now()}`;

    await ensureCatalogTable(client, tableName);

    const { Table } = await client.send(
      new DescribeTableCommand({ TableName: tableName }),
    );
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes).toHaveLength(1);
    const [index] = Table?.GlobalSecondaryIndexes ?? [];
    expect(index?.IndexName).toBe('byPlugin');
    expect(index?.KeySchema).toEqual([
      { AttributeName: 'gsi1pk', KeyType: 'HASH' },
      { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
    ]);
    expect(index?.Projection?.ProjectionType).toBe('INCLUDE');
    expect(index?.Projection?.NonKeyAttributes).toEqual(
      expect.arrayContaining(['generation', 'namespace', 'kind', 'path']),
    );
    const { TimeToLiveDescription } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );
    expect(TimeToLiveDescription?.TimeToLiveStatus).toBe('ENABLED');
    expect(TimeToLiveDescription?.AttributeName).toBe(
      catalogTable.timeToLiveAttribute,
    );
  });

  it('can be ensured twice, and the second time changes nothing', async () => {
    const { client: documents, tableName } = await freshCatalog();
    const item = { pk: 'mount#', sk: 'secret/', generation: 3 };
    await documents.send(new PutCommand({ TableName: tableName, Item: item }));

    await ensureCatalogTable(client, tableName);

    const { Item } = await documents.send(
      new GetCommand({
        TableName: tableName,
        Key: { pk: 'mount#', sk: 'secret/' },
      }),
    );
    expect(Item).toEqual(item);
    documents.destroy();
  });

  it('is seen from any region and credentials, since the database is shared', async () => {
    const { tableName } = await freshCatalog();
    const elsewhere = new DynamoDBClient({
      endpoint: inject('dynamoEndpoint'),
      region: 'eu-west-3',
      credentials: { accessKeyId: 'other', secretAccessKey: 'other' },
    });

    const { TableNames } = await elsewhere.send(new ListTablesCommand({}));

    expect(TableNames).toContain(tableName);
    elsewhere.destroy();
  });
});

describe('starting DynamoDB Local', () => {
  it('keeps the tables in a data directory across restarts', async () => {
    const dataDirectory = await mkdtemp(path.join(tmpdir(), 'dynamodb-'));
    try {
      const first = await startDynamoDbLocal({ dataDirectory });
      const firstClient = clientFor(first.endpoint);
      await firstClient.send(
        new CreateTableCommand({
          TableName: 'kept',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      );
      firstClient.destroy();
      await first.stop();

      const second = await startDynamoDbLocal({ dataDirectory });
      const secondClient = clientFor(second.endpoint);
      const { TableNames } = await secondClient.send(new ListTablesCommand({}));
      secondClient.destroy();
      await second.stop();

      expect(second.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(TableNames).toEqual(['kept']);
    } finally {
      await rm(dataDirectory, { recursive: true, force: true });
    }
  });

  it('says in one line to install Java 17+ when java is not on PATH', async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = path.join(tmpdir(), 'no-java-here');
    try {
      const started = startDynamoDbLocal();

      await expect(started).rejects.toBeInstanceOf(JavaMissingError);
      await expect(started).rejects.toThrow(/^[^\n]*Java 17\+[^\n]*$/);
    } finally {
      process.env.PATH = savedPath;
    }
  });
});
