import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { createApiHandler } from '../../functions/api/app.js';
import { importCatalog } from '../../functions/catalog/import.js';
import { storeRootToken } from '../../functions/catalog/tokens.js';
import { parseVaultExport } from '../../functions/catalog/vault-export.js';
import { createGatewayServer } from '../../infra/local/http-gateway.js';
import { type FreshCatalog, freshCatalog } from './dynamodb.js';

export const FIXTURE = new URL(
  '../../../shared/fixtures/vault-export.json',
  import.meta.url,
);

export const ROOT_TOKEN = 'test-root-token';
export const HMAC_KEY = 'test-hmac-key';

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown> & {
    errors?: string[];
    data?: Record<string, unknown>;
    warnings?: string[] | null;
  };
  text: string;
}

export interface RunningApi {
  url: string;
  catalog: FreshCatalog;
  /** Sends a request as a user would, with the root token unless told. */
  call(
    method: string,
    path: string,
    options?: {
      body?: unknown;
      token?: string | null;
      headers?: Record<string, string>;
    },
  ): Promise<ApiAnswer>;
  /** The reload generation of every mount of a namespace, read over HTTP. */
  generations(namespace?: string): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/**
 * The API as the local stack serves it: the Lambda handler behind the
 * API Gateway adapter, on a real HTTP port, with a real DynamoDB Local table
 * holding the fixture catalog and a root token.
 */
export const startApi = async (
  options: {
    catalog?: FreshCatalog;
    catalogFile?: URL | string;
    /** Where the handler logs; silent unless a test reads the logs. */
    logger?: Logger;
  } = {},
): Promise<RunningApi> => {
  const catalog = options.catalog ?? (await freshCatalog());
  const text = readFileSync(options.catalogFile ?? FIXTURE, 'utf8');
  await importCatalog(catalog, parseVaultExport(text));
  await storeRootToken(catalog, ROOT_TOKEN, HMAC_KEY);
  const handler = createApiHandler({
    catalog,
    tokenHmacKey: HMAC_KEY,
    logger:
      options.logger ??
      new Logger({ serviceName: 'plugin-reload', logLevel: 'SILENT' }),
  });
  const server = createGatewayServer(handler as never);
  await new Promise<void>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const call: RunningApi['call'] = async (method, path, callOptions = {}) => {
    const headers: Record<string, string> = { ...callOptions.headers };
    const token =
      callOptions.token === undefined ? ROOT_TOKEN : callOptions.token;
    if (token !== null) headers['X-Vault-Token'] = token;
    const response = await fetch(`${url}${path}`, {
      method,
      headers,
      body:
        callOptions.body === undefined
          ? undefined
          : typeof callOptions.body === 'string'
            ? callOptions.body
            : JSON.stringify(callOptions.body),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? {} : JSON.parse(text),
      text,
    };
  };

  const generations = async (namespace = '') => {
    const headers: Record<string, string> = namespace
      ? { 'X-Vault-Namespace': namespace }
      : {};
    const result: Record<string, number> = {};
    for (const [table, prefix] of [
      ['mounts', ''],
      ['auth', 'auth/'],
    ] as const) {
      const answer = await call('GET', `/v1/sys/${table}`, { headers });
      for (const [path, entry] of Object.entries(answer.body.data ?? {})) {
        result[`${prefix}${path}`] = (
          entry as { reload_generation: number }
        ).reload_generation;
      }
    }
    return result;
  };

  return {
    url,
    catalog,
    call,
    generations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** The mounts whose generation differs between two readings, and by how much. */
export const movedBetween = (
  before: Record<string, number>,
  after: Record<string, number>,
) =>
  Object.fromEntries(
    Object.keys(after)
      .filter((path) => after[path] !== before[path])
      .map((path) => [path, (after[path] ?? 0) - (before[path] ?? 0)]),
  );
