import type { Route } from '../route.js';
import { readHealth } from './health.js';
import {
  listAuthMounts,
  listSecretsMounts,
  readSecretsMount,
} from './mounts.js';
import {
  legacyReloadBackendHandler,
  reloadBackendHandler,
  reloadEverywhereHandler,
} from './reload.js';
import { reloadStatusHandler } from './reload-status.js';

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
    methods: {
      PUT: legacyReloadBackendHandler,
      POST: legacyReloadBackendHandler,
    },
  },
  {
    name: 'reload-everywhere',
    pattern: 'sys/plugins/reload/:type/:name',
    methods: { PUT: reloadEverywhereHandler, POST: reloadEverywhereHandler },
  },
  {
    name: 'mounts',
    pattern: 'sys/mounts',
    methods: { GET: listSecretsMounts },
  },
  {
    name: 'mount',
    pattern: 'sys/mounts/*path',
    methods: { GET: readSecretsMount },
  },
  { name: 'auth', pattern: 'sys/auth', methods: { GET: listAuthMounts } },
];
