import { Logger } from '@aws-lambda-powertools/logger';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_TOKEN, type RunningApi, startApi } from '../support/api.js';
import {
  createToken,
  inNamespace,
  reloadMounts,
  writePolicy,
} from './support.js';

/** Everything written to stdout and stderr while the tests run. */
const captured: string[] = [];
const originalWrites = {
  stdout: process.stdout.write.bind(process.stdout),
  stderr: process.stderr.write.bind(process.stderr),
};
const capture =
  (stream: 'stdout' | 'stderr') =>
  (chunk: unknown, ...rest: unknown[]): boolean => {
    captured.push(String(chunk));
    return (originalWrites[stream] as (...args: unknown[]) => boolean)(
      chunk,
      ...rest,
    );
  };

let api: RunningApi;
const previousLogEvent = process.env.POWERTOOLS_LOGGER_LOG_EVENT;

beforeAll(async () => {
  process.stdout.write = capture('stdout') as typeof process.stdout.write;
  process.stderr.write = capture('stderr') as typeof process.stderr.write;
  // Even an operator who asks Powertools to log every event must not get
  // the token header in the logs.
  process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
  api = await startApi({
    logger: new Logger({ serviceName: 'plugin-reload', logLevel: 'DEBUG' }),
  });
});

afterAll(async () => {
  await api.close();
  process.stdout.write = originalWrites.stdout;
  process.stderr.write = originalWrites.stderr;
  if (previousLogEvent === undefined) {
    delete process.env.POWERTOOLS_LOGGER_LOG_EVENT;
  } else {
    process.env.POWERTOOLS_LOGGER_LOG_EVENT = previousLogEvent;
  }
});

describe('the logs of a whole run of token operations', () => {
  it('never hold a token value', async () => {
    const tokens = [ROOT_TOKEN];
    const remember = (token: string) => {
      expect(token.length).toBeGreaterThan(8);
      tokens.push(token);
      return token;
    };

    await writePolicy(
      api,
      'deploy',
      `path "sys/plugins/reload/backend" { capabilities = ["update"] }
       path "auth/token/create" { capabilities = ["update"] }`,
    );
    const narrow = remember(
      (await createToken(api, { policies: ['deploy'] })).token,
    );
    const child = remember(
      (await createToken(api, { policies: ['deploy'] }, { as: narrow })).token,
    );
    const chosen = remember(
      (await createToken(api, { id: 'a-chosen-secret-token-value' })).token,
    );
    const once = remember(
      (await createToken(api, { policies: ['deploy'], num_uses: 1 })).token,
    );
    const inTeamB = remember(
      (
        await createToken(
          api,
          { policies: ['deploy'] },
          { namespace: 'team-b' },
        )
      ).token,
    );

    // Allowed, refused and malformed requests with each of them.
    await reloadMounts(api, narrow, ['custom-secrets']);
    await reloadMounts(api, narrow, ['custom-secrets'], 'team-b');
    await reloadMounts(api, child, ['nope']);
    await reloadMounts(api, once, ['custom-secrets']);
    await reloadMounts(api, once, ['custom-secrets']);
    await reloadMounts(api, inTeamB, ['custom-secrets'], 'team-b');
    await api.call('GET', '/v1/auth/token/lookup-self', { token: chosen });
    await api.call('POST', '/v1/auth/token/lookup', { body: { token: child } });
    await api.call('POST', '/v1/auth/token/lookup', {
      body: { token: 'hvs.not-a-real-token-at-all' },
    });
    remember('hvs.not-a-real-token-at-all');
    await api.call('POST', '/v1/auth/token/create', {
      body: { ttl: 'never' },
      token: narrow,
    });
    await api.call('POST', '/v1/auth/token/create', {
      body: '{"broken json',
      token: narrow,
    });
    await api.call('GET', `/v1/auth/token/lookup/${narrow}`, { token: narrow });
    await api.call('POST', `/v1/auth/token/revoke/${child}`, { token: narrow });
    await api.call('GET', '/v1/sys/mounts', {
      token: narrow,
      headers: { Authorization: `Bearer ${narrow}`, ...inNamespace('team-b') },
    });
    await api.call('POST', '/v1/auth/token/revoke', {
      body: { token: narrow },
    });
    await reloadMounts(api, child, ['custom-secrets']);
    await api.call('POST', '/v1/auth/token/revoke-self', { token: chosen });

    // A real client's run too.
    const client = nodeVault({ endpoint: api.url, token: ROOT_TOKEN });
    const created = await client.tokenCreate({ policies: ['deploy'] });
    remember(created.auth.client_token);
    await client.write('sys/plugins/reload/backend', { plugin: 'mock-plugin' });
    await client.tokenLookupSelf().catch(() => undefined);

    const lines = captured.join('').split('\n');
    // The handler did log: one line per request, with the routes it took.
    const requestLines = lines.filter((line) => line.includes('"request"'));
    expect(requestLines.length).toBeGreaterThanOrEqual(25);
    expect(lines.some((line) => line.includes('token-create'))).toBe(true);
    for (const token of tokens) {
      const leaking = lines.filter((line) => line.includes(token));
      expect(leaking, `a log line holds ${token.slice(0, 6)}…`).toEqual([]);
    }
  });
});
