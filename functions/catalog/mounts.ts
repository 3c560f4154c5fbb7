import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { batchGet } from './batch-get.js';
import type { Catalog } from './client.js';
import type { MountItem } from './items.js';
import {
  type MountKind,
  type MountRef,
  mountKey,
  mountTableKey,
} from './keys.js';
import { candidateMountPaths, type MountPathInput } from './mount-path.js';
import { queryAll } from './query.js';

/** Every mount entry of one table of one namespace, in path order. */
export const listMounts = (
  catalog: Catalog,
  namespace: string,
  kind: MountKind,
): Promise<MountItem[]> =>
  queryAll<MountItem>(catalog, {
    KeyConditionExpression: 'pk = :mountTable',
    ExpressionAttributeValues: {
      ':mountTable': mountTableKey(namespace, kind),
    },
  });

export const getMount = async (
  catalog: Catalog,
  mount: MountRef,
): Promise<MountItem | undefined> => {
  const answer = await catalog.client.send(
    new GetCommand({
      TableName: catalog.tableName,
      Key: mountKey(mount),
      ConsistentRead: true,
    }),
  );
  return answer.Item as MountItem | undefined;
};

export interface MountResolution {
  input: MountPathInput;
  /** The mount the path falls under, when there is one. */
  mount?: MountItem;
}

/**
 * Finds the mount each path names, by the longest mount path that is a prefix
 * of it, in one round of reads: every candidate prefix of every path is read
 * by key in the same batch.
 */
export const resolveMountPaths = async (
  catalog: Catalog,
  namespace: string,
  inputs: MountPathInput[],
  onRequest?: () => void,
): Promise<MountResolution[]> => {
  const candidates = inputs.map((input) =>
    candidateMountPaths(input.path).map(
      (path): MountRef => ({ namespace, kind: input.kind, path }),
    ),
  );
  const found = await batchGet<MountItem>(
    catalog,
    candidates.flat().map(mountKey),
    { onRequest },
  );
  const byKey = new Map(found.map((item) => [`${item.pk}\n${item.sk}`, item]));
  return inputs.map((input, index) => {
    const longest = (candidates[index] ?? [])
      .map((ref) => {
        const key = mountKey(ref);
        return byKey.get(`${key.pk}\n${key.sk}`);
      })
      .find((item) => item !== undefined);
    return { input, mount: longest };
  });
};
