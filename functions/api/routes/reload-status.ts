import {
  DEFAULT_STATUS_LIMIT,
  InvalidCursorError,
  MAX_STATUS_LIMIT,
  readReloadStatus,
} from '../../generations/status.js';
import { vaultResponse } from '../envelope.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { RouteHandler } from '../route.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const readLimit = (written: string | undefined) => {
  if (written === undefined || written.trim() === '') {
    return DEFAULT_STATUS_LIMIT;
  }
  const limit = Number(written);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_STATUS_LIMIT) {
    throw new InvalidRequestError(
      `limit must be a whole number from 1 to ${MAX_STATUS_LIMIT}`,
    );
  }
  return limit;
};

/**
 * `GET sys/plugins/reload/backend/status?reload_id=ID[&limit=N][&after=C]`:
 * a page of the reload's mounts, `limit` of them (100 unless told), after
 * the cursor `C` that the previous page gave as `next_after`.
 */
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
  const limit = readLimit(request.query.limit);
  const after = request.query.after?.trim() || undefined;
  let status: Awaited<ReturnType<typeof readReloadStatus>>;
  try {
    status = await readReloadStatus(catalog, reloadId.toLowerCase(), {
      after,
      limit,
    });
  } catch (error) {
    if (error instanceof InvalidCursorError) {
      throw new InvalidRequestError(error.message);
    }
    throw error;
  }
  if (!status || status.namespace !== request.namespace) {
    throw new NotFoundError(`no reload with id ${reloadId}`);
  }
  return vaultResponse(request.requestId, { ...status });
};
