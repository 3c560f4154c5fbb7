import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../support/api.js';

let api: RunningApi;

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

/**
 * Makes DynamoDB answer one operation with a service error, the way a real
 * outage or throttling reaches the SDK, for the length of `action`.
 */
const failing = async <T>(
  operation: string,
  errorName: string,
  action: () => Promise<T>,
): Promise<T> => {
  const name = `fail-${operation}`;
  api.catalog.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === `${operation}Command`) {
        throw Object.assign(new Error(`${errorName} from DynamoDB`), {
          name: errorName,
          $fault: 'server',
          $metadata: { httpStatusCode: 500, attempts: 4 },
        });
      }
      return next(args);
    },
    { step: 'finalizeRequest', name },
  );
  try {
    return await action();
  } finally {
    api.catalog.client.middlewareStack.remove(name);
  }
};

const reload = (body: unknown) =>
  api.call('PUT', '/v1/sys/plugins/reload/backend', { body });

describe('when DynamoDB fails', () => {
  it('answers 503 in the middle of a reload and moves nothing', async () => {
    const before = await api.generations();
    const answer = await failing(
      'TransactWriteItems',
      'InternalServerError',
      () => reload({ mounts: ['custom-secrets', 'auth/oidc-custom'] }),
    );
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({
      errors: ['the catalog is unavailable; nothing was changed, retry later'],
    });
    expect(answer.text).not.toMatch(/InternalServerError|at .*\.ts/);
    expect(await api.generations()).toEqual(before);
  });

  it('answers 429 when DynamoDB throttles', async () => {
    const answer = await failing(
      'BatchGetItem',
      'ProvisionedThroughputExceededException',
      () => reload({ plugin: 'mock-plugin' }),
    );
    expect(answer.status).toBe(429);
    expect(answer.text).not.toMatch(/ProvisionedThroughput/);
  });

  it('answers 503 on a health check that cannot reach the table', async () => {
    const answer = await failing('GetItem', 'InternalServerError', () =>
      api.call('GET', '/v1/sys/health', { token: null }),
    );
    expect(answer.status).toBe(503);
  });
});

describe('a reload of a plugin with many mounts', () => {
  it('raises each of its 300 mounts by exactly one', async () => {
    const { importCatalog } = await import('../../functions/catalog/import.js');
    await importCatalog(api.catalog, {
      namespaces: [],
      plugins: [
        {
          name: 'fleet-plugin',
          type: 'secret',
          version: 'v1.0.0',
          builtin: false,
          sha256: 'ab'.repeat(32),
        },
      ],
      mounts: Array.from({ length: 300 }, (_, index) => ({
        ref: {
          namespace: '',
          kind: 'secret' as const,
          path: `fleet/${index}/`,
        },
        entry: { type: 'fleet-plugin', description: `fleet mount ${index}` },
      })),
    });
    const before = await api.generations();
    const answer = await reload({ plugin: 'fleet-plugin' });
    expect(answer.status).toBe(200);
    const after = await api.generations();
    const moved = Object.keys(after).filter(
      (path) => after[path] !== before[path],
    );
    expect(moved).toHaveLength(300);
    expect(moved.every((path) => after[path] === 1)).toBe(true);
  });
});
