/**
 * Where each kind of item lives in the catalog table. Every read on a request
 * path is a key lookup or a Query on one of these keys, never a Scan.
 *
 * Namespaces are written as Vault writes them: "" for the root namespace and
 * "team-b/" (with its trailing slash) for the others. Mount paths are relative
 * to their table and end with a slash: "custom-secrets/" in the secrets table,
 * "oidc-custom/" in the auth table.
 */

/** The two mount tables of a namespace, named after the plugin types. */
export type MountKind = 'secret' | 'auth';

/** One mount entry, named by where it lives. */
export interface MountRef {
  namespace: string;
  kind: MountKind;
  path: string;
}

/** A key of the catalog table. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/**
 * `#` separates the parts of a key; namespace names and mount paths may not
 * contain it, so a prefix of one namespace never matches another.
 */
const SEPARATOR = '#';

/** The mount table of one namespace is one item collection. */
export const mountTableKey = (namespace: string, kind: MountKind) =>
  `MOUNT${SEPARATOR}${namespace}${SEPARATOR}${kind}`;

export const mountKey = (mount: MountRef): ItemKey => ({
  pk: mountTableKey(mount.namespace, mount.kind),
  sk: mount.path,
});

/** The plugin index groups every mount that runs one plugin. */
export const pluginIndexKey = (pluginName: string) =>
  `RUNS${SEPARATOR}${pluginName}`;

/** Within the plugin index, mounts sort by namespace, then table and path. */
export const pluginIndexSortKey = (mount: MountRef) =>
  [mount.namespace, mount.kind, mount.path].join(SEPARATOR);

/** The sort-key prefix that selects one namespace within the plugin index. */
export const pluginIndexNamespacePrefix = (namespace: string) =>
  `${namespace}${SEPARATOR}`;

export const namespaceKey = (namespace: string): ItemKey => ({
  pk: 'NAMESPACE',
  sk: namespace,
});

/** All versions and types of one plugin name sit in one item collection. */
export const pluginKey = (
  name: string,
  type: string,
  version: string,
): ItemKey => ({
  pk: `PLUGIN${SEPARATOR}${name}`,
  sk: `${type}${SEPARATOR}${version}`,
});

export const pluginCollectionKey = (name: string) =>
  `PLUGIN${SEPARATOR}${name}`;

/** The plugin catalog of one type, listed through the plugin index. */
export const catalogIndexKey = (type: string) => `CATALOG${SEPARATOR}${type}`;

export const tokenKey = (tokenHash: string): ItemKey => ({
  pk: `TOKEN${SEPARATOR}${tokenHash}`,
  sk: 'TOKEN',
});

/** Points from a token's accessor to the token's item. */
export const tokenAccessorKey = (accessor: string): ItemKey => ({
  pk: `ACCESSOR${SEPARATOR}${accessor}`,
  sk: 'ACCESSOR',
});

/** The ACL policies of one namespace are one item collection. */
export const policyCollectionKey = (namespace: string) =>
  `POLICY${SEPARATOR}${namespace}`;

export const policyKey = (namespace: string, name: string): ItemKey => ({
  pk: policyCollectionKey(namespace),
  sk: name,
});

/** A reload record and its targets share one item collection. */
export const reloadCollectionKey = (reloadId: string) =>
  `RELOAD${SEPARATOR}${reloadId}`;

export const reloadKey = (reloadId: string): ItemKey => ({
  pk: reloadCollectionKey(reloadId),
  sk: 'RELOAD',
});

export const RELOAD_TARGET_PREFIX = `TARGET${SEPARATOR}`;

export const reloadTargetKey = (
  reloadId: string,
  mount: MountRef,
): ItemKey => ({
  pk: reloadCollectionKey(reloadId),
  sk: `${RELOAD_TARGET_PREFIX}${pluginIndexSortKey(mount)}`,
});

/** What each worker last observed of one mount. */
export const observationCollectionKey = (mount: MountRef) =>
  `OBSERVED${SEPARATOR}${pluginIndexSortKey(mount)}`;

export const observationKey = (mount: MountRef, workerId: string): ItemKey => ({
  pk: observationCollectionKey(mount),
  sk: `WORKER${SEPARATOR}${workerId}`,
});

/** Reads a target's mount back from its sort key. */
export const mountFromTargetSortKey = (sk: string): MountRef => {
  const [namespace = '', kind, path = ''] = sk
    .slice(RELOAD_TARGET_PREFIX.length)
    .split(SEPARATOR);
  return { namespace, kind: kind === 'auth' ? 'auth' : 'secret', path };
};

/**
 * A pinned version sits in its plugin's item collection, so one Query reads
 * a plugin's versions and pins together.
 */
export const PIN_SORT_PREFIX = `PIN${SEPARATOR}`;

export const pinKey = (name: string, type: string): ItemKey => ({
  pk: pluginCollectionKey(name),
  sk: `${PIN_SORT_PREFIX}${type}`,
});

/** Every pin of the catalog, listed through the plugin index. */
export const PINS_INDEX_KEY = 'PINS';

/** The outcome of one `sys/remount`, kept for its status endpoint. */
export const migrationKey = (migrationId: string): ItemKey => ({
  pk: `MIGRATION${SEPARATOR}${migrationId}`,
  sk: 'MIGRATION',
});

/**
 * Marks a root token of the deployment's secret as stored once, by its
 * digest, so that a revoked root token is not stored again at the next
 * cold start.
 */
export const rootTokenBootstrapKey = (tokenHash: string): ItemKey => ({
  pk: 'BOOTSTRAP',
  sk: `ROOT_TOKEN${SEPARATOR}${tokenHash}`,
});

export const KEY_SEPARATOR = SEPARATOR;
