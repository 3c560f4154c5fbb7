import * as z from 'zod';
import type { PinOutcome } from '../../catalog/pins.js';
import {
  deletePin,
  listPinnedVersions,
  readPin,
  setPin,
} from '../../catalog/pins.js';
import { vaultResponse } from '../envelope.js';
import { optionalString, readBody } from '../request-body.js';
import type { RouteHandler, RouteInput } from '../route.js';
import { changeResponse, flag, skipReloadOf } from './admin-fields.js';
import { pluginTypeParam } from './catalog.js';

/** `GET sys/plugins/pins`, also as `LIST` or `?list=true`. */
export const listPinsHandler: RouteHandler = async ({ catalog, request }) =>
  vaultResponse(request.requestId, {
    pinned_versions: await listPinnedVersions(catalog),
  });

/** `GET sys/plugins/pins/:type/:name`. */
export const readPinHandler: RouteHandler = async ({
  catalog,
  request,
  params,
}) => {
  const pin = await readPin(
    catalog,
    pluginTypeParam(params.type),
    params.name ?? '',
  );
  return vaultResponse(request.requestId, { ...pin });
};

const SKIP_MESSAGE = 'expected true or false';

const pinBody = z.object({
  version: optionalString('expected a string'),
  skip_reload: flag(SKIP_MESSAGE),
});

const deleteBody = z.object({ skip_reload: flag(SKIP_MESSAGE) });

/** The answer to a pin change, and its log line. */
const answer = (input: RouteInput, outcome: PinOutcome, warnings: string[]) => {
  // The plugin and the count say it all; a pin may move thousands of mounts.
  input.log.plugin = input.params.name;
  input.log.reloadId = outcome.reloadId;
  input.log.generationsMoved = outcome.reloadId ? outcome.changed.length : 0;
  return changeResponse(input.request, {
    reloadId: outcome.reloadId,
    warnings: [...warnings, ...outcome.warnings],
  });
};

/**
 * `PUT sys/plugins/pins/:type/:name` with `version`: every mount the pin
 * moves to another version reloads in the same write, and the answer names
 * them, unless `skip_reload` is set.
 */
export const writePinHandler: RouteHandler = async (input) => {
  const { value, warnings } = readBody(pinBody, input.body);
  const outcome = await setPin(input.catalog, {
    type: pluginTypeParam(input.params.type),
    name: input.params.name ?? '',
    version: value.version,
    skipReload: skipReloadOf(input.request, value.skip_reload),
  });
  return answer(input, outcome, warnings);
};

/**
 * `DELETE sys/plugins/pins/:type/:name`; `?skip_reload=true` for Vault's
 * behaviour.
 */
export const deletePinHandler: RouteHandler = async (input) => {
  const { value, warnings } = readBody(deleteBody, input.body);
  const outcome = await deletePin(input.catalog, {
    type: pluginTypeParam(input.params.type),
    name: input.params.name ?? '',
    skipReload: skipReloadOf(input.request, value.skip_reload),
  });
  return answer(input, outcome, warnings);
};
