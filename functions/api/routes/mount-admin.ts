import * as z from 'zod';
import type { MountKind } from '../../catalog/keys.js';
import {
  disableMount,
  enableMount,
  readMigration,
  readMountTune,
  remountMount,
  tuneMount,
} from '../../catalog/mount-admin.js';
import { qualifiedMountPath } from '../../catalog/mounts.js';
import { emptyResponse, vaultResponse } from '../envelope.js';
import { optionalString, readBody } from '../request-body.js';
import type { RouteHandler } from '../route.js';
import {
  changeResponse,
  flag,
  SKIP_RELOAD,
  skipReloadOf,
  stringList,
  stringMap,
  ttlField,
} from './admin-fields.js';

const BOOLEAN = 'expected true or false';
const STRING = 'expected a string';
const LIST = 'expected a list of strings or one comma-separated string';
const TTL = 'expected seconds or a duration such as "1h"';

/** The tunable settings, as `config` of a new mount and as a tune. */
const configFields = {
  default_lease_ttl: ttlField(TTL),
  max_lease_ttl: ttlField(TTL),
  audit_non_hmac_request_keys: stringList(LIST),
  audit_non_hmac_response_keys: stringList(LIST),
  listing_visibility: z.string({ error: STRING }).optional(),
  passthrough_request_headers: stringList(LIST),
  allowed_response_headers: stringList(LIST),
  token_type: z.string({ error: STRING }).optional(),
};

/**
 * `config` of a new mount. Settings Vault has and this service does not
 * keep are dropped.
 */
const mountConfig = z.object(
  {
    ...configFields,
    force_no_cache: flag(BOOLEAN),
    plugin_name: z.string({ error: STRING }).optional(),
    plugin_version: z.string({ error: STRING }).optional(),
  },
  { error: 'expected an object' },
);

const enableBody = z.object({
  type: optionalString(STRING),
  description: optionalString(STRING),
  config: mountConfig.nullish(),
  options: stringMap('expected an object of strings'),
  local: flag(BOOLEAN),
  seal_wrap: flag(BOOLEAN),
  external_entropy_access: flag(BOOLEAN),
  plugin_name: optionalString(STRING),
  plugin_version: optionalString(STRING),
  // The path itself; node-vault sends it in the body too.
  path: z.unknown().optional(),
  mount_point: z.unknown().optional(),
});

const tuneBody = z.object({
  ...configFields,
  description: z.string({ error: STRING }).optional(),
  options: stringMap('expected an object of strings'),
  plugin_version: z.string({ error: STRING }).optional(),
  [SKIP_RELOAD]: flag(BOOLEAN),
});

/**
 * `sys/mounts/auth/foo/tune` tunes the auth mount `foo/`, as in Vault; every
 * other path under `sys/mounts/` is a secrets mount.
 */
const secretsOrAuth = (path: string): { kind: MountKind; path: string } =>
  path.startsWith('auth/') && path.length > 'auth/'.length
    ? { kind: 'auth', path: path.slice('auth/'.length) }
    : { kind: 'secret', path };

const enable =
  (kind: MountKind): RouteHandler =>
  async ({ catalog, request, params, body, log }) => {
    const { value, warnings } = readBody(enableBody, body);
    const outcome = await enableMount(catalog, {
      namespace: request.namespace,
      kind,
      path: params.path ?? '',
      type: value.type,
      pluginName: value.plugin_name,
      description: value.description,
      config: value.config ?? {},
      options: value.options ?? null,
      local: value.local ?? false,
      sealWrap: value.seal_wrap ?? false,
      externalEntropyAccess: value.external_entropy_access ?? false,
      pluginVersion: value.plugin_version,
    });
    log.mounts = [qualifiedMountPath(outcome.mount)];
    const all = [...warnings, ...outcome.warnings];
    return all.length > 0
      ? vaultResponse(request.requestId, null, { warnings: all })
      : emptyResponse();
  };

/** `POST sys/mounts/:path`: enables a secrets engine. */
export const enableSecretsMountHandler = enable('secret');

/** `POST sys/auth/:path`: enables an auth method. */
export const enableAuthMountHandler = enable('auth');

const disable =
  (kind: MountKind): RouteHandler =>
  async ({ catalog, request, params, log }) => {
    const removed = await disableMount(
      catalog,
      request.namespace,
      kind,
      params.path ?? '',
    );
    if (removed) log.mounts = [qualifiedMountPath(removed)];
    return emptyResponse();
  };

/** `DELETE sys/mounts/:path`. */
export const disableSecretsMountHandler = disable('secret');

/** `DELETE sys/auth/:path`. */
export const disableAuthMountHandler = disable('auth');

const readTune =
  (table: MountKind): RouteHandler =>
  async ({ catalog, request, params }) => {
    const where =
      table === 'auth'
        ? { kind: 'auth' as const, path: params.path ?? '' }
        : secretsOrAuth(params.path ?? '');
    const view = await readMountTune(
      catalog,
      request.namespace,
      where.kind,
      where.path,
    );
    return vaultResponse(request.requestId, view);
  };

/** `GET sys/mounts/:path/tune`. */
export const readSecretsTuneHandler = readTune('secret');

/** `GET sys/auth/:path/tune`. */
export const readAuthTuneHandler = readTune('auth');

const tune =
  (table: MountKind): RouteHandler =>
  async ({ catalog, request, params, body, log }) => {
    const where =
      table === 'auth'
        ? { kind: 'auth' as const, path: params.path ?? '' }
        : secretsOrAuth(params.path ?? '');
    const { value, warnings } = readBody(tuneBody, body);
    const { [SKIP_RELOAD]: skip, ...settings } = value;
    const given = Object.fromEntries(
      Object.entries(settings).filter(([, setting]) => setting !== undefined),
    );
    const outcome = await tuneMount(catalog, {
      namespace: request.namespace,
      kind: where.kind,
      path: where.path,
      tune: {
        ...given,
        options: settings.options ?? undefined,
      },
      fields: Object.keys(given),
      skipReload: skipReloadOf(request, skip),
    });
    log.mounts = [qualifiedMountPath(outcome.mount)];
    log.reloadId = outcome.reloadId;
    log.generationsMoved = outcome.reloadId ? 1 : 0;
    return changeResponse(request, {
      reloadId: outcome.reloadId,
      warnings: [...warnings, ...outcome.warnings],
    });
  };

/**
 * `POST sys/mounts/:path/tune`. A new `plugin_version` that changes what the
 * mount runs reloads it, unless `skip_reload` is set.
 */
export const tuneSecretsMountHandler = tune('secret');

/** `POST sys/auth/:path/tune`. */
export const tuneAuthMountHandler = tune('auth');

const remountBody = z.object({
  from: optionalString(STRING),
  to: optionalString(STRING),
});

/**
 * `POST sys/remount`: moves a mount with its generation. Vault queues the
 * move and answers with a migration id; the move here is finished by the
 * time it answers, and `sys/remount/status/:id` says so.
 */
export const remountHandler: RouteHandler = async ({
  catalog,
  request,
  body,
  log,
}) => {
  const { value, warnings } = readBody(remountBody, body);
  const migration = await remountMount(
    catalog,
    request.namespace,
    value.from,
    value.to,
  );
  log.mounts = [migration.sourceMount, migration.targetMount];
  return vaultResponse(
    request.requestId,
    { migration_id: migration.migrationId },
    {
      warnings: [
        ...warnings,
        'Mount move has completed; its status is at ' +
          `sys/remount/status/${migration.migrationId}`,
      ],
    },
  );
};

/** `GET sys/remount/status/:migration_id`. */
export const remountStatusHandler: RouteHandler = async ({
  catalog,
  request,
  params,
}) =>
  vaultResponse(
    request.requestId,
    await readMigration(catalog, request.namespace, params.migration_id ?? ''),
  );
