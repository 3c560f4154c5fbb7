import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AttributeType,
  Billing,
  type ITableV2,
  ProjectionType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { catalogTable } from '../../functions/catalog/table-definition.js';

/**
 * Every DynamoDB action the handler sends, and nothing else. A transaction
 * has no action of its own: DynamoDB authorises TransactWriteItems item by
 * item, as the PutItem, UpdateItem, DeleteItem or ConditionCheckItem inside
 * it. Scan is left out on purpose, since no request path may scan.
 */
export const CATALOG_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

export interface CatalogTableOptions {
  /** A physical name; by default CloudFormation makes one from the stack's. */
  readonly tableName?: string;
  /**
   * The catalog holds mount generations and token hashes: losing it means
   * every worker and every client starts over, so by default it survives a
   * deleted stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** A customer managed key; by default the AWS managed key `aws/dynamodb`. */
  readonly encryptionKey?: IKey;
}

/**
 * Creates the catalog table from the shared table description, so the table
 * on AWS has the same keys, index and time-to-live attribute as the one the
 * local stack creates. It can be restored to any second of the last 35 days.
 *
 * TableV2 (a global table with one replica) is used so that adding a region
 * later is a new replica, not a replacement of the table and its data.
 *
 * @example
 * const table = createCatalogTable(stack, 'Catalog');
 * handler.addToRolePolicy(catalogAccessStatement(table));
 */
export const createCatalogTable = (
  scope: Construct,
  id: string,
  options: CatalogTableOptions = {},
): TableV2 =>
  new TableV2(scope, id, {
    tableName: options.tableName,
    partitionKey: {
      name: catalogTable.partitionKey,
      type: AttributeType.STRING,
    },
    sortKey: { name: catalogTable.sortKey, type: AttributeType.STRING },
    billing: Billing.onDemand(),
    removalPolicy: options.removalPolicy ?? RemovalPolicy.RETAIN,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: options.encryptionKey
      ? TableEncryptionV2.customerManagedKey(options.encryptionKey)
      : TableEncryptionV2.awsManagedKey(),
    timeToLiveAttribute: catalogTable.timeToLiveAttribute,
    globalSecondaryIndexes: [
      {
        indexName: catalogTable.pluginIndex.name,
        partitionKey: {
          name: catalogTable.pluginIndex.partitionKey,
          type: AttributeType.STRING,
        },
        sortKey: {
          name: catalogTable.pluginIndex.sortKey,
          type: AttributeType.STRING,
        },
        projectionType: ProjectionType.INCLUDE,
        nonKeyAttributes: [...catalogTable.pluginIndex.projectedAttributes],
      },
    ],
  });

/**
 * The one statement that lets the handler use the catalog: the actions it
 * sends, on the table and on the plugin index, and nowhere else.
 */
export const catalogAccessStatement = (table: ITableV2): PolicyStatement =>
  new PolicyStatement({
    effect: Effect.ALLOW,
    actions: [...CATALOG_ACTIONS],
    resources: [
      table.tableArn,
      `${table.tableArn}/index/${catalogTable.pluginIndex.name}`,
    ],
  });

/**
 * What a caller of DynamoDB needs of the table's customer managed key:
 * DynamoDB itself encrypts and decrypts with it on the caller's behalf, so
 * the key may be used only through DynamoDB in this region. No statement
 * when the table uses an AWS managed key.
 */
export const catalogKeyStatements = (table: ITableV2): PolicyStatement[] =>
  table.encryptionKey
    ? [
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [
            'kms:Decrypt',
            'kms:DescribeKey',
            'kms:Encrypt',
            'kms:GenerateDataKey',
            'kms:ReEncryptFrom',
            'kms:ReEncryptTo',
          ],
          resources: [table.encryptionKey.keyArn],
          conditions: {
            StringEquals: {
              'kms:ViaService': `dynamodb.${Stack.of(table).region}.amazonaws.com`,
            },
          },
        }),
      ]
    : [];
