import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCatalog } from '../../functions/catalog/import.js';
import {
  rootTokenBootstrapKey,
  tokenKey,
} from '../../functions/catalog/keys.js';
import { tokenDigest } from '../../functions/catalog/tokens.js';
import { parseVaultExport } from '../../functions/catalog/vault-export.js';
import {
  createGatewayServer,
  type GatewayHandler,
} from '../../infra/local/http-gateway.js';
import {
  BUNDLE_ENTRY_FILE,
  type BundleReport,
  buildApiBundle,
  COLD_START_LIMIT_BYTES,
} from '../../infra/stack/api-bundle.js';
import { FIXTURE, type RunningApi, startApi } from '../support/api.js';
import { type FreshCatalog, freshCatalog } from '../support/dynamodb.js';
import {
  type BundledHandler,
  startBundledHandler,
} from './support/bundled-handler.js';
import {
  type SecretsStub,
  startSecretsStub,
} from './support/secrets-manager-stub.js';

/** esbuild bundles the whole handler, AWS SDK included. */
const BUILD_TIMEOUT_MS = 120_000;

/** A cold start of its own: a fresh Node process imports the bundle. */
const COLD_START_TIMEOUT_MS = 60_000;

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const METRICS_NAMESPACE = 'PluginReload/test';

const rootToken = `root-${randomUUID()}`;
const hmacKey = `hmac-${randomUUID()}`;
const wrongToken = `wrong-${randomUUID()}`;

let bundleDirectory: string;
let bundleFile: string;
let bundle: BundleReport;
let secrets: SecretsStub;
let catalog: FreshCatalog;
let lambda: BundledHandler;
let gateway: Server;
let gatewayUrl: string;
let local: RunningApi;

/** The environment the stack gives the deployed function, on loopback. */
const lambdaEnvironment = (): Record<string, string> => ({
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_ENDPOINT_URL_DYNAMODB: catalog.endpoint,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
  AWS_LAMBDA_FUNCTION_NAME: 'plugin-reload-test',
  CATALOG_TABLE_NAME: catalog.tableName,
  POWERTOOLS_SERVICE_NAME: 'plugin-reload',
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  TOKEN_HMAC_KEY_SECRET_ARN: secrets.arnOf('token-hmac-key'),
  ROOT_TOKEN_SECRET_ARN: secrets.arnOf('root-token'),
});

beforeAll(async () => {
  bundleDirectory = mkdtempSync(join(tmpdir(), 'plugin-reload-bundle-'));
  bundle = buildApiBundle(bundleDirectory, { quiet: true });
  bundleFile = join(bundleDirectory, BUNDLE_ENTRY_FILE);

  secrets = await startSecretsStub();
  secrets.put('token-hmac-key', hmacKey);
  secrets.put('root-token', rootToken);
  // The catalog as a user loads it; the root token is not stored here:
  // the function's cold start must store it from the secret.
  catalog = await freshCatalog();
  await importCatalog(catalog, parseVaultExport(readFileSync(FIXTURE, 'utf8')));
  lambda = await startBundledHandler(bundleFile, lambdaEnvironment());

  // API Gateway in front of the bundle, as the local stack puts it in
  // front of the source, so both are called the same way.
  gateway = createGatewayServer(((event: APIGatewayProxyEventV2) =>
    lambda.invoke(event)) as unknown as GatewayHandler);
  await new Promise<void>((resolve) =>
    gateway.listen(0, '127.0.0.1', () => resolve()),
  );
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  local = await startApi();
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await local?.close();
  await new Promise<void>((resolve) => {
    if (!gateway) return resolve();
    gateway.closeAllConnections();
    gateway.close(() => resolve());
  });
  await lambda?.stop();
  await secrets?.close();
  if (bundleDirectory)
    rmSync(bundleDirectory, { recursive: true, force: true });
});

interface Call {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** `root` sends each side's root token, `wrong` a token nobody has. */
  token?: 'root' | 'wrong' | 'none';
}

/** One request, answered with what a user sees: status, type and body. */
const send = async (url: string, root: string, call: Call) => {
  const headers: Record<string, string> = { ...call.headers };
  const token =
    call.token === 'none'
      ? undefined
      : call.token === 'wrong'
        ? wrongToken
        : root;
  if (token) headers['X-Vault-Token'] = token;
  const response = await fetch(`${url}${call.path}`, {
    method: call.method,
    headers,
    body: call.body,
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    text,
  };
};

/** Ids and clocks differ between any two runs; everything else may not. */
const comparable = (text: string) =>
  text
    .replace(UUID, '<uuid>')
    .replace(/"request_id":"[^"]*"/g, '"request_id":"<request id>"')
    .replace(/"server_time_utc":\d+/, '"server_time_utc":<time>');

describe('the bundled handler', () => {
  it('loads less than 1 MB of code at cold start', () => {
    expect(bundle.coldStartFiles[0]).toBe(BUNDLE_ENTRY_FILE);
    expect(bundle.coldStartBytes).toBeLessThan(COLD_START_LIMIT_BYTES);
    // What is imported lazily stays out of the cold start.
    expect(bundle.totalBytes).toBeGreaterThan(bundle.coldStartBytes);
  });

  it(
    'answers a sequence of requests exactly as the local stack does',
    async () => {
      const calls: Call[] = [
        { method: 'GET', path: '/v1/sys/health', token: 'none' },
        { method: 'GET', path: '/v1/sys/mounts' },
        { method: 'GET', path: '/v1/sys/auth' },
        { method: 'GET', path: '/v1/sys/mounts/custom-secrets' },
        {
          method: 'PUT',
          path: '/v1/sys/plugins/reload/backend',
          body: '{"mounts":["custom-secrets/","auth/oidc-custom"]}',
        },
        {
          method: 'POST',
          path: '/v1/sys/plugins/backend/reload',
          body: '{"plugin":"mock-plugin"}',
        },
        {
          method: 'PUT',
          path: '/v1/sys/plugins/reload/backend',
          body: '{"plugin":"mock-plugin","mounts":["custom-secrets/"]}',
        },
        {
          method: 'PUT',
          path: '/v1/sys/plugins/reload/backend',
          body: '{"mounts":["no-such-mount/","sys/"]}',
        },
        {
          method: 'PUT',
          path: '/v1/sys/plugins/reload/backend',
          body: '{"mounts": [',
        },
        { method: 'GET', path: '/v1/sys/mounts', token: 'none' },
        { method: 'GET', path: '/v1/sys/mounts', token: 'wrong' },
        { method: 'GET', path: '/v1/sys/no-such-path' },
        { method: 'DELETE', path: '/v1/sys/mounts' },
        {
          method: 'GET',
          path: '/v1/sys/mounts',
          headers: { 'X-Vault-Namespace': 'team-b' },
        },
        { method: 'GET', path: '/v1/team-b/sys/auth' },
        // Generations after the reloads above.
        { method: 'GET', path: '/v1/sys/mounts' },
      ];
      for (const call of calls) {
        const bundled = await send(gatewayUrl, rootToken, call);
        const source = await send(local.url, 'test-root-token', call);
        expect(
          {
            status: bundled.status,
            contentType: bundled.contentType,
            body: comparable(bundled.text),
          },
          `${call.method} ${call.path} ${call.body ?? ''}`,
        ).toEqual({
          status: source.status,
          contentType: source.contentType,
          body: comparable(source.text),
        });
      }
    },
    BUILD_TIMEOUT_MS,
  );

  it('takes an API Gateway HTTP API 2.0 event and reloads a mount', async () => {
    const event = {
      version: '2.0',
      routeKey: 'ANY /v1/{proxy+}',
      rawPath: '/v1/sys/plugins/reload/backend',
      rawQueryString: '',
      headers: {
        'content-length': '29',
        'content-type': 'application/json',
        host: 'abc123.execute-api.us-east-1.amazonaws.com',
        'user-agent': 'Go-http-client/1.1',
        'x-amzn-trace-id': 'Root=1-65f0c0de-0123456789abcdef01234567',
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-port': '443',
        'x-forwarded-proto': 'https',
        'x-vault-request': 'true',
        'x-vault-token': rootToken,
      },
      requestContext: {
        accountId: '123456789012',
        apiId: 'abc123',
        domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
        domainPrefix: 'abc123',
        http: {
          method: 'PUT',
          path: '/v1/sys/plugins/reload/backend',
          protocol: 'HTTP/1.1',
          sourceIp: '203.0.113.7',
          userAgent: 'Go-http-client/1.1',
        },
        requestId: 'Kx1q2hGxoAMEVxw=',
        routeKey: 'ANY /v1/{proxy+}',
        stage: '$default',
        time: '04/Dec/2026:12:00:00 +0000',
        timeEpoch: 1796385600000,
      },
      pathParameters: { proxy: 'sys/plugins/reload/backend' },
      body: '{"mounts":["custom-secrets/"]}',
      isBase64Encoded: false,
    };
    const result = (await lambda.invoke(event)) as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
    };
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toBe('application/json');
    const body = JSON.parse(result.body);
    expect(body.request_id).toBe('Kx1q2hGxoAMEVxw=');
    expect(body.data.reload_id).toMatch(UUID);
  });

  it('stored the root token from its secret at cold start, by digest only', async () => {
    const digest = tokenDigest(rootToken, hmacKey);
    const stored = await catalog.client.send(
      new GetCommand({ TableName: catalog.tableName, Key: tokenKey(digest) }),
    );
    expect(stored.Item?.policies).toEqual(['root']);
    expect(JSON.stringify(stored.Item)).not.toContain(rootToken);
    // Each secret is read once, by the one cold start.
    expect(secrets.reads.get('root-token')).toBe(1);
    expect(secrets.reads.get('token-hmac-key')).toBe(1);
  });

  it('writes only JSON lines with a request id, and never a token', () => {
    const lines = [...lambda.stdout, ...lambda.stderr];
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new Error(`not a JSON line: ${line}`);
      }
      expect(parsed.request_id ?? parsed.function_request_id, line).toEqual(
        expect.any(String),
      );
      for (const secret of [rootToken, wrongToken, hmacKey]) {
        expect(line).not.toContain(secret);
      }
    }
  });

  it('publishes reloads, rejections by reason and DynamoDB latency as metrics', () => {
    const blobs = lambda.stdout
      .map((line) => JSON.parse(line))
      .filter((parsed) => parsed._aws !== undefined);
    const published = blobs.flatMap(
      (blob: {
        _aws: {
          CloudWatchMetrics: {
            Namespace: string;
            Dimensions: string[][];
            Metrics: { Name: string }[];
          }[];
        };
      }) =>
        blob._aws.CloudWatchMetrics.flatMap((directive) =>
          directive.Metrics.map((metric) => ({
            namespace: directive.Namespace,
            name: metric.Name,
            dimensions: directive.Dimensions.flat(),
            blob,
          })),
        ),
    );
    const named = (name: string) => published.filter((m) => m.name === name);
    expect(new Set(published.map((m) => m.namespace))).toEqual(
      new Set([METRICS_NAMESPACE]),
    );
    expect(named('Reloads').length).toBeGreaterThanOrEqual(2);
    expect(
      named('MountsReloaded').some(
        (metric) =>
          (metric.blob as Record<string, unknown>).MountsReloaded === 2,
      ),
    ).toBe(true);
    expect(named('DynamoDBLatency').length).toBeGreaterThan(0);
    const reasons = named('RejectedRequests').map(
      (metric) => (metric.blob as Record<string, unknown>).reason,
    );
    expect(new Set(reasons)).toEqual(
      new Set([
        'InvalidRequestError',
        'MalformedJson',
        'PermissionDeniedError',
        'NotFoundError',
        'UnsupportedOperationError',
      ]),
    );
  });

  it(
    'keeps a revoked root token revoked when a new container starts',
    async () => {
      const digest = tokenDigest(rootToken, hmacKey);
      await catalog.client.send(
        new DeleteCommand({
          TableName: catalog.tableName,
          Key: tokenKey(digest),
        }),
      );
      const marker = await catalog.client.send(
        new GetCommand({
          TableName: catalog.tableName,
          Key: rootTokenBootstrapKey(digest),
        }),
      );
      expect(marker.Item).toBeDefined();

      const next = await startBundledHandler(bundleFile, lambdaEnvironment());
      try {
        const answer = (await next.invoke({
          version: '2.0',
          routeKey: 'ANY /v1/{proxy+}',
          rawPath: '/v1/sys/mounts',
          rawQueryString: '',
          headers: { 'x-vault-token': rootToken },
          requestContext: {
            http: { method: 'GET', path: '/v1/sys/mounts' },
            requestId: 'after-revoke',
          },
          isBase64Encoded: false,
        })) as { statusCode: number; body: string };
        expect(answer.statusCode).toBe(403);
        expect(JSON.parse(answer.body)).toEqual({
          errors: ['permission denied'],
        });
      } finally {
        await next.stop();
      }
    },
    COLD_START_TIMEOUT_MS,
  );

  it(
    'fails its cold start, saying which secret, when a secret is missing',
    async () => {
      await expect(
        startBundledHandler(bundleFile, {
          ...lambdaEnvironment(),
          ROOT_TOKEN_SECRET_ARN: secrets.arnOf('no-such-secret'),
        }),
      ).rejects.toThrow(/cold start failed.*no-such-secret/);
    },
    COLD_START_TIMEOUT_MS,
  );
});
