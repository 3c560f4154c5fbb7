import { readReloadStatus } from '../../generations/status.js';
import { vaultResponse } from '../envelope.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { RouteHandler } from '../route.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `GET sys/plugins/reload/backend/status?reload_id=`. */
export const reloadStatusHandler: RouteHandler = async ({
  catalog,
  request,
  log,
}) => {
  const reloadId = request.query.reload_id?.trim() ?? '';
  if (reloadId === '') throw new InvalidRequestError('missing reload_id');
  if (!UUID.test(reloadId)) {
    throw new InvalidRequestError('reload_id must be a UUID');
  }
  log.reloadId = reloadId;
  const status = await readReloadStatus(catalog, reloadId.toLowerCase());
  if (!status || status.namespace !== request.namespace) {
    throw new NotFoundError(`no reload with id ${reloadId}`);
  }
  return vaultResponse(request.requestId, { ...status });
};
