/**
 * The paths Vault protects as root paths: a token needs `sudo` there on top
 * of the capability of the operation. These are Vault's own, from its
 * system backend and its token store, so a route added for one of them is
 * protected as in Vault without saying so itself. A pattern ending in `*`
 * covers every path it begins.
 */
const ROOT_PATHS = [
  'sys/auth/*',
  'sys/remount',
  'sys/audit',
  'sys/audit/*',
  'sys/raw',
  'sys/raw/*',
  'sys/rotate',
  'sys/config/cors',
  'sys/config/auditing/*',
  'sys/config/ui/headers/*',
  'sys/plugins/catalog/*',
  'sys/plugins/runtimes/catalog/*',
  'sys/revoke-prefix/*',
  'sys/revoke-force/*',
  'sys/leases',
  'sys/leases/revoke-prefix/*',
  'sys/leases/revoke-force/*',
  'sys/leases/lookup/*',
  'sys/seal',
  'sys/step-down',
  'auth/token/accessors*',
  'auth/token/revoke-orphan/*',
];

/**
 * Whether Vault asks for `sudo` on a path inside a namespace, such as
 * `sys/auth/oidc` (but not `sys/auth`, the listing).
 *
 * @example
 * isRootPath('sys/plugins/catalog/secret/mock-plugin'); // true
 */
export const isRootPath = (path: string): boolean =>
  ROOT_PATHS.some((pattern) =>
    pattern.endsWith('*')
      ? path.startsWith(pattern.slice(0, -1))
      : path === pattern,
  );
