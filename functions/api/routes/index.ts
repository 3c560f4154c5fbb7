import type { Route } from '../route.js';
import {
  deregisterCatalogEntryHandler,
  listCatalogHandler,
  listCatalogTypeHandler,
  readCatalogEntryHandler,
  registerCatalogEntryHandler,
} from './catalog.js';
import { readHealth } from './health.js';
import {
  disableAuthMountHandler,
  disableSecretsMountHandler,
  enableAuthMountHandler,
  enableSecretsMountHandler,
  readAuthTuneHandler,
  readSecretsTuneHandler,
  remountHandler,
  remountStatusHandler,
  tuneAuthMountHandler,
  tuneSecretsMountHandler,
} from './mount-admin.js';
import {
  listAuthMounts,
  listSecretsMounts,
  readAuthMount,
  readSecretsMount,
} from './mounts.js';
import {
  deletePinHandler,
  listPinsHandler,
  readPinHandler,
  writePinHandler,
} from './pins.js';
import {
  deletePolicyHandler,
  listPoliciesHandler,
  listPoliciesLegacyHandler,
  readPolicyHandler,
  readPolicyLegacyHandler,
  writePolicyHandler,
  writePolicyLegacyHandler,
} from './policies.js';
import {
  legacyReloadBackendHandler,
  reloadBackendHandler,
  reloadEverywhereHandler,
} from './reload.js';
import { reloadStatusHandler } from './reload-status.js';
import {
  createOrphanTokenHandler,
  createTokenHandler,
  lookupAccessorHandler,
  lookupHandler,
  lookupSelfHandler,
  revokeAccessorHandler,
  revokeHandler,
  revokeSelfHandler,
} from './tokens.js';

/** Every path the API answers, exact paths before the patterns. */
export const routes: Route[] = [
  {
    name: 'health',
    pattern: 'sys/health',
    unauthenticated: true,
    methods: { GET: readHealth, HEAD: readHealth },
  },
  {
    name: 'reload-status',
    pattern: 'sys/plugins/reload/backend/status',
    methods: { GET: reloadStatusHandler },
  },
  {
    name: 'reload-backend',
    pattern: 'sys/plugins/reload/backend',
    methods: { PUT: reloadBackendHandler, POST: reloadBackendHandler },
  },
  {
    name: 'reload-backend-legacy',
    pattern: 'sys/plugins/backend/reload',
    // The same endpoint under its older name, governed by the same rules.
    aclPath: 'sys/plugins/reload/backend',
    methods: {
      PUT: legacyReloadBackendHandler,
      POST: legacyReloadBackendHandler,
    },
  },
  {
    name: 'reload-everywhere',
    pattern: 'sys/plugins/reload/:type/:name',
    // It reaches into every namespace, so it asks for root privileges.
    sudo: true,
    methods: { PUT: reloadEverywhereHandler, POST: reloadEverywhereHandler },
  },
  {
    name: 'mounts',
    pattern: 'sys/mounts',
    methods: { GET: listSecretsMounts },
  },
  {
    name: 'mount-tune',
    pattern: 'sys/mounts/*path/tune',
    methods: {
      GET: readSecretsTuneHandler,
      POST: tuneSecretsMountHandler,
      PUT: tuneSecretsMountHandler,
    },
  },
  {
    name: 'mount',
    pattern: 'sys/mounts/*path',
    methods: {
      GET: readSecretsMount,
      POST: enableSecretsMountHandler,
      PUT: enableSecretsMountHandler,
      DELETE: disableSecretsMountHandler,
    },
  },
  { name: 'auth', pattern: 'sys/auth', methods: { GET: listAuthMounts } },
  {
    name: 'auth-mount-tune',
    pattern: 'sys/auth/*path/tune',
    sudo: true,
    methods: {
      GET: readAuthTuneHandler,
      POST: tuneAuthMountHandler,
      PUT: tuneAuthMountHandler,
    },
  },
  {
    name: 'auth-mount',
    pattern: 'sys/auth/*path',
    sudo: true,
    methods: {
      GET: readAuthMount,
      POST: enableAuthMountHandler,
      PUT: enableAuthMountHandler,
      DELETE: disableAuthMountHandler,
    },
  },
  {
    name: 'remount',
    pattern: 'sys/remount',
    sudo: true,
    methods: { POST: remountHandler, PUT: remountHandler },
  },
  {
    name: 'remount-status',
    pattern: 'sys/remount/status/:migration_id',
    methods: { GET: remountStatusHandler },
  },
  {
    name: 'plugin-catalog',
    pattern: 'sys/plugins/catalog',
    methods: { GET: listCatalogHandler, LIST: listCatalogHandler },
  },
  {
    name: 'plugin-catalog-type',
    pattern: 'sys/plugins/catalog/:type',
    sudo: true,
    methods: { GET: listCatalogTypeHandler, LIST: listCatalogTypeHandler },
  },
  {
    name: 'plugin-catalog-entry',
    pattern: 'sys/plugins/catalog/:type/:name',
    sudo: true,
    methods: {
      GET: readCatalogEntryHandler,
      PUT: registerCatalogEntryHandler,
      POST: registerCatalogEntryHandler,
      DELETE: deregisterCatalogEntryHandler,
    },
  },
  {
    name: 'plugin-pins',
    pattern: 'sys/plugins/pins',
    methods: { GET: listPinsHandler, LIST: listPinsHandler },
  },
  {
    name: 'plugin-pin',
    pattern: 'sys/plugins/pins/:type/:name',
    methods: {
      GET: readPinHandler,
      PUT: writePinHandler,
      POST: writePinHandler,
      DELETE: deletePinHandler,
    },
  },
  {
    name: 'token-create',
    pattern: 'auth/token/create',
    methods: { POST: createTokenHandler, PUT: createTokenHandler },
  },
  {
    name: 'token-create-orphan',
    pattern: 'auth/token/create-orphan',
    methods: { POST: createOrphanTokenHandler, PUT: createOrphanTokenHandler },
  },
  {
    name: 'token-lookup-self',
    pattern: 'auth/token/lookup-self',
    methods: { GET: lookupSelfHandler },
  },
  {
    name: 'token-lookup',
    pattern: 'auth/token/lookup',
    methods: { POST: lookupHandler, PUT: lookupHandler },
  },
  {
    name: 'token-lookup-accessor',
    pattern: 'auth/token/lookup-accessor',
    methods: { POST: lookupAccessorHandler, PUT: lookupAccessorHandler },
  },
  {
    name: 'token-revoke',
    pattern: 'auth/token/revoke',
    methods: { POST: revokeHandler, PUT: revokeHandler },
  },
  {
    name: 'token-revoke-self',
    pattern: 'auth/token/revoke-self',
    methods: { POST: revokeSelfHandler, PUT: revokeSelfHandler },
  },
  {
    name: 'token-revoke-accessor',
    pattern: 'auth/token/revoke-accessor',
    methods: { POST: revokeAccessorHandler, PUT: revokeAccessorHandler },
  },
  {
    name: 'policies-legacy',
    pattern: 'sys/policy',
    methods: {
      GET: listPoliciesLegacyHandler,
      LIST: listPoliciesLegacyHandler,
    },
  },
  {
    name: 'policy-legacy',
    pattern: 'sys/policy/*name',
    methods: {
      GET: readPolicyLegacyHandler,
      PUT: writePolicyLegacyHandler,
      POST: writePolicyLegacyHandler,
      DELETE: deletePolicyHandler,
    },
  },
  {
    name: 'policies',
    pattern: 'sys/policies/acl',
    methods: { GET: listPoliciesHandler, LIST: listPoliciesHandler },
  },
  {
    name: 'policy',
    pattern: 'sys/policies/acl/*name',
    methods: {
      GET: readPolicyHandler,
      PUT: writePolicyHandler,
      POST: writePolicyHandler,
      DELETE: deletePolicyHandler,
    },
  },
];
