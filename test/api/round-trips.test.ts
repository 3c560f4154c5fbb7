import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../support/api.js';
import { countRequests } from '../support/request-counter.js';

let api: RunningApi;
let counter: ReturnType<typeof countRequests>;

beforeAll(async () => {
  api = await startApi();
  counter = countRequests(api.catalog);
});
afterAll(() => api.close());

const reload = async (body: unknown) => {
  counter.reset();
  const answer = await api.call('PUT', '/v1/sys/plugins/reload/backend', {
    body,
  });
  expect(answer.status).toBe(200);
  return counter.sent;
};

describe('DynamoDB round trips of a reload', () => {
  it('costs one read to authenticate, one to resolve and one transaction for mounts', async () => {
    const sent = await reload({
      mounts: ['custom-secrets', 'secret/data/app', 'auth/oidc-custom'],
    });
    expect(sent).toEqual([
      'BatchGetItem',
      'BatchGetItem',
      'TransactWriteItems',
    ]);
  });

  it('reads the catalog and the plugin index at once for a plugin', async () => {
    const sent = await reload({ plugin: 'mock-plugin' });
    expect(sent[0]).toBe('BatchGetItem');
    expect(sent.slice(1, 3).sort()).toEqual(['Query', 'Query']);
    expect(sent.slice(3)).toEqual(['TransactWriteItems']);
  });

  it('reads only the token for a request it refuses before resolving', async () => {
    counter.reset();
    const answer = await api.call('PUT', '/v1/sys/plugins/reload/backend', {
      body: { plugin: 'mock-plugin', mounts: ['x'] },
    });
    expect(answer.status).toBe(400);
    expect(counter.sent).toEqual(['BatchGetItem']);
  });
});
