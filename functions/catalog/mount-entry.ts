import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidRequestError } from '../api/errors.js';
import { parseDuration } from './duration.js';
import type { MountEntry } from './items.js';
import type { MountKind } from './keys.js';

/**
 * A mount entry as Vault builds and tunes it: the fields of
 * `POST sys/mounts/:path` and `POST sys/mounts/:path/tune` turned into the
 * entry that `GET sys/mounts` shows. Everything here is pure; the rules that
 * need the catalog live in `mount-admin.ts`.
 */

/** A TTL as Vault takes it: seconds, or a duration such as "1h30m". */
export type TtlInput = number | string;

/** The `config` of a new mount, and the flat fields of a tune. */
export interface MountConfigInput {
  default_lease_ttl?: TtlInput;
  max_lease_ttl?: TtlInput;
  force_no_cache?: boolean;
  audit_non_hmac_request_keys?: string[];
  audit_non_hmac_response_keys?: string[];
  listing_visibility?: string;
  passthrough_request_headers?: string[];
  allowed_response_headers?: string[];
  token_type?: string;
}

/** Vault's system-wide lease TTLs, which a mount's 0 stands for. */
export const SYSTEM_LEASE_TTL_SECONDS = 768 * 60 * 60;

const LISTING_VISIBILITIES = new Set(['', 'hidden', 'unauth']);
const TOKEN_TYPES = new Set([
  'default-service',
  'default-batch',
  'service',
  'batch',
]);
const LIST_FIELDS = [
  'audit_non_hmac_request_keys',
  'audit_non_hmac_response_keys',
  'passthrough_request_headers',
  'allowed_response_headers',
] as const;

/**
 * Seconds from a TTL: a number or numeric string is seconds, "system" and
 * "" mean the system default (stored as 0), anything else is a duration.
 *
 * @throws InvalidRequestError for a TTL that is none of these.
 */
export const ttlSeconds = (field: string, value: TtlInput): number => {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0) return value;
  } else {
    const written = value.trim();
    if (written === '' || written === 'system') return 0;
    if (/^\d+$/.test(written)) return Number(written);
    const seconds = parseDuration(written);
    if (seconds !== undefined && seconds >= 0) return seconds;
  }
  throw new InvalidRequestError(
    `unable to parse ${field} of ${String(value)}: not a duration`,
  );
};

const checkTtls = (defaultTtl: number, maxTtl: number) => {
  if (maxTtl !== 0 && defaultTtl > maxTtl) {
    throw new InvalidRequestError(
      'given default lease TTL greater than given max lease TTL',
    );
  }
};

const checkListingVisibility = (value: string) => {
  if (!LISTING_VISIBILITIES.has(value)) {
    throw new InvalidRequestError(`invalid listing_visibility ${value}`);
  }
};

const tokenTypeOf = (value: string) => {
  const tokenType = value === '' ? 'default-service' : value;
  if (!TOKEN_TYPES.has(tokenType)) {
    throw new InvalidRequestError("invalid value for 'token_type'");
  }
  return tokenType;
};

/** The `config` a new mount's entry holds, in Vault's shape. */
export const mountConfigOf = (
  kind: MountKind,
  input: MountConfigInput,
): Record<string, unknown> => {
  const defaultTtl = ttlSeconds('default TTL', input.default_lease_ttl ?? 0);
  const maxTtl = ttlSeconds('max TTL', input.max_lease_ttl ?? 0);
  checkTtls(defaultTtl, maxTtl);
  const config: Record<string, unknown> = {
    default_lease_ttl: defaultTtl,
    force_no_cache: input.force_no_cache ?? false,
    max_lease_ttl: maxTtl,
  };
  for (const field of LIST_FIELDS) {
    const list = input[field];
    if (list && list.length > 0) config[field] = list;
  }
  if (input.listing_visibility) {
    checkListingVisibility(input.listing_visibility);
    config.listing_visibility = input.listing_visibility;
  }
  if (kind === 'auth') {
    config.token_type = tokenTypeOf(input.token_type ?? '');
  } else if (input.token_type !== undefined) {
    throw new InvalidRequestError(
      "'token_type' can only be modified on auth mounts",
    );
  }
  return config;
};

/** What a new mount entry is made of, once the catalog has been asked. */
export interface NewEntry {
  kind: MountKind;
  /** The plugin name. */
  type: string;
  description: string;
  config: Record<string, unknown>;
  options: Record<string, string> | null;
  local: boolean;
  sealWrap: boolean;
  externalEntropyAccess: boolean;
  /** "" for the unversioned or builtin plugin. */
  pluginVersion: string;
  /** Set for builtin plugins, which run inside the service as in Vault. */
  builtinVersion?: string;
  deprecationStatus?: string;
}

/** A mount accessor as Vault makes them: `kv_1a2b3c4d`, `auth_ldap_…`. */
const accessorOf = (kind: MountKind, type: string) =>
  `${kind === 'auth' ? 'auth_' : ''}${type}_${randomBytes(4).toString('hex')}`;

/** A new mount entry, in the shape `GET sys/mounts` reports it. */
export const newMountEntry = (input: NewEntry): MountEntry => ({
  accessor: accessorOf(input.kind, input.type),
  config: input.config,
  description: input.description,
  external_entropy_access: input.externalEntropyAccess,
  local: input.local,
  options: input.options,
  plugin_version: input.pluginVersion,
  // Nothing runs an external plugin until a worker acknowledges it; a
  // builtin runs inside the service, as Vault reports it.
  running_plugin_version: input.builtinVersion ?? '',
  running_sha256: '',
  seal_wrap: input.sealWrap,
  type: input.type,
  uuid: randomUUID(),
  ...(input.deprecationStatus
    ? { deprecation_status: input.deprecationStatus }
    : {}),
});

/** The fields of `POST sys/mounts/:path/tune`. */
export interface TuneInput extends MountConfigInput {
  description?: string;
  options?: Record<string, string>;
  /** Absent: unchanged; "": back to the unversioned or builtin plugin. */
  plugin_version?: string;
}

/** The tune fields a singleton mount such as `sys/` still takes. */
const UNTUNABLE_ALLOWED = new Set([
  'audit_non_hmac_request_keys',
  'audit_non_hmac_response_keys',
]);

/** Mounts Vault lets no one tune, beyond their audit settings. */
const UNTUNABLE_MOUNTS = ['cubbyhole/', 'sys/', 'audit/', 'identity/'];

/**
 * Refuses tune fields a singleton secrets mount does not take, as Vault
 * does, naming the first.
 */
export const checkTunable = (
  kind: MountKind,
  path: string,
  fields: string[],
) => {
  if (kind !== 'secret') return;
  if (!UNTUNABLE_MOUNTS.some((prefix) => path.startsWith(prefix))) return;
  const refused = fields.find((field) => !UNTUNABLE_ALLOWED.has(field));
  if (refused) {
    throw new InvalidRequestError(
      `cannot tune parameter ${refused} of ${path}`,
    );
  }
};

const numberOr = (value: unknown, fallback: number) =>
  typeof value === 'number' ? value : fallback;

/** Vault's KV versions are 1 and 2, and a mount never goes back to 1. */
const tunedOptions = (
  current: Record<string, unknown> | null,
  changes: Record<string, string>,
): Record<string, unknown> | null => {
  if (Object.keys(changes).length === 0) return current;
  const options: Record<string, unknown> = { ...current };
  const version = changes.version;
  if (version !== undefined) {
    const wanted = Number(version);
    if (wanted !== 1 && wanted !== 2) {
      throw new InvalidRequestError(`invalid version provided: ${version}`);
    }
    const present = Number(options.version ?? 0) || 0;
    if (present > wanted) {
      throw new InvalidRequestError(
        `cannot downgrade mount from version ${present}`,
      );
    }
  }
  for (const [key, value] of Object.entries(changes)) {
    // An empty value removes an option, except the KV version.
    if (value === '' && key !== 'version') delete options[key];
    else options[key] = value;
  }
  return options;
};

/**
 * The entry after a tune. `plugin_version` is taken as already checked
 * against the catalog.
 */
export const tunedEntry = (
  kind: MountKind,
  entry: MountEntry,
  tune: TuneInput,
): MountEntry => {
  const config = { ...(entry.config as Record<string, unknown> | undefined) };
  const defaultTtl =
    tune.default_lease_ttl === undefined || tune.default_lease_ttl === ''
      ? numberOr(config.default_lease_ttl, 0)
      : ttlSeconds('default TTL', tune.default_lease_ttl);
  const maxTtl =
    tune.max_lease_ttl === undefined || tune.max_lease_ttl === ''
      ? numberOr(config.max_lease_ttl, 0)
      : ttlSeconds('max TTL', tune.max_lease_ttl);
  if (maxTtl !== 0 && defaultTtl !== 0 && maxTtl < defaultTtl) {
    throw new InvalidRequestError(
      `backend max lease TTL of ${maxTtl} would be less than backend ` +
        `default lease TTL of ${defaultTtl}`,
    );
  }
  config.default_lease_ttl = defaultTtl;
  config.max_lease_ttl = maxTtl;
  for (const field of LIST_FIELDS) {
    const list = tune[field];
    if (list !== undefined) config[field] = list;
  }
  if (tune.listing_visibility !== undefined) {
    checkListingVisibility(tune.listing_visibility);
    config.listing_visibility = tune.listing_visibility;
  }
  if (tune.token_type !== undefined) {
    if (kind !== 'auth') {
      throw new InvalidRequestError(
        "'token_type' can only be modified on auth mounts",
      );
    }
    if (entry.type === 'token' || entry.type === 'ns_token') {
      throw new InvalidRequestError(
        "'token_type' cannot be set for 'token' or 'ns_token' auth mounts",
      );
    }
    config.token_type = tokenTypeOf(tune.token_type);
  }
  return {
    ...entry,
    config,
    ...(tune.description !== undefined
      ? { description: tune.description }
      : {}),
    ...(tune.options
      ? {
          options: tunedOptions(
            (entry.options as Record<string, unknown> | null) ?? null,
            tune.options,
          ),
        }
      : {}),
    ...(tune.plugin_version !== undefined
      ? { plugin_version: tune.plugin_version }
      : {}),
  };
};

/** `GET sys/mounts/:path/tune` in Vault's shape. */
export const tuneView = (kind: MountKind, entry: MountEntry) => {
  const config = (entry.config ?? {}) as Record<string, unknown>;
  const view: Record<string, unknown> = {
    description: entry.description ?? '',
    default_lease_ttl:
      numberOr(config.default_lease_ttl, 0) || SYSTEM_LEASE_TTL_SECONDS,
    max_lease_ttl:
      numberOr(config.max_lease_ttl, 0) || SYSTEM_LEASE_TTL_SECONDS,
    force_no_cache: config.force_no_cache === true,
  };
  if (entry.external_entropy_access === true) {
    view.external_entropy_access = true;
  }
  if (kind === 'auth') view.token_type = config.token_type ?? 'default-service';
  for (const field of LIST_FIELDS) {
    if (Array.isArray(config[field])) view[field] = config[field];
  }
  if (config.listing_visibility) {
    view.listing_visibility = config.listing_visibility;
  }
  const options = entry.options as Record<string, unknown> | null | undefined;
  if (options && Object.keys(options).length > 0) view.options = options;
  if (entry.plugin_version) view.plugin_version = entry.plugin_version;
  return view;
};
