import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  Context,
} from 'aws-lambda';

/** The Lambda handler as API Gateway invokes it. */
export type GatewayHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export interface GatewayOptions {
  /**
   * The stage name. `$default` serves the API at the root; any other stage
   * serves it under `/STAGE/`, and that prefix stays in `rawPath`.
   */
  stage?: string;
  /** How long the handler may take; API Gateway's limit is 30 s. */
  timeoutMs?: number;
}

/** Stands for "no answer in time", a value no handler can return. */
const timeoutMarker = Symbol('timed out');

/** The one route the deployed API has. */
const routeKey = 'ANY /v1/{proxy+}';
const routePrefix = '/v1/';

/** API Gateway refuses request bodies above 10 MB. */
const maxPayloadBytes = 10 * 1024 * 1024;

/** API Gateway stops waiting for the integration after 30 s. */
const integrationTimeoutMs = 30_000;

// Placeholders in the shape of the deployed API's identifiers, so code that
// reads them (logs, ARNs) sees well-formed values.
const accountId = '000000000000';
const apiId = 'local';
const functionName = 'plugin-reload-local';
const memoryLimitInMB = '1024';

/**
 * Media types API Gateway hands to the function as text. Every other body,
 * including one without a content type and form-encoded ones, arrives
 * base64-encoded.
 */
const textMediaTypes = new Set([
  'application/json',
  'application/xml',
  'application/javascript',
]);

/**
 * Headers that belong to one connection, not to the request. API Gateway
 * terminates the connection, so the function never sees them.
 */
const hopByHopHeaders = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** What API Gateway itself answers when it cannot hand over a request. */
const gatewayAnswers = {
  badRequest: { statusCode: 400, message: 'Bad Request' },
  notFound: { statusCode: 404, message: 'Not Found' },
  tooLarge: { statusCode: 413, message: 'Request Entity Too Large' },
  internalError: { statusCode: 500, message: 'Internal Server Error' },
  unavailable: { statusCode: 503, message: 'Service Unavailable' },
} as const;

interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/**
 * An HTTP server that does on one machine what API Gateway's HTTP API does in
 * front of the deployed Lambda: each request under `/v1/` becomes the
 * payload 2.0 event of the route `ANY /v1/{proxy+}`, and the handler's result
 * becomes the HTTP answer, by the same rules. The server is returned
 * unstarted.
 *
 * @example
 * const server = createGatewayServer(handler);
 * server.listen(8200, '127.0.0.1');
 * // curl http://127.0.0.1:8200/v1/sys/mounts
 */
export const createGatewayServer = (
  handler: GatewayHandler,
  options: GatewayOptions = {},
): Server => {
  const stage = options.stage ?? '$default';
  const timeoutMs = options.timeoutMs ?? integrationTimeoutMs;
  return createServer((request, response) => {
    void serve(handler, request, stage, timeoutMs).then(
      (answer) => writeAnswer(response, answer),
      (error: unknown) => {
        logError('the local gateway failed', {}, error);
        writeAnswer(response, gatewayAnswer('internalError', ''));
      },
    );
  });
};

const serve = async (
  handler: GatewayHandler,
  request: IncomingMessage,
  stage: string,
  timeoutMs: number,
): Promise<HttpAnswer> => {
  const requestId = newGatewayRequestId();
  const received = new Date();
  const target = request.url ?? '/';
  const queryStart = target.indexOf('?');
  const encodedPath = queryStart === -1 ? target : target.slice(0, queryStart);
  const rawQueryString = queryStart === -1 ? '' : target.slice(queryStart + 1);

  // The HTTP API hands the function the path already percent-decoded.
  const rawPath = decodePath(encodedPath);
  if (rawPath === undefined) {
    request.resume();
    return gatewayAnswer('badRequest', requestId);
  }
  const proxy = matchRoute(rawPath, stage);
  if (proxy === undefined) {
    request.resume();
    return gatewayAnswer('notFound', requestId);
  }

  const body = await readBody(request);
  if (body === 'too large') return gatewayAnswer('tooLarge', requestId);
  if (body === 'aborted') return gatewayAnswer('badRequest', requestId);

  const { headers, cookies } = eventHeaders(request);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    cookies,
    headers,
    queryStringParameters: queryParameters(rawQueryString),
    requestContext: {
      accountId,
      apiId,
      domainName: headers.host?.replace(/:\d+$/, '') ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split(/[.:]/)[0] ?? '',
      http: {
        method: request.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: sourceIp(request),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage,
      time: formatRequestTime(received),
      timeEpoch: received.getTime(),
    },
    pathParameters: { proxy },
    ...encodeBody(body, headers['content-type']),
  };

  const deadline = Date.now() + timeoutMs;
  const context = lambdaContext(deadline);
  const logFields = {
    requestId,
    awsRequestId: context.awsRequestId,
    method: event.requestContext.http.method,
    path: rawPath,
  };

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<typeof timeoutMarker>((resolve) => {
    timer = setTimeout(() => resolve(timeoutMarker), timeoutMs);
  });
  try {
    const result = await Promise.race([handler(event, context), timedOut]);
    if (result === timeoutMarker) {
      logError('the handler did not answer in time', logFields, undefined);
      return gatewayAnswer('unavailable', requestId);
    }
    const answer = toHttpAnswer(result);
    if (answer === undefined) {
      logError('the handler returned a malformed response', logFields, null);
      return gatewayAnswer('internalError', requestId);
    }
    answer.headers['apigw-requestid'] = requestId;
    return answer;
  } catch (error) {
    logError('the handler failed', logFields, error);
    return gatewayAnswer('internalError', requestId);
  } finally {
    clearTimeout(timer);
  }
};

const decodePath = (encodedPath: string): string | undefined => {
  try {
    return decodeURIComponent(encodedPath);
  } catch {
    return undefined;
  }
};

/** The `{proxy+}` value, or undefined when the route does not match. */
const matchRoute = (rawPath: string, stage: string): string | undefined => {
  let routePath = rawPath;
  if (stage !== '$default') {
    const stagePrefix = `/${stage}`;
    if (!rawPath.startsWith(`${stagePrefix}/`)) return undefined;
    routePath = rawPath.slice(stagePrefix.length);
  }
  if (!routePath.startsWith(routePrefix)) return undefined;
  // A greedy path variable matches one character or more.
  const proxy = routePath.slice(routePrefix.length);
  return proxy === '' ? undefined : proxy;
};

/**
 * Reads the whole body. Past the limit the rest is read and dropped, so the
 * client gets to read the 413 instead of a reset connection.
 */
const readBody = async (
  request: IncomingMessage,
): Promise<Buffer | 'too large' | 'aborted'> => {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= maxPayloadBytes) chunks.push(chunk);
    }
  } catch {
    // The client went away mid-body; nobody is left to read an answer.
    return 'aborted';
  }
  return size > maxPayloadBytes ? 'too large' : Buffer.concat(chunks);
};

/**
 * Header names lower-cased and repeated headers joined by commas, as the
 * HTTP API sends them. Cookies move to their own list, and the forwarding
 * headers API Gateway adds are added.
 */
const eventHeaders = (
  request: IncomingMessage,
): { headers: Record<string, string>; cookies: string[] | undefined } => {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = request.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = (raw[index] ?? '').toLowerCase();
    const value = raw[index + 1] ?? '';
    if (hopByHopHeaders.has(name)) continue;
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((cookie) => cookie.trim())
          .filter((cookie) => cookie !== ''),
      );
      continue;
    }
    const earlier = headers[name];
    headers[name] = earlier === undefined ? value : `${earlier},${value}`;
  }

  const clientIp = sourceIp(request);
  const forwardedFor = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor
    ? `${forwardedFor}, ${clientIp}`
    : clientIp;
  headers['x-forwarded-port'] = String(request.socket.localPort ?? '');
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] ??= newTraceId();
  return { headers, cookies: cookies.length > 0 ? cookies : undefined };
};

/** Decoded values, with the values of a repeated key joined by commas. */
const queryParameters = (
  rawQueryString: string,
): Record<string, string> | undefined => {
  const parameters: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    const earlier = parameters[key];
    parameters[key] = earlier === undefined ? value : `${earlier},${value}`;
  }
  return Object.keys(parameters).length > 0 ? parameters : undefined;
};

const encodeBody = (
  body: Buffer,
  contentType: string | undefined,
): Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'> => {
  if (body.length === 0) return { body: undefined, isBase64Encoded: false };
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  const isText =
    mediaType !== undefined &&
    (mediaType.startsWith('text/') || textMediaTypes.has(mediaType));
  return isText
    ? { body: body.toString('utf8'), isBase64Encoded: false }
    : { body: body.toString('base64'), isBase64Encoded: true };
};

/**
 * Payload 2.0's response rules: a structured result with a `statusCode`
 * sets the status, headers, cookies and body; any other value that is JSON
 * becomes a 200 whose body is that JSON. Payload 2.0 has no
 * `multiValueHeaders`, so one is ignored here as it is on AWS. Undefined
 * means the result cannot be turned into an answer.
 */
const toHttpAnswer = (result: unknown): HttpAnswer | undefined => {
  if (
    typeof result !== 'object' ||
    result === null ||
    !('statusCode' in result)
  ) {
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(result ?? null)),
    };
  }
  const structured = result as Record<string, unknown>;
  const { statusCode, body, cookies } = structured;
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599 ||
    (body !== undefined && body !== null && typeof body !== 'string')
  ) {
    return undefined;
  }
  const headers: Record<string, string | string[]> = {};
  const resultHeaders = structured.headers;
  if (typeof resultHeaders === 'object' && resultHeaders !== null) {
    for (const [name, value] of Object.entries(resultHeaders)) {
      headers[name.toLowerCase()] = String(value);
    }
  }
  if (Array.isArray(cookies) && cookies.length > 0) {
    headers['set-cookie'] = cookies.map(String);
  }
  const text = typeof body === 'string' ? body : '';
  return {
    statusCode,
    headers,
    body: Buffer.from(
      text,
      structured.isBase64Encoded === true ? 'base64' : 'utf8',
    ),
  };
};

const gatewayAnswer = (
  kind: keyof typeof gatewayAnswers,
  requestId: string,
): HttpAnswer => {
  const { statusCode, message } = gatewayAnswers[kind];
  const headers: Record<string, string> = {
    'content-type': 'application/json',
  };
  if (requestId) headers['apigw-requestid'] = requestId;
  return {
    statusCode,
    headers,
    body: Buffer.from(JSON.stringify({ message })),
  };
};

const writeAnswer = (response: ServerResponse, answer: HttpAnswer) => {
  if (response.headersSent) {
    response.end();
    return;
  }
  try {
    response.writeHead(answer.statusCode, {
      ...answer.headers,
      'content-length': String(answer.body.length),
    });
  } catch (error) {
    // A header value Node refuses to send, such as one with a line break.
    logError('the handler returned a header that cannot be sent', {}, error);
    const fallback = gatewayAnswer('internalError', '');
    response.writeHead(fallback.statusCode, {
      ...fallback.headers,
      'content-length': String(fallback.body.length),
    });
    response.end(fallback.body);
    return;
  }
  response.end(answer.body);
};

const lambdaContext = (deadline: number): Context => {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const today = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const unsupported = () => {
    throw new Error('return a promise from the handler instead');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn:
      `arn:aws:lambda:${region}:${accountId}:` + `function:${functionName}`,
    memoryLimitInMB,
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${today}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
};

const sourceIp = (request: IncomingMessage): string =>
  (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');

/** API Gateway's request ids are 16 characters of base64. */
const newGatewayRequestId = () => randomBytes(11).toString('base64');

/** X-Ray's form: version, epoch seconds in hex, 96 random bits. */
const newTraceId = () => {
  const epochSeconds = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epochSeconds}-${randomBytes(12).toString('hex')}`;
};

const months = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
];

/** API Gateway's `requestContext.time`: `12/Mar/2020:19:03:58 +0000`. */
const formatRequestTime = (time: Date): string => {
  const two = (value: number) => String(value).padStart(2, '0');
  return (
    `${two(time.getUTCDate())}/${months[time.getUTCMonth()]}/` +
    `${time.getUTCFullYear()}:${two(time.getUTCHours())}:` +
    `${two(time.getUTCMinutes())}:${two(time.getUTCSeconds())} +0000`
  );
};

/**
 * One JSON line on stderr. Only the fields given are written: request
 * headers are never logged, since they carry tokens.
 */
const logError = (
  message: string,
  fields: Record<string, string>,
  error: unknown,
) => {
  const detail =
    error instanceof Error
      ? { name: error.name, message: error.message, stack: error.stack }
      : error === undefined || error === null
        ? undefined
        : { message: String(error) };
  const line = { level: 'ERROR', message, ...fields, error: detail };
  process.stderr.write(`${JSON.stringify(line)}\n`);
};
