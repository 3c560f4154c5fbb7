import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { CallerAuth, RequestLog, RouteMatch } from '../route.js';
import type { VaultRequest } from '../vault-request.js';

export type ApiEvent = Omit<APIGatewayProxyEventV2, 'body'> & {
  body?: unknown;
};
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** The Lambda context, with what the API's middlewares learn on the way. */
export type ApiContext = Context & {
  vault: {
    request: VaultRequest;
    match?: RouteMatch;
    log: RequestLog;
    /** Set by `authenticate` once the caller may call the path. */
    auth?: CallerAuth;
  };
};
