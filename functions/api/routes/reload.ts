import * as z from 'zod';
import { displayMountPath } from '../../catalog/mount-path.js';
import {
  type ReloadOutcome,
  reloadMounts,
  reloadPlugin,
} from '../../generations/reload.js';
import { emptyResponse, vaultResponse } from '../envelope.js';
import { InvalidRequestError } from '../errors.js';
import {
  commaSeparatedList,
  optionalString,
  readBody,
} from '../request-body.js';
import type { RouteHandler, RouteInput } from '../route.js';

const SCOPE_MESSAGE = "reload scope must be omitted or 'global'";

/** `scope` is "" (this node, in Vault) or "global" (every node). */
const scopeField = optionalString(SCOPE_MESSAGE);

const readScope = (scope: string): '' | 'global' => {
  if (scope === '' || scope === 'global') return scope;
  throw new InvalidRequestError(SCOPE_MESSAGE);
};

/**
 * The body of `sys/plugins/reload/backend`. Vault's Go client sends every
 * field, empty or null, so empty values mean "not given".
 */
const reloadBackendBody = z.object({
  plugin: optionalString('expected a string'),
  mounts: commaSeparatedList(
    'expected a list of mount paths or one comma-separated string',
  ),
  scope: scopeField,
});

const reloadEverywhereBody = z.object({ scope: scopeField });

/** What a reload answers: 202 for a global reload, else 200 or 204. */
const answer = (
  input: RouteInput,
  outcome: ReloadOutcome,
  scope: '' | 'global',
  warnings: string[],
  emptyOnSuccess: boolean,
) => {
  input.log.reloadId = outcome.reloadId;
  input.log.generationsMoved = outcome.moved.length;
  const allWarnings = [...warnings, ...outcome.warnings];
  if (emptyOnSuccess && scope !== 'global' && allWarnings.length === 0) {
    return emptyResponse();
  }
  return vaultResponse(
    input.request.requestId,
    outcome.reloadId ? { reload_id: outcome.reloadId } : {},
    { statusCode: scope === 'global' ? 202 : 200, warnings: allWarnings },
  );
};

const reloadBackend =
  (emptyOnSuccess: boolean): RouteHandler =>
  async (input) => {
    const { value, warnings } = readBody(reloadBackendBody, input.body);
    const { plugin, mounts } = value;
    const scope = readScope(value.scope);
    if (plugin !== '' && mounts.length > 0) {
      throw new InvalidRequestError(
        'plugin and mounts cannot be set at the same time',
      );
    }
    if (plugin === '' && mounts.length === 0) {
      throw new InvalidRequestError('plugin or mounts must be provided');
    }
    const context = { catalog: input.catalog, scope };
    const { namespace } = input.request;
    if (plugin !== '') {
      input.log.plugin = plugin;
      const outcome = await reloadPlugin(context, plugin, { namespace });
      return answer(input, outcome, scope, warnings, emptyOnSuccess);
    }
    input.log.mounts = mounts;
    const outcome = await reloadMounts(context, namespace, mounts);
    input.log.mounts = outcome.moved.map(({ mount }) =>
      displayMountPath(mount),
    );
    return answer(input, outcome, scope, warnings, emptyOnSuccess);
  };

/** `sys/plugins/reload/backend`: answers 200 with the reload id. */
export const reloadBackendHandler = reloadBackend(false);

/** `sys/plugins/backend/reload`, the older path: answers 204. */
export const legacyReloadBackendHandler = reloadBackend(true);

/** The types this path takes; `unknown` means every type with the name. */
const PLUGIN_TYPES: Record<string, 'auth' | 'secret' | undefined> = {
  auth: 'auth',
  secret: 'secret',
  unknown: undefined,
};

/**
 * `sys/plugins/reload/:type/:name`: every mount of the plugin in every
 * namespace. Only the root namespace may ask for it, since it reaches into
 * all the others.
 */
export const reloadEverywhereHandler: RouteHandler = async (input) => {
  if (input.request.namespace !== '') {
    throw new InvalidRequestError(
      'this endpoint is only available in the root namespace',
    );
  }
  const { type = '', name = '' } = input.params;
  if (!Object.hasOwn(PLUGIN_TYPES, type)) {
    throw new InvalidRequestError(
      `unknown plugin type "${type}": expected auth, secret or unknown`,
    );
  }
  const { value, warnings } = readBody(reloadEverywhereBody, input.body);
  const scope = readScope(value.scope);
  input.log.plugin = name;
  const outcome = await reloadPlugin({ catalog: input.catalog, scope }, name, {
    type: PLUGIN_TYPES[type],
  });
  return answer(input, outcome, scope, warnings, false);
};
