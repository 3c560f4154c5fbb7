import type { MountItem } from '../../catalog/items.js';
import type { MountKind } from '../../catalog/keys.js';
import { withTrailingSlash } from '../../catalog/mount-path.js';
import {
  getMount,
  listMounts,
  withRunningVersion,
  withRunningVersions,
} from '../../catalog/mounts.js';
import { vaultResponse } from '../envelope.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { RouteHandler } from '../route.js';

/** A mount entry in Vault's shape, with its generation beside it. */
export const mountEntryOf = (item: MountItem) => ({
  ...item.entry,
  reload_generation: item.generation,
});

const listTable =
  (kind: MountKind): RouteHandler =>
  async ({ catalog, request }) => {
    const items = await withRunningVersions(
      catalog,
      await listMounts(catalog, request.namespace, kind),
    );
    const table = Object.fromEntries(
      items.map((item) => [item.path, mountEntryOf(item)]),
    );
    // Vault repeats the table beside the envelope for its older clients.
    return vaultResponse(request.requestId, table, { topLevel: table });
  };

/** `GET sys/mounts`: the secrets mount table of the namespace. */
export const listSecretsMounts = listTable('secret');

/** `GET sys/auth`: the auth mount table of the namespace. */
export const listAuthMounts = listTable('auth');

const readMount =
  (kind: MountKind): RouteHandler =>
  async ({ catalog, request, params }) => {
    const path = withTrailingSlash(params.path ?? '');
    if (path.includes('#')) {
      throw new InvalidRequestError(`invalid mount path: ${path}`);
    }
    const item = await getMount(catalog, {
      namespace: request.namespace,
      kind,
      path,
    });
    if (!item) {
      throw new NotFoundError(
        `no ${kind === 'auth' ? 'auth ' : ''}mount at ${path}`,
      );
    }
    return vaultResponse(
      request.requestId,
      mountEntryOf(await withRunningVersion(catalog, item)),
    );
  };

/** `GET sys/mounts/:path`: one secrets mount entry. */
export const readSecretsMount = readMount('secret');

/** `GET sys/auth/:path`: one auth mount entry. */
export const readAuthMount = readMount('auth');
