import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Catalog } from '../catalog/client.js';
import { NotFoundError, UnsupportedOperationError } from './errors.js';
import type {
  ApiContext,
  ApiEvent,
  ApiResult,
} from './middlewares/api-context.js';
import { authenticate } from './middlewares/authenticate.js';
import { jsonBody } from './middlewares/json-body.js';
import { routeRequest } from './middlewares/route-request.js';
import { createRouter } from './route.js';
import { routes } from './routes/index.js';

export interface ApiOptions {
  catalog: Catalog;
  /** The key tokens are hashed with; see `tokenDigest`. */
  tokenHmacKey?: string;
  logger?: Logger;
  /**
   * Middlewares that trace each request and publish its metrics; see
   * `observeRequests` in `observability.ts`. They run outside every other
   * middleware, so they see the final answer, errors included.
   */
  observability?: middy.MiddlewareObj<ApiEvent, ApiResult, Error, ApiContext>[];
}

/**
 * The API's Lambda handler for a given catalog. Lambda runs the one built
 * from the environment in `handler.ts`; the local stack and the tests build
 * theirs here with their own table.
 *
 * @example
 * const handler = createApiHandler({ catalog: createCatalog() });
 */
export const createApiHandler = (options: ApiOptions) => {
  const logger = options.logger ?? new Logger({ serviceName: 'plugin-reload' });
  const findRoute = createRouter(routes);
  return middy<ApiEvent, ApiResult, Error, ApiContext>()
    .use(
      // Never the event: its headers carry the caller's token, whatever
      // POWERTOOLS_LOGGER_LOG_EVENT says.
      injectLambdaContext(logger, { resetKeys: true, logEvent: false }),
    )
    .use(options.observability ?? [])
    .use(
      httpHeaderNormalizer() as middy.MiddlewareObj<
        ApiEvent,
        ApiResult,
        Error,
        ApiContext
      >,
    )
    .use(routeRequest({ findRoute, logger }))
    .use(authenticate(options))
    .use(jsonBody())
    .handler(async (event, context) => {
      const { request, match, log } = context.vault;
      if (!match) {
        throw new NotFoundError(`no handler for route "${request.path}"`);
      }
      const handle = match.route.methods[request.method];
      if (!handle) throw new UnsupportedOperationError();
      return handle({
        request,
        params: match.params,
        body: event.body,
        catalog: options.catalog,
        log,
        auth: context.vault.auth,
      });
    });
};
