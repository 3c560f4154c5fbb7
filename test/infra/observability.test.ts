import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ApiContext,
  ApiEvent,
  ApiResult,
} from '../../functions/api/middlewares/api-context.js';
import {
  instrumentCatalog,
  observeRequests,
} from '../../functions/api/observability.js';
import { namespaceKey } from '../../functions/catalog/keys.js';
import { freshCatalog } from '../support/dynamodb.js';

/** Powertools writes EMF to standard output; here it is kept to be read. */
let written: string[] = [];
const realWrite = process.stdout.write;
beforeEach(() => {
  written = [];
  process.stdout.write = ((chunk: string | Uint8Array) => {
    written.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
});
afterEach(() => {
  process.stdout.write = realWrite;
});

const context = {
  awsRequestId: 'lambda-request',
  functionName: 'plugin-reload-test',
  getRemainingTimeInMillis: () => 29_000,
};

describe('request metrics', () => {
  it('carry the request id, even when Powertools publishes early', async () => {
    const metrics = new Metrics({
      namespace: 'PluginReload/test',
      serviceName: 'plugin-reload',
      logger: new Logger({ logLevel: 'SILENT' } as never),
    });
    const catalog = instrumentCatalog(await freshCatalog(), { metrics });
    // More DynamoDB calls in one request than Powertools keeps values of
    // one metric before it publishes them on its own.
    const calls = 150;
    const handler = middy<ApiEvent, ApiResult, Error, ApiContext>()
      .use(observeRequests({ metrics }))
      .handler(async () => {
        for (let call = 0; call < calls; call++) {
          await catalog.client.send(
            new GetCommand({
              TableName: catalog.tableName,
              Key: namespaceKey('team-b/'),
            }),
          );
        }
        return { statusCode: 200 };
      });
    await handler(
      { requestContext: { requestId: 'gateway-request' } } as never,
      context as never,
    );
    const blobs = written.map((line) => JSON.parse(line));
    expect(blobs.length).toBeGreaterThan(1);
    for (const blob of blobs) expect(blob.request_id).toBe('gateway-request');
    const latencies = blobs.flatMap((blob) => blob.DynamoDBLatency ?? []);
    expect(latencies).toHaveLength(calls);
    for (const latency of latencies) expect(latency).toBeGreaterThan(0);
  });
});
