/**
 * Invokes the bundled API handler (the esbuild output the CDK deploys) in
 * this process against DynamoDB Local, one request at a time as Lambda
 * does, and prints latency, CPU time and memory per kind of request. The
 * function's memory size and timeout are chosen from these figures.
 *
 *   npm run bench:handler -- [--requests 200] [--plugin-mounts 2000]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { createCatalog } from '../functions/catalog/client.js';
import { importCatalog } from '../functions/catalog/import.js';
import { storeRootToken } from '../functions/catalog/tokens.js';
import { parseVaultExport } from '../functions/catalog/vault-export.js';
import { ensureCatalogTable } from '../infra/local/create-table.js';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.js';
import {
  BUNDLE_ENTRY_FILE,
  buildApiBundle,
  formatBytes,
} from '../infra/stack/api-bundle.js';
import {
  syntheticMountPath,
  syntheticPluginName,
  syntheticVaultExport,
} from './synthetic-catalog.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    'plugin-mounts': { type: 'string', default: '2000' },
  },
});
const requests = Number(values.requests);
const pluginMounts = Number(values['plugin-mounts']);

const ROOT_TOKEN = `bench-${randomUUID()}`;
const HMAC_KEY = randomUUID();
const TABLE = 'bench-handler';
const FIXTURE = new URL(
  '../../shared/fixtures/vault-export.json',
  import.meta.url,
);

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** A payload 2.0 event of the one route, as API Gateway sends it. */
const eventOf = (
  method: string,
  path: string,
  body?: unknown,
  query = '',
): APIGatewayProxyEventV2 => {
  const requestId = randomUUID();
  const now = new Date();
  return {
    version: '2.0',
    routeKey: 'ANY /v1/{proxy+}',
    rawPath: path,
    rawQueryString: query,
    headers: {
      'x-vault-token': ROOT_TOKEN,
      'content-type': 'application/json',
      host: 'bench.execute-api.us-east-1.amazonaws.com',
    },
    queryStringParameters: query
      ? Object.fromEntries(new URLSearchParams(query))
      : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'bench.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'bench',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'bench',
      },
      requestId,
      routeKey: 'ANY /v1/{proxy+}',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    pathParameters: { proxy: path.replace(/^\/v1\//, '') },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  };
};

const contextOf = (): Context => {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'plugin-reload-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn:
      'arn:aws:lambda:us-east-1:000000000000:function:plugin-reload-bench',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/plugin-reload-bench',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
};

const percentile = (sorted: number[], share: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? 0;

const mebibytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * The handler writes its log line and metrics to standard output; while it
 * runs here they are counted and dropped, so the report stays readable.
 */
let discardedLines = 0;
let discardedBytes = 0;
const realWrite = process.stdout.write.bind(process.stdout);
const quiet = (on: boolean) => {
  process.stdout.write = on
    ? (((chunk: string | Uint8Array) => {
        discardedLines += String(chunk).split('\n').length - 1;
        discardedBytes += Buffer.byteLength(String(chunk));
        return true;
      }) as typeof process.stdout.write)
    : realWrite;
};

interface Scenario {
  name: string;
  times: number;
  event: () => APIGatewayProxyEventV2;
  expect: number;
}

const run = async (handler: Handler, scenario: Scenario) => {
  const latencies: number[] = [];
  const cpu: number[] = [];
  for (let index = 0; index < scenario.times; index++) {
    const event = scenario.event();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const answer = await handler(event, contextOf());
    latencies.push(performance.now() - started);
    const used = process.cpuUsage(cpuBefore);
    cpu.push((used.user + used.system) / 1000);
    if (answer.statusCode !== scenario.expect) {
      quiet(false);
      throw new Error(
        `${scenario.name}: answered ${answer.statusCode}, not ${scenario.expect}: ${answer.body}`,
      );
    }
  }
  latencies.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return {
    name: scenario.name,
    times: scenario.times,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1) ?? 0,
    cpuP50: percentile(cpu, 0.5),
    heap: process.memoryUsage().heapUsed,
  };
};

const dynamodb = await startDynamoDbLocal();
const bundleDirectory = mkdtempSync(join(tmpdir(), 'plugin-reload-bench-'));
try {
  // The handler finds everything as it does in Lambda: from the environment.
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamodb.endpoint;
  process.env.CATALOG_TABLE_NAME = TABLE;
  process.env.TOKEN_HMAC_KEY = HMAC_KEY;
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'plugin-reload-bench';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'PluginReload/bench';

  const admin = new DynamoDBClient({ endpoint: dynamodb.endpoint });
  await ensureCatalogTable(admin, TABLE);
  admin.destroy();
  const catalog = createCatalog({ tableName: TABLE });
  await importCatalog(catalog, parseVaultExport(readFileSync(FIXTURE, 'utf8')));
  await importCatalog(
    catalog,
    parseVaultExport(
      syntheticVaultExport({ plugins: 1, mountsPerPlugin: pluginMounts }),
    ),
  );
  await storeRootToken(catalog, ROOT_TOKEN, HMAC_KEY);

  const report = buildApiBundle(bundleDirectory, { quiet: true });
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  let started = performance.now();
  const { handler } = (await import(
    pathToFileURL(join(bundleDirectory, BUNDLE_ENTRY_FILE)).href
  )) as { handler: Handler };
  const importMs = performance.now() - started;

  quiet(true);
  started = performance.now();
  const first = await handler(eventOf('GET', '/v1/sys/mounts'), contextOf());
  const firstMs = performance.now() - started;
  const reloadIds: string[] = [];
  const results = [];
  const scenarios: Scenario[] = [
    {
      name: 'GET sys/health',
      times: requests,
      event: () => eventOf('GET', '/v1/sys/health'),
      expect: 200,
    },
    {
      name: `GET sys/mounts (+${pluginMounts})`,
      times: requests,
      event: () => eventOf('GET', '/v1/sys/mounts'),
      expect: 200,
    },
    {
      name: 'reload 1 mount',
      times: requests,
      event: () =>
        eventOf('PUT', '/v1/sys/plugins/reload/backend', {
          mounts: ['custom-secrets/'],
        }),
      expect: 200,
    },
    {
      name: 'reload 49 mounts',
      times: Math.max(1, Math.floor(requests / 4)),
      event: () =>
        eventOf('PUT', '/v1/sys/plugins/reload/backend', {
          mounts: Array.from({ length: 49 }, (_, mount) =>
            syntheticMountPath(0, mount),
          ),
        }),
      expect: 200,
    },
    {
      name: `reload plugin (${pluginMounts} mounts)`,
      times: 5,
      event: () =>
        eventOf('PUT', '/v1/sys/plugins/reload/backend', {
          plugin: syntheticPluginName(0),
        }),
      expect: 200,
    },
  ];
  for (const scenario of scenarios) {
    results.push(await run(handler, scenario));
  }
  // The status of a reload that just happened, read as a pipeline would.
  const last = await handler(
    eventOf('PUT', '/v1/sys/plugins/reload/backend', {
      mounts: ['custom-secrets/'],
    }),
    contextOf(),
  );
  reloadIds.push(JSON.parse(last.body ?? '{}').data.reload_id);
  results.push(
    await run(handler, {
      name: 'GET reload status',
      times: requests,
      event: () =>
        eventOf(
          'GET',
          '/v1/sys/plugins/reload/backend/status',
          undefined,
          `reload_id=${reloadIds[0]}`,
        ),
      expect: 200,
    }),
  );
  quiet(false);

  const usage = process.resourceUsage();
  const line = (cells: string[]) =>
    console.log(
      cells.map((cell, i) => cell.padEnd(i === 0 ? 30 : 11)).join(''),
    );
  console.log(
    `bundle: ${formatBytes(report.coldStartBytes)} loaded at cold start, ${formatBytes(report.totalBytes)} in all`,
  );
  console.log(
    `import (init, secrets from the environment): ${importMs.toFixed(0)} ms; first request: ${firstMs.toFixed(0)} ms (${first.statusCode})`,
  );
  line([
    'request',
    'count',
    'p50 ms',
    'p99 ms',
    'max ms',
    'CPU p50 ms',
    'heap',
  ]);
  for (const result of results) {
    line([
      result.name,
      String(result.times),
      result.p50.toFixed(1),
      result.p99.toFixed(1),
      result.max.toFixed(1),
      result.cpuP50.toFixed(1),
      mebibytes(result.heap),
    ]);
  }
  console.log(
    `memory: heap ${mebibytes(heapBefore)} before the handler, ${mebibytes(process.memoryUsage().heapUsed)} after; resident ${mebibytes(rssBefore)} before, peak ${mebibytes(usage.maxRSS * 1024)} (this process includes tsx and the benchmark itself)`,
  );
  const invocations = results.reduce((sum, result) => sum + result.times, 2);
  console.log(
    `log and metric lines written by the handler: ${discardedLines}, ${(discardedBytes / invocations).toFixed(0)} bytes a request on average`,
  );
} finally {
  quiet(false);
  rmSync(bundleDirectory, { recursive: true, force: true });
  await dynamodb.stop();
}
