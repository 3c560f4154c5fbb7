import type { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type middy from '@middy/core';
import { toErrorResponse } from '../error-response.js';
import type { RouteMatch } from '../route.js';
import { readVaultRequest } from '../vault-request.js';
import type { ApiContext, ApiEvent, ApiResult } from './api-context.js';

export interface RouteRequestOptions {
  findRoute: (path: string) => RouteMatch | undefined;
  logger: Logger;
}

/**
 * Reads the Vault request from the event and finds its route, before the
 * token is checked; afterwards writes the request's one log line and turns
 * any error into Vault's answer. It is the first middleware, so its error
 * handler runs after every other and sees the final outcome.
 */
export const routeRequest = ({
  findRoute,
  logger,
}: RouteRequestOptions): middy.MiddlewareObj<
  ApiEvent,
  ApiResult,
  Error,
  ApiContext
> => ({
  before: ({ event, context }) => {
    // A request that cannot even be read is still logged with what it was.
    context.vault = {
      request: {
        method: event.requestContext.http.method,
        path: event.rawPath,
        namespace: '',
        query: {},
        requestId: event.requestContext.requestId,
      },
      log: {},
    };
    const request = readVaultRequest(event as never);
    context.vault.request = request;
    context.vault.match = findRoute(request.path);
  },
  after: (request) => {
    writeLogLine(logger, request.context, request.response?.statusCode);
  },
  onError: (request) => {
    const { answer, response } = toErrorResponse(request.error);
    request.response = response;
    writeLogLine(
      logger,
      request.context,
      answer.statusCode,
      answer.reason,
      request.error,
    );
  },
});

/** The one structured line per request: what, where, how it ended. */
const writeLogLine = (
  logger: Logger,
  context: ApiContext,
  statusCode: number | undefined,
  reason?: string,
  error?: unknown,
) => {
  const vault = context.vault;
  const line: LogAttributes = {
    request_id: vault?.request.requestId,
    method: vault?.request.method,
    path: vault?.request.path,
    // Vault names the root namespace "root" where it must name it.
    namespace: vault?.request.namespace || 'root',
    route: vault?.match?.route.name,
    status: statusCode,
    ...(reason ? { reason } : {}),
    ...vault?.log,
  };
  if (statusCode !== undefined && statusCode >= 500) {
    // The cause stays in the log for whoever runs the service; the caller
    // only ever sees the mapped message.
    logger.error('request failed', { ...line, error: error as Error });
  } else {
    logger.info('request', line);
  }
};
