import * as z from 'zod';
import {
  deregisterPlugin,
  listPluginCatalog,
  listPluginNames,
  readPlugin,
  registerPlugin,
} from '../../catalog/plugin-catalog.js';
import { isPluginType, type PluginType } from '../../catalog/plugins.js';
import { emptyResponse, vaultResponse } from '../envelope.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { optionalString, readBody } from '../request-body.js';
import type { RouteHandler } from '../route.js';
import { stringList } from './admin-fields.js';

/** The plugin type of a catalog path, in Vault's words when it is none. */
export const pluginTypeParam = (type: string | undefined): PluginType => {
  if (type && isPluginType(type)) return type;
  throw new InvalidRequestError(
    `"${type ?? ''}" is not a supported plugin type`,
  );
};

/** `GET sys/plugins/catalog`: names per type, and `detailed`. */
export const listCatalogHandler: RouteHandler = async ({ catalog, request }) =>
  vaultResponse(request.requestId, await listPluginCatalog(catalog));

/**
 * `LIST sys/plugins/catalog/:type`, also as `GET`, with or without
 * `?list=true`.
 */
export const listCatalogTypeHandler: RouteHandler = async ({
  catalog,
  request,
  params,
}) => {
  const type = pluginTypeParam(params.type);
  const keys = await listPluginNames(catalog, type);
  // Vault answers an empty listing with a 404.
  if (keys.length === 0) {
    throw new NotFoundError(`no ${type} plugins in the catalog`);
  }
  return vaultResponse(request.requestId, { keys });
};

/** `GET sys/plugins/catalog/:type/:name?version=`. */
export const readCatalogEntryHandler: RouteHandler = async ({
  catalog,
  request,
  params,
  log,
}) => {
  const type = pluginTypeParam(params.type);
  const name = params.name ?? '';
  log.plugin = name;
  const plugin = await readPlugin(
    catalog,
    type,
    name,
    request.query.version ?? '',
  );
  return vaultResponse(request.requestId, plugin);
};

const registerBody = z.object({
  sha256: optionalString('expected a hex string'),
  // Vault's older spelling.
  sha_256: optionalString('expected a hex string'),
  command: optionalString('expected a string'),
  args: stringList('expected a list of strings'),
  env: stringList('expected a list of "KEY=value" strings'),
  version: optionalString('expected a string'),
});

/** `PUT sys/plugins/catalog/:type/:name`: registers one version. */
export const registerCatalogEntryHandler: RouteHandler = async ({
  catalog,
  request,
  params,
  body,
  log,
}) => {
  const type = pluginTypeParam(params.type);
  const name = params.name ?? '';
  log.plugin = name;
  const { value, warnings } = readBody(registerBody, body);
  await registerPlugin(catalog, {
    type,
    name,
    version: value.version || (request.query.version ?? ''),
    sha256: value.sha256 || value.sha_256,
    command: value.command,
    args: value.args ?? [],
    env: value.env ?? [],
  });
  return warnings.length > 0
    ? vaultResponse(request.requestId, null, { warnings })
    : emptyResponse();
};

const deregisterBody = z.object({
  version: optionalString('expected a string'),
});

/**
 * `DELETE sys/plugins/catalog/:type/:name?version=`: removes one version;
 * refused while it is builtin, pinned, or in use by a mount.
 */
export const deregisterCatalogEntryHandler: RouteHandler = async ({
  catalog,
  request,
  params,
  body,
  log,
}) => {
  const type = pluginTypeParam(params.type);
  const name = params.name ?? '';
  log.plugin = name;
  const { value, warnings } = readBody(deregisterBody, body);
  await deregisterPlugin(
    catalog,
    type,
    name,
    request.query.version ?? value.version,
  );
  return warnings.length > 0
    ? vaultResponse(request.requestId, null, { warnings })
    : emptyResponse();
};
