import type { MountKind, MountRef } from './keys.js';

/**
 * How a caller may name a mount, and what we make of it. `foo`, `foo/` and
 * `/foo` are the secrets mount `foo/`; `auth/foo`, `sys/auth/foo` (with or
 * without the trailing slash) are the auth mount `foo/`. A path inside a mount
 * such as `secret/data/app` is resolved later, to the longest mount path that
 * is a prefix of it.
 */
export interface MountPathInput {
  kind: MountKind;
  /** Ends with `/`, relative to the mount table of `kind`. */
  path: string;
  /** What the caller wrote, for error messages. */
  written: string;
}

/** Mounts that exist once per namespace and are never reloaded. */
const SINGLETON_MOUNTS: Record<MountKind, string[]> = {
  secret: ['sys/', 'identity/', 'cubbyhole/'],
  auth: ['token/'],
};

export class MountPathError extends Error {}

/** Adds the trailing slash Vault keeps on every mount and namespace path. */
export const withTrailingSlash = (path: string) =>
  path.endsWith('/') ? path : `${path}/`;

/**
 * Reads a mount path as a caller wrote it.
 *
 * @throws MountPathError when the path is empty or cannot name a mount.
 */
export const parseMountPath = (written: string): MountPathInput => {
  const trimmed = written.trim().replace(/^\/+/, '');
  if (trimmed === '') throw new MountPathError('mount path must not be empty');
  if (trimmed.includes('#') || /(^|\/)\.\.?(\/|$)/.test(trimmed)) {
    throw new MountPathError(`invalid mount path: ${written}`);
  }
  const path = withTrailingSlash(trimmed.replace(/\/{2,}/g, '/'));
  for (const authPrefix of ['sys/auth/', 'auth/']) {
    if (path.startsWith(authPrefix) && path.length > authPrefix.length) {
      return { kind: 'auth', path: path.slice(authPrefix.length), written };
    }
  }
  return { kind: 'secret', path, written };
};

/** Whether the path is, or lies inside, a singleton mount. */
export const isSingletonPath = (input: Pick<MountPathInput, 'kind' | 'path'>) =>
  SINGLETON_MOUNTS[input.kind].some((singleton) =>
    input.path.startsWith(singleton),
  );

/**
 * The mount paths that could hold `path`, longest first: `a/b/c/` may be
 * the mount `a/b/c/`, `a/b/` or `a/`.
 */
export const candidateMountPaths = (path: string): string[] => {
  const segments = path.split('/').filter((segment) => segment !== '');
  return segments.map(
    (_, index) => `${segments.slice(0, segments.length - index).join('/')}/`,
  );
};

/** The path of a mount as Vault shows it: `auth/` before auth mounts. */
export const displayMountPath = (mount: Pick<MountRef, 'kind' | 'path'>) =>
  mount.kind === 'auth' ? `auth/${mount.path}` : mount.path;

/**
 * Reads a namespace as a caller wrote it: `team-b`, `team-b/` and
 * `/team-b/` are one namespace, `team-b/`; the root namespace is "".
 */
export const normaliseNamespace = (written: string): string => {
  const trimmed = written.trim().replace(/^\/+|\/+$/g, '');
  if (trimmed === '' || trimmed === 'root') return '';
  if (trimmed.includes('#') || /(^|\/)\.\.?(\/|$)/.test(trimmed)) {
    throw new MountPathError(`invalid namespace: ${written}`);
  }
  return `${trimmed.replace(/\/{2,}/g, '/')}/`;
};

/** Joins namespaces: `team-b/` inside the header's `org/` is `org/team-b/`. */
export const joinNamespaces = (outer: string, inner: string) =>
  normaliseNamespace(`${outer}${inner}`);
