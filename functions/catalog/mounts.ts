import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ObservationItem } from '../generations/observation.js';
import { batchGet } from './batch-get.js';
import type { Catalog } from './client.js';
import { runningVersionOf, type VersionedMount } from './effective-version.js';
import { mapInFlight } from './in-flight.js';
import type { MountItem } from './items.js';
import {
  type MountKind,
  type MountRef,
  mountKey,
  mountTableKey,
  observationCollectionKey,
} from './keys.js';
import {
  candidateMountPaths,
  displayMountPath,
  type MountPathInput,
} from './mount-path.js';
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

/**
 * The mount a new one at `mount` would overlap, if any: one whose path is a
 * prefix of the new path (the mount it would sit inside), else one whose
 * path starts with it (a mount it would sit above). Vault allows neither.
 * Both are key reads: the prefixes by key, the paths below by one Query.
 */
export const findOverlappingMount = async (
  catalog: Catalog,
  mount: MountRef,
): Promise<MountItem | undefined> => {
  const prefixes = candidateMountPaths(mount.path).map((path) =>
    mountKey({ ...mount, path }),
  );
  const [above, below] = await Promise.all([
    batchGet<MountItem>(catalog, prefixes),
    catalog.client.send(
      new QueryCommand({
        TableName: catalog.tableName,
        KeyConditionExpression: 'pk = :mountTable AND begins_with(sk, :path)',
        ExpressionAttributeValues: {
          ':mountTable': mountTableKey(mount.namespace, mount.kind),
          ':path': mount.path,
        },
        Limit: 1,
        ConsistentRead: true,
      }),
    ),
  ]);
  const longest = prefixes
    .map((key) => above.find((item) => item.sk === key.sk))
    .find((item) => item !== undefined);
  return longest ?? (below.Items?.[0] as MountItem | undefined);
};

/** What workers observed of one mount, those that dropped it included. */
export const readObservations = (
  catalog: Catalog,
  mount: MountRef,
): Promise<ObservationItem[]> =>
  queryAll<ObservationItem>(catalog, {
    KeyConditionExpression: 'pk = :mount',
    ExpressionAttributeValues: { ':mount': observationCollectionKey(mount) },
  });

/**
 * The generation a new mount at a path starts at. Workers may remember a
 * mount that was disabled there, and watch for its generation to rise: the
 * new one starts above any generation they acknowledged, so that they
 * reload it instead of taking it for the old one.
 */
export const startingGeneration = async (
  catalog: Catalog,
  mount: MountRef,
  atLeast = 0,
): Promise<number> => {
  const seen = await readObservations(catalog, mount);
  const highest = Math.max(
    -1,
    ...seen.map((observation) => observation.observedGeneration),
  );
  return Math.max(atLeast, highest + 1);
};

/** How many mounts' observations are read at once for a listing. */
const OBSERVATIONS_IN_FLIGHT = 16;

/**
 * A mount as the API shows it: where this service tracks the versions a
 * mount's generations run, `running_plugin_version` and `running_sha256`
 * say what its workers acknowledged running, read from their
 * acknowledgements. Other mounts keep what their entry says.
 */
export const withRunningVersion = async (
  catalog: Catalog,
  item: MountItem,
): Promise<MountItem> => {
  const tracked = item as VersionedMount;
  if (!tracked.versionHistory?.length) return item;
  const observations = (await readObservations(catalog, item)).filter(
    (observation) => !observation.releasedAt,
  );
  const running = runningVersionOf(tracked, observations);
  if (!running) return item;
  return {
    ...item,
    entry: {
      ...item.entry,
      running_plugin_version: running.version,
      running_sha256: running.sha256,
    },
  };
};

/** {@link withRunningVersion} for a whole mount table. */
export const withRunningVersions = (
  catalog: Catalog,
  items: MountItem[],
): Promise<MountItem[]> =>
  mapInFlight(items, OBSERVATIONS_IN_FLIGHT, (item) =>
    withRunningVersion(catalog, item),
  );

/** A mount's path with its namespace: `team-b/auth/oidc/`. */
export const qualifiedMountPath = (mount: MountRef) =>
  `${mount.namespace}${displayMountPath(mount)}`;
