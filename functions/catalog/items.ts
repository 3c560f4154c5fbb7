import type { MountKind } from './keys.js';
import {
  type MountRef,
  mountKey,
  pluginIndexKey,
  pluginIndexSortKey,
} from './keys.js';

/**
 * A mount entry as Vault reports it in `GET /v1/sys/mounts`: type, accessor,
 * config, options and the rest. We store it as Vault gave it and add the
 * generation beside it.
 */
export type MountEntry = Record<string, unknown> & { type: string };

/** The mount item of the catalog table. */
export interface MountItem {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
  namespace: string;
  kind: MountKind;
  path: string;
  /** The catalog name of the plugin this mount runs. */
  pluginName: string;
  /** Starts at 0 and only ever rises; one per reload that targeted it. */
  generation: number;
  /** The reload that last raised the generation, if any. */
  reloadId?: string;
  entry: MountEntry;
}

/** A plugin catalog item: one version of one plugin of one type. */
export interface PluginItem {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
  name: string;
  /** auth, secret or database. */
  type: string;
  /** "" for an unversioned plugin. */
  version: string;
  builtin: boolean;
  sha256?: string;
  command?: string;
  args?: string[];
  env?: string[];
  deprecation_status?: string;
}

/** A namespace item; the root namespace ("") exists without one. */
export interface NamespaceItem {
  pk: string;
  sk: string;
  path: string;
}

/**
 * The catalog name of the plugin a mount runs: its type, or for mounts made
 * by Vault versions before plugins were typed by name, `config.plugin_name`.
 */
export const pluginNameOf = (entry: MountEntry): string => {
  if (entry.type !== 'plugin') return entry.type;
  const config = entry.config as { plugin_name?: unknown } | null | undefined;
  return typeof config?.plugin_name === 'string' ? config.plugin_name : '';
};

/**
 * The item for a mount entry, without its generation: writers set the
 * generation themselves, so that rewriting an entry never resets it.
 */
export const mountItemOf = (
  mount: MountRef,
  entry: MountEntry,
): Omit<MountItem, 'generation' | 'reloadId'> => {
  const pluginName = pluginNameOf(entry);
  return {
    ...mountKey(mount),
    gsi1pk: pluginIndexKey(pluginName),
    gsi1sk: pluginIndexSortKey(mount),
    namespace: mount.namespace,
    kind: mount.kind,
    path: mount.path,
    pluginName,
    entry,
  };
};
