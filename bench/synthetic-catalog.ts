import { randomUUID } from 'node:crypto';

export interface SyntheticCatalogOptions {
  /** How many secrets plugins the catalog registers. */
  plugins: number;
  /** How many secrets mounts run each plugin. */
  mountsPerPlugin: number;
}

/** The name of the `index`-th synthetic plugin. */
export const syntheticPluginName = (index: number) => `bench-plugin-${index}`;

/** The path of the `mount`-th mount of the `plugin`-th synthetic plugin. */
export const syntheticMountPath = (plugin: number, mount: number) =>
  `bench-${plugin}/m-${mount}/`;

/**
 * A Vault export, as `GET /v1/sys/mounts`, `GET /v1/sys/auth` and
 * `GET /v1/sys/plugins/catalog` answer, of a catalog with many mounts of a
 * few external plugins. The benchmark and the tests load it the way a user
 * loads a real export.
 *
 * @example
 * const text = syntheticVaultExport({ plugins: 2, mountsPerPlugin: 100 });
 * await importCatalog(catalog, parseVaultExport(text));
 */
export const syntheticVaultExport = (
  options: SyntheticCatalogOptions,
): string => {
  const mounts: Record<string, unknown> = {};
  const detailed: unknown[] = [];
  for (let plugin = 0; plugin < options.plugins; plugin++) {
    const name = syntheticPluginName(plugin);
    detailed.push({
      name,
      type: 'secret',
      version: 'v1.0.0',
      builtin: false,
      sha256: '0'.repeat(64),
    });
    for (let mount = 0; mount < options.mountsPerPlugin; mount++) {
      mounts[syntheticMountPath(plugin, mount)] = {
        accessor: `${name}_${mount.toString(16).padStart(8, '0')}`,
        config: { default_lease_ttl: 0, max_lease_ttl: 0 },
        description: '',
        local: false,
        options: null,
        plugin_version: 'v1.0.0',
        seal_wrap: false,
        type: name,
        uuid: randomUUID(),
      };
    }
  }
  return JSON.stringify({
    mounts: { data: mounts },
    auth: { data: {} },
    plugins: {
      data: {
        secret: detailed.map((plugin) => (plugin as { name: string }).name),
        detailed,
      },
    },
  });
};
