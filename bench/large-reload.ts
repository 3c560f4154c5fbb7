/**
 * Reloads one plugin used by many mounts, through the real handler against
 * DynamoDB Local, and prints how long it took, what it cost in DynamoDB
 * requests and whether every mount moved by exactly one.
 *
 *   npm run bench:large-reload -- [--mounts 50000]
 */
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createApiHandler } from '../functions/api/app.js';
import { createCatalog } from '../functions/catalog/client.js';
import { importCatalog } from '../functions/catalog/import.js';
import { listMounts } from '../functions/catalog/mounts.js';
import { storeRootToken } from '../functions/catalog/tokens.js';
import { ensureCatalogTable } from '../infra/local/create-table.js';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.js';

const { values } = parseArgs({
  options: { mounts: { type: 'string', default: '50000' } },
});
const mountCount = Number(values.mounts);

process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';

const dynamodb = await startDynamoDbLocal();
try {
  const tableName = 'bench-large-reload';
  const admin = new DynamoDBClient({ endpoint: dynamodb.endpoint });
  await ensureCatalogTable(admin, tableName);
  admin.destroy();
  const catalog = createCatalog({ tableName, endpoint: dynamodb.endpoint });

  let started = performance.now();
  await importCatalog(
    catalog,
    {
      namespaces: [],
      plugins: [
        { name: 'fleet-plugin', type: 'secret', version: '', builtin: false },
      ],
      mounts: Array.from({ length: mountCount }, (_, index) => ({
        ref: {
          namespace: '',
          kind: 'secret' as const,
          path: `fleet/${index}/`,
        },
        entry: { type: 'fleet-plugin', description: '' },
      })),
    },
    { concurrency: 64 },
  );
  console.log(
    `imported ${mountCount} mounts in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  await storeRootToken(catalog, 'bench-token');

  const sent = new Map<string, number>();
  catalog.client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName);
      sent.set(name, (sent.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countRequests' },
  );
  const handler = createApiHandler({
    catalog,
    logger: new Logger({
      logLevel: process.env.BENCH_LOG_LEVEL ?? 'SILENT',
    } as never),
  });
  const event = {
    version: '2.0',
    routeKey: 'ANY /v1/{proxy+}',
    rawPath: '/v1/sys/plugins/reload/backend',
    rawQueryString: '',
    headers: {
      'x-vault-token': 'bench-token',
      'content-type': 'application/json',
    },
    requestContext: {
      http: { method: 'PUT', path: '/v1/sys/plugins/reload/backend' },
      requestId: 'bench',
    },
    body: JSON.stringify({ plugin: 'fleet-plugin' }),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
  const memoryBefore = process.memoryUsage().rss;
  started = performance.now();
  const answer = await handler(
    event as never,
    {
      awsRequestId: 'bench',
      functionName: 'bench',
      getRemainingTimeInMillis: () => 30_000,
    } as never,
  );
  const seconds = (performance.now() - started) / 1000;
  const mounts = await listMounts(catalog, '', 'secret');
  const wrong = mounts.filter((mount) => mount.generation !== 1).length;
  console.log(
    `reload answered ${answer.statusCode} in ${seconds.toFixed(1)} s`,
  );
  console.log(
    `DynamoDB requests: ${[...sent].map(([name, count]) => `${name.replace(/Command$/, '')} ${count}`).join(', ')}`,
  );
  console.log(
    `mounts at generation 1: ${mounts.length - wrong} of ${mountCount}; wrong: ${wrong}`,
  );
  console.log(
    `resident memory grew by ${((process.memoryUsage().rss - memoryBefore) / 2 ** 20).toFixed(0)} MB`,
  );
  process.exitCode = answer.statusCode === 200 && wrong === 0 ? 0 : 1;
} finally {
  await dynamodb.stop();
}
