import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Catalog } from '../catalog/client.js';
import { type MountRef, observationKey } from '../catalog/keys.js';

export interface Observation {
  workerId: string;
  mount: MountRef;
  generation: number;
  reloadId?: string;
  /** "" when the reload succeeded. */
  error: string;
  at: Date;
}

export class ObservationBehindError extends Error {
  override name = 'ObservationBehindError';
}

/**
 * The conditions that keep acknowledgements honest, joined below:
 * - a worker's first observation of a mount creates its item;
 * - afterwards it may only move forward, so a slow writer can never undo a
 *   newer acknowledgement of the same worker.
 */
const FIRST_OBSERVATION = 'attribute_not_exists(pk)';
const MOVES_FORWARD = 'observedGeneration < :generation';
const STARTS_AT_OR_AFTER = 'observedGeneration <= :generation';

const write = async (
  catalog: Catalog,
  observation: Observation,
  condition: string,
  reloaded: boolean,
): Promise<boolean> => {
  const at = observation.at.toISOString();
  const assignments = [
    'workerId = :workerId',
    '#namespace = :namespace',
    '#kind = :kind',
    '#path = :path',
    'observedGeneration = :generation',
    'observedAt = :at',
    '#error = :error',
    'reloadId = :reloadId',
    // A worker that has never reloaded still has a reloaded generation, so
    // the status can compare it with any target.
    reloaded
      ? 'reloadedGeneration = :generation, reloadedAt = :at'
      : 'reloadedGeneration = if_not_exists(reloadedGeneration, :minusOne), reloadedAt = if_not_exists(reloadedAt, :at)',
  ];
  try {
    await catalog.client.send(
      new UpdateCommand({
        TableName: catalog.tableName,
        Key: observationKey(observation.mount, observation.workerId),
        UpdateExpression: `SET ${assignments.join(', ')}`,
        ConditionExpression: `${FIRST_OBSERVATION} OR ${condition}`,
        ExpressionAttributeNames: {
          '#namespace': 'namespace',
          '#kind': 'kind',
          '#path': 'path',
          '#error': 'error',
        },
        ExpressionAttributeValues: {
          ':workerId': observation.workerId,
          ':namespace': observation.mount.namespace,
          ':kind': observation.mount.kind,
          ':path': observation.mount.path,
          ':generation': observation.generation,
          ':at': at,
          ':error': observation.error,
          ':reloadId': observation.reloadId ?? '',
          ...(reloaded ? {} : { ':minusOne': -1 }),
        },
      }),
    );
    return true;
  } catch (error) {
    if (
      error instanceof Error &&
      error.name === 'ConditionalCheckFailedException'
    ) {
      return false;
    }
    throw error;
  }
};

/**
 * Acknowledges that the worker acted on a generation it read from the
 * mount: reloaded it, or failed with `error`. Returns false, writing
 * nothing, when the worker already acknowledged this or a later generation.
 */
export const acknowledge = (catalog: Catalog, observation: Observation) =>
  write(catalog, observation, MOVES_FORWARD, observation.error === '');

/**
 * Records the generation a worker starts at: a fresh process already runs
 * the newest backend, so it counts as reloaded there without a callback.
 */
export const recordStart = (catalog: Catalog, observation: Observation) =>
  write(catalog, { ...observation, error: '' }, STARTS_AT_OR_AFTER, true);
