import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createGatewayServer,
  type GatewayOptions,
  type GatewayHandler as Handler,
} from '../../infra/local/http-gateway.js';

const servers: Server[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
});

/** Serves the handler on a free loopback port and returns its base URL. */
const serve = async (handler: Handler, options?: GatewayOptions) => {
  const server = createGatewayServer(handler, options);
  servers.push(server);
  await new Promise<void>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
};

/** A handler that answers 200 and keeps the last event and context. */
const recordingHandler = () => {
  const seen: { event?: APIGatewayProxyEventV2; context?: Context } = {};
  const handler: Handler = async (event, context) => {
    seen.event = event;
    seen.context = context;
    return { statusCode: 200, body: 'ok' };
  };
  return { handler, seen };
};

describe('the local API gateway', () => {
  it('hands a request under /v1/ to the handler as a payload 2.0 event', async () => {
    const { handler, seen } = recordingHandler();
    const base = await serve(handler);

    const response = await fetch(`${base}/v1/sys/plugins/reload/backend`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'curl/8' },
      body: '{"plugin":"kv"}',
    });

    expect(response.status).toBe(200);
    expect(seen.event).toMatchObject({
      version: '2.0',
      routeKey: 'ANY /v1/{proxy+}',
      rawPath: '/v1/sys/plugins/reload/backend',
      rawQueryString: '',
      pathParameters: { proxy: 'sys/plugins/reload/backend' },
      body: '{"plugin":"kv"}',
      isBase64Encoded: false,
      requestContext: {
        routeKey: 'ANY /v1/{proxy+}',
        stage: '$default',
        http: {
          method: 'PUT',
          path: '/v1/sys/plugins/reload/backend',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'curl/8',
        },
      },
    });
    expect(seen.event?.queryStringParameters).toBeUndefined();
    expect(seen.event?.cookies).toBeUndefined();
    expect(seen.event?.requestContext.timeEpoch).toBeGreaterThan(0);
    expect(seen.event?.requestContext.time).toMatch(
      /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/,
    );
  });

  it('gives every request a fresh request id and a Lambda context', async () => {
    const { handler, seen } = recordingHandler();
    const base = await serve(handler);

    const first = await fetch(`${base}/v1/sys/mounts`);
    const firstId = seen.event?.requestContext.requestId;
    const firstAwsId = seen.context?.awsRequestId;
    await fetch(`${base}/v1/sys/mounts`);

    expect(first.headers.get('apigw-requestid')).toBe(firstId);
    expect(seen.event?.requestContext.requestId).not.toBe(firstId);
    expect(seen.context?.awsRequestId).not.toBe(firstAwsId);
    expect(seen.context?.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.context?.functionName).toBeTruthy();
    expect(seen.context?.memoryLimitInMB).toMatch(/^\d+$/);
    const remaining = seen.context?.getRemainingTimeInMillis() ?? 0;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(30_000);
  });

  it('keeps the raw query and joins the values of a repeated key with commas', async () => {
    const { handler, seen } = recordingHandler();
    const base = await serve(handler);

    await fetch(
      `${base}/v1/sys/plugins/reload/backend/status` +
        '?reload_id=a%20b&tag=1&tag=2',
    );

    expect(seen.event?.rawQueryString).toBe('reload_id=a%20b&tag=1&tag=2');
    expect(seen.event?.queryStringParameters).toEqual({
      reload_id: 'a b',
      tag: '1,2',
    });
  });

  it('lower-cases header names and joins a repeated header with commas', async () => {
    const { handler, seen } = recordingHandler();
    const base = await serve(handler);

    // fetch folds repeated headers into one line, so this request is sent
    // with node:http, which writes each value on a line of its own.
    await new Promise<void>((resolve, reject) => {
      const request = httpRequest(`${base}/v1/sys/auth`, {
        headers: {
          'X-Vault-Token': 'root-token',
          'X-Repeated': ['one', 'two'],
          Cookie: 'a=1; b=2',
        },
      });
      request.on('response', (response) => {
        response.resume();
        response.on('end', resolve);
      });
      request.on('error', reject);
      request.end();
    });

    expect(seen.event?.headers).toMatchObject({
      'x-vault-token': 'root-token',
      'x-repeated': 'one,two',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
    });
    expect(seen.event?.headers['X-Vault-Token']).toBeUndefined();
    expect(seen.event?.cookies).toEqual(['a=1', 'b=2']);
    expect(seen.event?.headers.cookie).toBeUndefined();
  });

  it('hands over a body that is not text as base64', async () => {
    const { handler, seen } = recordingHandler();
    const base = await serve(handler);
    const bytes = Buffer.from([0, 1, 2, 250, 255]);

    await fetch(`${base}/v1/sys/upload`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: bytes,
    });

    expect(seen.event?.isBase64Encoded).toBe(true);
    expect(Buffer.from(seen.event?.body ?? '', 'base64')).toEqual(bytes);
  });

  it('hands over a form-encoded body as base64, as API Gateway does', async () => {
    const { handler, seen } = recordingHandler();
    const base = await serve(handler);

    await fetch(`${base}/v1/sys/form`, {
      method: 'POST',
      body: new URLSearchParams({ plugin: 'kv' }),
    });

    expect(seen.event?.isBase64Encoded).toBe(true);
    expect(Buffer.from(seen.event?.body ?? '', 'base64').toString()).toBe(
      'plugin=kv',
    );
  });

  it('leaves the body undefined when the request has none', async () => {
    const { handler, seen } = recordingHandler();
    const base = await serve(handler);

    await fetch(`${base}/v1/sys/mounts`);

    expect(seen.event?.body).toBeUndefined();
    expect(seen.event?.isBase64Encoded).toBe(false);
  });

  it('answers 404 outside /v1/ without calling the handler', async () => {
    const handler = vi.fn<Handler>(async () => ({ statusCode: 200 }));
    const base = await serve(handler);

    const outside = await fetch(`${base}/sys/mounts`);
    const bare = await fetch(`${base}/v1/`);

    expect(outside.status).toBe(404);
    expect(await outside.json()).toEqual({ message: 'Not Found' });
    expect(bare.status).toBe(404);
    expect(handler).not.toHaveBeenCalled();
  });

  it('serves the route under the stage name when the stage is not $default', async () => {
    const { handler, seen } = recordingHandler();
    const base = await serve(handler, { stage: 'dev' });

    const inside = await fetch(`${base}/dev/v1/sys/mounts`);
    const outside = await fetch(`${base}/v1/sys/mounts`);

    expect(inside.status).toBe(200);
    expect(seen.event?.rawPath).toBe('/dev/v1/sys/mounts');
    expect(seen.event?.pathParameters).toEqual({ proxy: 'sys/mounts' });
    expect(seen.event?.requestContext.stage).toBe('dev');
    expect(outside.status).toBe(404);
  });

  it('writes the status, headers, cookies and body of the result back', async () => {
    const base = await serve(async () => ({
      statusCode: 201,
      headers: { 'Content-Type': 'application/json', 'X-Count': 3 },
      cookies: ['a=1; Path=/', 'b=2'],
      body: '{"data":{}}',
    }));

    const response = await fetch(`${base}/v1/sys/mounts`);

    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-count')).toBe('3');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
    expect(await response.text()).toBe('{"data":{}}');
  });

  it('decodes a base64 result body before writing it', async () => {
    const bytes = Buffer.from([9, 8, 7, 0, 255]);
    const base = await serve(async () => ({
      statusCode: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes.toString('base64'),
      isBase64Encoded: true,
    }));

    const response = await fetch(`${base}/v1/sys/download`);

    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
  });

  it('answers 204 with an empty body when the result has no body', async () => {
    const base = await serve(async () => ({ statusCode: 204 }));

    const response = await fetch(`${base}/v1/sys/plugins/backend/reload`, {
      method: 'PUT',
    });

    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  it('answers 200 with the JSON of a result that has no statusCode', async () => {
    // The payload 2.0 result type leaves out plain objects, which API
    // Gateway still accepts; the cast says so.
    const plainObject = { data: { reload_id: 'r1' } } as unknown as string;
    const base = await serve(async () => plainObject);
    const text = await serve(async () => 'hello');

    const objectAnswer = await fetch(`${base}/v1/sys/mounts`);
    const stringAnswer = await fetch(`${text}/v1/sys/mounts`);

    expect(objectAnswer.status).toBe(200);
    expect(objectAnswer.headers.get('content-type')).toBe('application/json');
    expect(await objectAnswer.json()).toEqual({ data: { reload_id: 'r1' } });
    expect(stringAnswer.status).toBe(200);
    expect(await stringAnswer.json()).toBe('hello');
  });

  it('answers 500 when the handler throws, and logs the error without headers', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const base = await serve(async () => {
      throw new Error('the catalog is unreachable');
    });

    const response = await fetch(`${base}/v1/sys/mounts`, {
      headers: { 'X-Vault-Token': 'secret-root-token' },
    });

    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({
      message: 'Internal Server Error',
    });
    const log = written.join('');
    expect(log).toContain('the catalog is unreachable');
    expect(log).not.toContain('secret-root-token');
  });

  it('answers 413 to a body over 10 MB without calling the handler', async () => {
    const handler = vi.fn<Handler>(async () => ({ statusCode: 200 }));
    const base = await serve(handler);

    const response = await fetch(`${base}/v1/sys/mounts`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });

    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      message: 'Request Entity Too Large',
    });
    expect(handler).not.toHaveBeenCalled();
  });

  it('answers 503 when the handler does not answer in time', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const base = await serve(() => new Promise(() => {}), { timeoutMs: 50 });

    const response = await fetch(`${base}/v1/sys/mounts`);

    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ message: 'Service Unavailable' });
  });
});
