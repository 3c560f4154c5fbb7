import type middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { ApiContext, ApiEvent, ApiResult } from './api-context.js';

/**
 * Vault reads every body as JSON whatever its content type (curl's `-d`
 * sends form encoding) and takes an empty body as an empty object. The
 * parsing itself is middy's.
 */
export const jsonBody = (): middy.MiddlewareObj<
  ApiEvent,
  ApiResult,
  Error,
  ApiContext
>[] => [
  {
    before: ({ event }) => {
      const body = event.body;
      if (body === undefined || body === null || body === '') {
        event.body = '{}';
        event.isBase64Encoded = false;
      }
    },
  },
  httpJsonBodyParser({
    disableContentTypeCheck: true,
  } as Parameters<typeof httpJsonBodyParser>[0]) as middy.MiddlewareObj<
    ApiEvent,
    ApiResult,
    Error,
    ApiContext
  >,
];
