import type { ObservationItem } from '../generations/observation.js';
import type { MountItem, PluginItem } from './items.js';
import type { PinItem } from './plugins.js';

/**
 * Which plugin version a mount runs, and which one its workers run.
 *
 * The catalog decides the first: Vault's selection order picks one
 * registered plugin for each mount. The second follows from generations:
 * a mount item keeps a short history saying from which generation on its
 * workers are to run which version, and a worker's acknowledgement says
 * which generation it reached.
 */

/** A plugin version and the SHA-256 of its binary ("" for builtins). */
export interface PluginVersionMark {
  version: string;
  sha256: string;
}

/** From `generation` on, the mount's workers are to run this version. */
export interface VersionMark extends PluginVersionMark {
  generation: number;
}

/** A mount item with the history of the versions its generations run. */
export type VersionedMount = MountItem & { versionHistory?: VersionMark[] };

/**
 * How many version changes a mount item remembers. Only a worker that
 * fell further behind than that many changes needs an older one, and it is
 * then reported as running the oldest one remembered.
 */
export const VERSION_HISTORY_LENGTH = 8;

/**
 * The plugin a mount runs, in Vault's order of selection: the pinned
 * version, then the mount's own `plugin_version`, then the unversioned
 * plugin registered under the name, then the builtin one. `versions` are
 * the registered versions of the mount's plugin name and type.
 *
 * @returns undefined when the catalog holds nothing the mount can run.
 */
export const selectPlugin = (
  versions: readonly PluginItem[],
  pin: Pick<PinItem, 'version'> | undefined,
  mountVersion: string,
): PluginItem | undefined => {
  const named = pin?.version || mountVersion;
  if (named) return versions.find((plugin) => plugin.version === named);
  return (
    versions.find((plugin) => plugin.version === '' && !plugin.builtin) ??
    versions.find((plugin) => plugin.builtin)
  );
};

/** The version and checksum of a selected plugin; empty when none was. */
export const markOf = (plugin: PluginItem | undefined): PluginVersionMark => ({
  version: plugin?.version ?? '',
  sha256: plugin?.sha256 ?? '',
});

export const sameMark = (left: PluginVersionMark, right: PluginVersionMark) =>
  left.version === right.version && left.sha256 === right.sha256;

/**
 * The history once the mount's workers are to run `next` from `generation`
 * on. A mount without a history ran `previous` until then.
 */
export const historyWith = (
  mount: VersionedMount,
  generation: number,
  previous: PluginVersionMark,
  next: PluginVersionMark,
): VersionMark[] => {
  const known = mount.versionHistory ?? [{ generation: 0, ...previous }];
  // A change recorded for a generation not reached yet is replaced.
  const kept = known.filter((mark) => mark.generation < generation);
  return [...kept, { generation, ...next }].slice(-VERSION_HISTORY_LENGTH);
};

/** The version in force at a generation. */
export const versionAt = (
  history: readonly VersionMark[],
  generation: number,
): VersionMark | undefined =>
  [...history].reverse().find((mark) => mark.generation <= generation) ??
  history[0];

/**
 * What a mount's workers acknowledged running: the version in force at the
 * lowest generation any of them reloaded, since until the last worker has
 * moved the older version still runs somewhere.
 *
 * @returns undefined when no worker acknowledged the mount, or the mount's
 *   versions were never tracked here (a mount imported from Vault and not
 *   changed since keeps what Vault reported).
 */
export const runningVersionOf = (
  mount: VersionedMount,
  observations: readonly ObservationItem[],
): PluginVersionMark | undefined => {
  const history = mount.versionHistory;
  if (!history?.length || observations.length === 0) return undefined;
  const lowest = Math.min(
    ...observations.map((seen) => seen.reloadedGeneration),
  );
  const mark = versionAt(history, lowest);
  return mark && { version: mark.version, sha256: mark.sha256 };
};

/**
 * The version a mount's workers are to run at its current generation, for
 * a mount whose versions are tracked here; a worker that reloads it should
 * start this version, which a pin may make differ from the entry's own
 * `plugin_version`.
 *
 * @example
 * const target = targetVersionOf(item);
 * const version = target?.version ?? String(item.entry.plugin_version ?? '');
 */
export const targetVersionOf = (
  mount: VersionedMount,
): PluginVersionMark | undefined => {
  const mark = mount.versionHistory
    ? versionAt(mount.versionHistory, mount.generation)
    : undefined;
  return mark && { version: mark.version, sha256: mark.sha256 };
};
