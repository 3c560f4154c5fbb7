import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { batchGet } from '../catalog/batch-get.js';
import type { Catalog } from '../catalog/client.js';
import { mapInFlight } from '../catalog/in-flight.js';
import type { MountItem } from '../catalog/items.js';
import {
  type MountRef,
  mountKey,
  reloadKey,
  reloadTargetKey,
} from '../catalog/keys.js';
import { expiryOf, type ReloadRecord } from './reload-record.js';

/** A mount to raise, with the generation the writer last read for it. */
export interface ReloadTarget {
  mount: MountRef;
  seenGeneration: number;
  /** A change of the mount written by the same update as its generation. */
  change?: MountChange;
}

/**
 * A change of a mount item that goes with its reload, such as the plugin
 * version it is to run. It is worked out from the mount as last read, and
 * written only if the mount still holds that generation and that entry; when
 * a concurrent writer got there first, it is worked out again from the mount
 * as DynamoDB then hands it back.
 */
export interface MountChange {
  /** The mount item as last read. */
  seen: MountItem;
  /** The attributes to set beside the generation it is raised to. */
  attributes: (seen: MountItem, generation: number) => Record<string, unknown>;
}

/** One write of a DynamoDB transaction. */
export type TransactionItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

/** The most writes DynamoDB takes in one transaction. */
const TRANSACTION_LIMIT = 100;

/**
 * DynamoDB takes at most 100 writes in one transaction; each target costs two
 * (its mount and its target item) and the reload record one more.
 */
export const TARGETS_PER_TRANSACTION = 49;

/**
 * How many times a transaction is sent again after it lost a race with
 * another writer. Each lost race means another reload of the same mount went
 * through, so twenty concurrent reloads of one mount need up to twenty turns.
 */
const RACE_ATTEMPTS = 40;

/** How many chunk transactions of one reload are in flight at once. */
const CHUNKS_IN_FLIGHT = 16;

export class ContendedWriteError extends Error {
  override name = 'ContendedWriteError';
}

/**
 * A catalog write that goes with the reload found its item changed since it
 * was read, so neither it nor any generation was written.
 */
export class CatalogChangedError extends Error {
  override name = 'CatalogChangedError';
}

/** Mounts that were deleted between being read and being raised. */
export class VanishedMountsError extends Error {
  override name = 'VanishedMountsError';
  constructor(readonly mounts: MountRef[]) {
    super(`${mounts.length} mounts no longer exist`);
  }
}

export interface WriteReloadOptions {
  /**
   * For a reload by mounts a vanished mount fails the whole request; for a
   * reload by plugin it only drops that mount.
   */
  onVanished: 'fail' | 'skip';
  onRequest?: () => void;
  /**
   * Catalog writes that cause the reload, such as a new pinned version.
   * They go in the transaction that carries the reload record, which is sent
   * before any other, so no generation moves unless they are written. Their
   * conditions failing is a {@link CatalogChangedError}.
   */
  catalogItems?: TransactionItem[];
}

export interface WrittenTarget {
  mount: MountRef;
  generation: number;
}

/**
 * Why DynamoDB may cancel a reload transaction when nothing is wrong with the
 * request: a mount moved since we read it, or another transaction held it.
 */
const RETRIABLE_CODES = new Set([
  'None',
  'ConditionalCheckFailed',
  'TransactionConflict',
]);

const numberOrUndefined = (value: unknown) =>
  typeof value === 'number' ? value : undefined;

interface CancellationReason {
  Code?: string;
  Item?: Record<string, unknown>;
}

const pause = (milliseconds: number) =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Raises each target's generation by exactly one and records the reload.
 *
 * Targets are written in transactions of 49, all sent concurrently; the
 * first carries the reload record. Each mount is raised only from the
 * generation the writer read, so two concurrent reloads can never both write
 * the same next generation: the loser reads the new value from DynamoDB's
 * cancellation reasons and tries again, and no increment is lost. Up to 49
 * targets this is all or nothing; beyond that each transaction is.
 *
 * With catalog writes, the first transaction carries them too and holds
 * fewer targets; it goes out alone, and the others only once it went through.
 */
export const writeReload = async (
  catalog: Catalog,
  record: ReloadRecord,
  targets: ReloadTarget[],
  options: WriteReloadOptions,
): Promise<WrittenTarget[]> => {
  const catalogItems = options.catalogItems ?? [];
  if (targets.length === 0 && catalogItems.length === 0) return [];
  const firstSize = Math.floor(
    (TRANSACTION_LIMIT - 1 - catalogItems.length) / 2,
  );
  const chunks: ReloadTarget[][] = [targets.slice(0, firstSize)];
  for (
    let start = firstSize;
    start < targets.length;
    start += TARGETS_PER_TRANSACTION
  ) {
    chunks.push(targets.slice(start, start + TARGETS_PER_TRANSACTION));
  }
  if (catalogItems.length === 0) {
    const written = await mapInFlight(
      chunks,
      CHUNKS_IN_FLIGHT,
      (chunk, index) =>
        writeChunk(catalog, record, chunk, index === 0, options),
    );
    return written.flat();
  }
  const [first = [], ...rest] = chunks;
  const firstWritten = await writeChunk(catalog, record, first, true, options);
  const written = await mapInFlight(rest, CHUNKS_IN_FLIGHT, (chunk) =>
    writeChunk(catalog, record, chunk, false, options),
  );
  return [...firstWritten, ...written.flat()];
};

const writeChunk = async (
  catalog: Catalog,
  record: ReloadRecord,
  initial: ReloadTarget[],
  withRecord: boolean,
  options: WriteReloadOptions,
): Promise<WrittenTarget[]> => {
  let targets = initial;
  for (let attempt = 0; attempt < RACE_ATTEMPTS; attempt++) {
    if (attempt > 0) {
      await pause(Math.random() * 5 * 2 ** Math.min(attempt, 5));
    }
    if (targets.length === 0 && !withRecord) return [];
    try {
      options.onRequest?.();
      await catalog.client.send(
        new TransactWriteCommand({
          TransactItems: transactionItems(
            catalog,
            record,
            targets,
            withRecord ? (options.catalogItems ?? []) : undefined,
          ),
        }),
      );
      return targets.map(({ mount, seenGeneration }) => ({
        mount,
        generation: seenGeneration + 1,
      }));
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons) throw error;
      targets = await afterLostRace(
        catalog,
        targets,
        reasons,
        withRecord,
        options,
      );
    }
  }
  throw new ContendedWriteError(
    `gave up after ${RACE_ATTEMPTS} attempts to raise contended generations`,
  );
};

/**
 * The parts of the write for one target:
 * - the mount moves from the generation we read to the one after it, and only
 *   if it still holds the one we read (no other reload slipped in between);
 * - a change that goes with the reload is written by the same update, and
 *   only if the mount's entry is still the one it was worked out from;
 * - the target item records that generation for the reload's status.
 *
 * `catalogItems` is given for the transaction that carries the record: they
 * follow the record, before the targets.
 */
const transactionItems = (
  catalog: Catalog,
  record: ReloadRecord,
  targets: ReloadTarget[],
  catalogItems: TransactionItem[] | undefined,
) => {
  const createdAt = new Date(record.createdAt);
  const expiresAt = expiryOf(createdAt);
  const items: TransactionItem[] = [];
  if (catalogItems) {
    items.push({
      Put: {
        TableName: catalog.tableName,
        Item: { ...reloadKey(record.reloadId), ...record, expiresAt },
        // A reload id is written once; a second record would be a bug.
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    items.push(...catalogItems);
  }
  for (const { mount, seenGeneration, change } of targets) {
    const generation = seenGeneration + 1;
    const changed = changeExpression(change, generation);
    items.push({
      Update: {
        TableName: catalog.tableName,
        Key: mountKey(mount),
        UpdateExpression:
          'SET generation = :next, reloadId = :reloadId, reloadedAt = :now' +
          changed.assignments,
        ConditionExpression: `generation = :seen${changed.condition}`,
        ExpressionAttributeNames: changed.names,
        ExpressionAttributeValues: {
          ':seen': seenGeneration,
          ':next': generation,
          ':reloadId': record.reloadId,
          ':now': record.createdAt,
          ...changed.values,
        },
        // On a lost race DynamoDB hands back the mount as it now is, so the
        // retry needs no extra read.
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    items.push({
      Put: {
        TableName: catalog.tableName,
        Item: {
          ...reloadTargetKey(record.reloadId, mount),
          ...mount,
          generation,
          expiresAt,
        },
      },
    });
  }
  return items;
};

/** The parts of a mount's update and condition that carry its change. */
const changeExpression = (
  change: MountChange | undefined,
  generation: number,
) => {
  if (!change) {
    return { assignments: '', condition: '', names: undefined, values: {} };
  }
  const names: Record<string, string> = { '#entry': 'entry' };
  const values: Record<string, unknown> = { ':seenEntry': change.seen.entry };
  const assignments = Object.entries(
    change.attributes(change.seen, generation),
  ).map(([attribute, value], index) => {
    names[`#c${index}`] = attribute;
    values[`:c${index}`] = value;
    return `, #c${index} = :c${index}`;
  });
  return {
    assignments: assignments.join(''),
    // Maps compare by content, so an entry nobody changed compares equal.
    condition: ' AND #entry = :seenEntry',
    names,
    values,
  };
};

const cancellationReasons = (error: unknown) => {
  if (error instanceof Error && error.name === 'TransactionCanceledException') {
    return ((error as { CancellationReasons?: CancellationReason[] })
      .CancellationReasons ?? []) as CancellationReason[];
  }
  return undefined;
};

/**
 * The targets to try again with, once a transaction was cancelled: a mount
 * another reload moved first is retried from the generation it now holds; a
 * mount that no longer exists is dropped or fails the request. A mount with
 * a change is retried with the mount as it now is, so the change is worked
 * out again from it.
 */
const afterLostRace = async (
  catalog: Catalog,
  targets: ReloadTarget[],
  reasons: CancellationReason[],
  withRecord: boolean,
  options: WriteReloadOptions,
): Promise<ReloadTarget[]> => {
  const unexpected = reasons.find(
    (reason) => !RETRIABLE_CODES.has(reason.Code ?? 'None'),
  );
  if (unexpected || (withRecord && reasons[0]?.Code !== 'None')) {
    throw new Error(
      `reload transaction cancelled: ${unexpected?.Code ?? reasons[0]?.Code}`,
    );
  }
  const catalogCount = withRecord ? (options.catalogItems?.length ?? 0) : 0;
  const catalogReasons = reasons.slice(1, 1 + catalogCount);
  if (
    catalogReasons.some((reason) => reason.Code === 'ConditionalCheckFailed')
  ) {
    throw new CatalogChangedError(
      'the catalog changed while the reload was written; nothing was written',
    );
  }
  const offset = withRecord ? 1 + catalogCount : 0;
  const moved = new Map<ReloadTarget, MountItem | undefined>();
  const unread: ReloadTarget[] = [];
  targets.forEach((target, index) => {
    const reason = reasons[offset + index * 2];
    if (reason?.Code !== 'ConditionalCheckFailed') return;
    if (reason.Item) {
      moved.set(target, unmarshall(reason.Item as never) as MountItem);
    } else {
      unread.push(target);
    }
  });
  // Where DynamoDB did not hand back the mount, read it again: its
  // generation, or the whole item where a change is worked out from it.
  if (unread.length > 0) {
    const withChange = unread.some((target) => target.change);
    const current = await batchGet<MountItem>(
      catalog,
      unread.map((target) => mountKey(target.mount)),
      {
        attributes: withChange ? undefined : ['generation'],
        onRequest: options.onRequest,
      },
    );
    for (const target of unread) {
      const key = mountKey(target.mount);
      const item = current.find((i) => i.pk === key.pk && i.sk === key.sk);
      moved.set(target, item);
    }
  }
  const vanished: MountRef[] = [];
  const retried: ReloadTarget[] = [];
  for (const target of targets) {
    if (!moved.has(target)) {
      retried.push(target);
      continue;
    }
    const current = moved.get(target);
    const generation = numberOrUndefined(current?.generation);
    if (current === undefined || generation === undefined) {
      vanished.push(target.mount);
    } else {
      retried.push({
        ...target,
        seenGeneration: generation,
        change: target.change && { ...target.change, seen: current },
      });
    }
  }
  if (vanished.length > 0 && options.onVanished === 'fail') {
    throw new VanishedMountsError(vanished);
  }
  return retried;
};
