import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import {
  KEY_SEPARATOR,
  mountTableKey,
  observationCollectionKey,
} from '../../functions/catalog/keys.js';
import { heartbeatKey } from '../../functions/generations/observation.js';
import { catalogKeyStatements } from './catalog-table.js';

/** `MOUNT#` of `MOUNT#team-b/#secret`: the kind of item a key belongs to. */
const partitionPrefix = (partitionKey: string) =>
  partitionKey.slice(0, partitionKey.indexOf(KEY_SEPARATOR) + 1);

/**
 * What the worker library in `functions/worker/` sends, each limited to the
 * items it is for by their partition key:
 * - BatchGetItem of mount entries, to read their generations;
 * - UpdateItem of its observations, to acknowledge a reload (conditional,
 *   so it never moves backwards), to record the generations it starts at
 *   (inside TransactWriteItems, which IAM authorises item by item as the
 *   UpdateItem it holds) and to renew or release them;
 * - PutItem of its heartbeat.
 */
export const WORKER_ACCESS = [
  {
    action: 'dynamodb:BatchGetItem',
    partitionPrefix: partitionPrefix(mountTableKey('', 'secret')),
  },
  {
    action: 'dynamodb:UpdateItem',
    partitionPrefix: partitionPrefix(
      observationCollectionKey({ namespace: '', kind: 'secret', path: '' }),
    ),
  },
  {
    action: 'dynamodb:PutItem',
    partitionPrefix: partitionPrefix(heartbeatKey('').pk),
  },
] as const;

/**
 * The managed policy a team attaches to the role its plugin workers run
 * as. A worker can read mounts and write its own acknowledgements and
 * heartbeat, and nothing else: it cannot raise a generation, read a token
 * digest or scan the table.
 *
 * @example
 * const policy = createWorkerPolicy(stack, 'WorkerPolicy', table);
 * workerRole.addManagedPolicy(policy);
 */
export const createWorkerPolicy = (
  scope: Construct,
  id: string,
  table: ITableV2,
): ManagedPolicy =>
  new ManagedPolicy(scope, id, {
    description:
      'Plugin reload workers: read mount generations, acknowledge reloads, write heartbeats',
    statements: [
      ...WORKER_ACCESS.map(
        ({ action, partitionPrefix: prefix }) =>
          new PolicyStatement({
            effect: Effect.ALLOW,
            actions: [action],
            resources: [table.tableArn],
            conditions: {
              'ForAllValues:StringLike': {
                'dynamodb:LeadingKeys': [`${prefix}*`],
              },
            },
          }),
      ),
      ...catalogKeyStatements(table),
    ],
  });
