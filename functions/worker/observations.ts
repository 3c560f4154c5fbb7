import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Catalog } from '../catalog/client.js';
import { type MountRef, observationKey } from '../catalog/keys.js';
import {
  epochSeconds,
  OBSERVATION_RETENTION_MS,
} from '../generations/observation.js';

/**
 * One acknowledgement, or the start of a worker at a generation.
 *
 * @example
 * const observation: Observation = {
 *   workerId: 'worker-1',
 *   mount: { namespace: '', kind: 'secret', path: 'custom-secrets/' },
 *   generation: 3,
 *   error: '',
 *   at: new Date(),
 * };
 */
export interface Observation {
  workerId: string;
  mount: MountRef;
  generation: number;
  reloadId?: string;
  /** "" when the reload succeeded. */
  error: string;
  at: Date;
}

/**
 * The conditions that keep acknowledgements honest, joined below:
 * - a worker's first observation of a mount creates its item;
 * - afterwards an acknowledgement may only move forward, so a slow writer
 *   can never undo a newer acknowledgement of the same worker;
 * - a start may land on the generation already observed, because a fresh
 *   process runs the newest backend whatever its predecessor reported.
 */
const FIRST_OBSERVATION = 'attribute_not_exists(pk)';
const MOVES_FORWARD = 'observedGeneration < :generation';
const STARTS_AT_OR_AFTER = 'observedGeneration <= :generation';

/** Only an item that exists is renewed or released, never created empty. */
const ALREADY_OBSERVED = 'attribute_exists(pk)';

const isConditionFailure = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

const expiryAfter = (at: Date) =>
  epochSeconds(at.getTime() + OBSERVATION_RETENTION_MS);

type WriteOutcome =
  | { written: true }
  | { written: false; observedGeneration?: number };

const updateOf = (
  catalog: Catalog,
  observation: Observation,
  condition: string,
  kind: 'acknowledge' | 'start',
) => {
  const at = observation.at.toISOString();
  const reloaded = observation.error === '';
  const assignments = [
    'workerId = :workerId',
    '#namespace = :namespace',
    '#kind = :kind',
    '#path = :path',
    'observedGeneration = :generation',
    'observedAt = :at',
    '#error = :error',
    'reloadId = :reloadId',
    'expiresAt = :expiresAt',
    // A worker that has never reloaded still has a reloaded generation, so
    // the status can compare it with any target.
    reloaded
      ? 'reloadedGeneration = :generation, reloadedAt = :at'
      : 'reloadedGeneration = if_not_exists(reloadedGeneration, :minusOne), reloadedAt = if_not_exists(reloadedAt, :at)',
  ];
  // A worker that takes a dropped mount up again serves it from its start.
  const removals = kind === 'start' ? ' REMOVE releasedAt' : '';
  return {
    TableName: catalog.tableName,
    Key: observationKey(observation.mount, observation.workerId),
    UpdateExpression: `SET ${assignments.join(', ')}${removals}`,
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
      ':expiresAt': expiryAfter(observation.at),
      ...(reloaded ? {} : { ':minusOne': -1 }),
    },
  };
};

const observedIn = (item: Record<string, unknown> | undefined) => {
  const observed = item?.observedGeneration;
  return typeof observed === 'number' ? observed : undefined;
};

const write = async (
  catalog: Catalog,
  observation: Observation,
  condition: string,
  kind: 'acknowledge' | 'start',
): Promise<WriteOutcome> => {
  try {
    await catalog.client.send(
      new UpdateCommand({
        ...updateOf(catalog, observation, condition, kind),
        // On a refusal DynamoDB hands back what is stored, so a start that
        // finds a later observation learns it without another read.
        ReturnValuesOnConditionCheckFailure:
          kind === 'start' ? 'ALL_OLD' : 'NONE',
      }),
    );
    return { written: true };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const stored = (error as { Item?: Record<string, unknown> }).Item;
    return { written: false, observedGeneration: observedIn(stored) };
  }
};

/**
 * Acknowledges that the worker acted on a generation it read from the
 * mount: reloaded it, or failed with `error`. The write is conditional, so
 * acknowledgements never move backwards.
 *
 * @returns false, having written nothing, when the worker had already
 * acknowledged this or a later generation.
 *
 * @example
 * await acknowledge(catalog, {
 *   workerId: 'worker-1',
 *   mount: { namespace: '', kind: 'secret', path: 'custom-secrets/' },
 *   generation: 4,
 *   reloadId,
 *   error: '',
 *   at: new Date(),
 * });
 */
export const acknowledge = async (
  catalog: Catalog,
  observation: Observation,
): Promise<boolean> =>
  (await write(catalog, observation, MOVES_FORWARD, 'acknowledge')).written;

/**
 * Records the generation a worker starts at: a fresh process already runs
 * the newest backend, so it counts as reloaded there without a callback.
 *
 * @returns the generation the worker has reached on the mount: the one it
 * started at, or a later one that its earlier run had already acknowledged.
 *
 * @example
 * const reached = await recordStart(catalog, {
 *   workerId: 'worker-1',
 *   mount,
 *   generation: item.generation,
 *   error: '',
 *   at: new Date(),
 * });
 */
export const recordStart = async (
  catalog: Catalog,
  observation: Observation,
): Promise<number> => {
  const outcome = await write(
    catalog,
    { ...observation, error: '' },
    STARTS_AT_OR_AFTER,
    'start',
  );
  if (outcome.written) return observation.generation;
  return Math.max(
    observation.generation,
    outcome.observedGeneration ?? observation.generation,
  );
};

/** DynamoDB takes at most 100 writes in one transaction. */
export const STARTS_PER_TRANSACTION = 100;

/** How often a transaction of starts is sent again before giving up. */
const START_ATTEMPTS = 8;

/**
 * A transaction of starts that DynamoDB kept cancelling; the watcher
 * counts it as a failed poll and tries again.
 *
 * @example
 * try {
 *   await recordStarts(catalog, observations);
 * } catch (error) {
 *   if (error instanceof StartNotRecordedError) retryLater();
 * }
 */
export class StartNotRecordedError extends Error {
  override name = 'StartNotRecordedError';
}

interface CancellationReason {
  Code?: string;
  Item?: Record<string, unknown>;
}

const pause = (milliseconds: number) =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Records the starts of many mounts of one worker, as `recordStart` does
 * for one, with one transaction per 100 mounts instead of one write each:
 * a worker that starts with 150 mounts sends two requests, not 150. Each
 * write keeps its own condition; a transaction cancelled because one of
 * them found a later observation is sent again without it.
 *
 * @returns the generation reached on each mount, in the order given.
 *
 * @example
 * const reached = await recordStarts(catalog, mounts.map((mount) => ({
 *   workerId: 'worker-1', mount, generation: 0, error: '', at: new Date(),
 * })));
 */
export const recordStarts = async (
  catalog: Catalog,
  observations: Observation[],
): Promise<number[]> => {
  const reached = observations.map((observation) => observation.generation);
  const chunks: number[][] = [];
  for (let at = 0; at < observations.length; at += STARTS_PER_TRANSACTION) {
    chunks.push(
      observations
        .slice(at, at + STARTS_PER_TRANSACTION)
        .map((_, offset) => at + offset),
    );
  }
  await Promise.all(
    chunks.map(async (chunk) => {
      let pending = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= START_ATTEMPTS) {
          throw new StartNotRecordedError(
            `${pending.length} starts stayed unrecorded after ${START_ATTEMPTS} attempts`,
          );
        }
        if (attempt > 0) await pause(Math.random() * 20 * 2 ** attempt);
        pending = await sendStarts(catalog, observations, pending, reached);
      }
    }),
  );
  return reached;
};

/** Sends one transaction of starts; answers the ones to send again. */
const sendStarts = async (
  catalog: Catalog,
  observations: Observation[],
  indexes: number[],
  reached: number[],
): Promise<number[]> => {
  try {
    await catalog.client.send(
      new TransactWriteCommand({
        TransactItems: indexes.map((index) => ({
          Update: {
            ...updateOf(
              catalog,
              { ...(observations[index] as Observation), error: '' },
              STARTS_AT_OR_AFTER,
              'start',
            ),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        })),
      }),
    );
    return [];
  } catch (error) {
    if (
      !(error instanceof Error) ||
      error.name !== 'TransactionCanceledException'
    ) {
      throw error;
    }
    const reasons = ((error as { CancellationReasons?: CancellationReason[] })
      .CancellationReasons ?? []) as CancellationReason[];
    const again: number[] = [];
    indexes.forEach((index, position) => {
      const reason = reasons[position];
      if (reason?.Code === 'ConditionalCheckFailed') {
        // An earlier run of this worker already went further.
        const observed = observedIn(
          reason.Item && unmarshall(reason.Item as never),
        );
        reached[index] = Math.max(reached[index] ?? 0, observed ?? 0);
      } else {
        again.push(index);
      }
    });
    return again;
  }
};

const touch = async (
  catalog: Catalog,
  workerId: string,
  mount: MountRef,
  assignment: string,
  values: Record<string, unknown>,
) => {
  try {
    await catalog.client.send(
      new UpdateCommand({
        TableName: catalog.tableName,
        Key: observationKey(mount, workerId),
        UpdateExpression: `SET ${assignment}`,
        ConditionExpression: ALREADY_OBSERVED,
        ExpressionAttributeValues: values,
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
};

/**
 * Pushes an observation's expiry back without changing what it says, so a
 * live worker's observations outlast a long quiet spell between reloads.
 *
 * @example
 * await renewObservation(catalog, 'worker-1', mount, new Date());
 */
export const renewObservation = (
  catalog: Catalog,
  workerId: string,
  mount: MountRef,
  at: Date,
) =>
  touch(catalog, workerId, mount, 'expiresAt = :expiresAt', {
    ':expiresAt': expiryAfter(at),
  });

/**
 * Records that the worker no longer serves a mount. Its acknowledgements
 * stay, but the status stops waiting for it on that mount.
 *
 * @example
 * await releaseObservation(catalog, 'worker-1', mount, new Date());
 */
export const releaseObservation = (
  catalog: Catalog,
  workerId: string,
  mount: MountRef,
  at: Date,
) =>
  touch(catalog, workerId, mount, 'releasedAt = :at', {
    ':at': at.toISOString(),
  });
