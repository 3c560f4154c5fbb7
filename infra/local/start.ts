/**
 * `npm start`: this service's dev mode, as `vault server -dev` is Vault's.
 * It starts DynamoDB Local, creates the catalog table from the definition the
 * CDK stack uses, imports a catalog, stores a root token and serves the API
 * by turning each HTTP request into the API Gateway event that the deployed
 * Lambda handler receives, for that very handler.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type Catalog, createCatalog } from '../../functions/catalog/client.js';
import { importCatalog } from '../../functions/catalog/import.js';
import {
  generateToken,
  storeRootToken,
  type TokenItem,
  TokenStore,
} from '../../functions/catalog/tokens.js';
import {
  CatalogFileError,
  formatProblem,
  parseVaultExport,
} from '../../functions/catalog/vault-export.js';
import { ensureCatalogTable } from './create-table.js';
import {
  DynamoDbLocalStartError,
  JavaMissingError,
  startDynamoDbLocal,
} from './dynamodb-local.js';
import { createGatewayServer } from './http-gateway.js';
import {
  PROJECT_ROOT,
  readLocalStack,
  removeLocalStack,
  writeLocalStack,
} from './stack-file.js';

const USAGE = `Usage: npm start -- [--catalog FILE] [--data DIR]

Runs the plugin reload API on this machine against DynamoDB Local.

Options:
  --catalog FILE  Vault export to load (default: sample-catalog.json)
  --data DIR      keep the catalog in DIR across restarts (default: memory)
  -h, --help      show this help

Environment:
  VAULT_DEV_ROOT_TOKEN_ID   the root token (default: a random one, printed)
  VAULT_DEV_LISTEN_ADDRESS  where to serve the API (default: 127.0.0.1:8200)`;

const TABLE_NAME = 'plugin-reload-catalog';
const REGION = 'us-east-1';

const plural = (count: number, noun: string) =>
  `${count} ${noun}${count === 1 ? '' : 's'}`;

/** Where dev mode remembers which root token it made last. */
const DEV_ROOT_POINTER = { pk: 'DEV', sk: 'ROOT_TOKEN' };

/**
 * Stores this run's root token and, when the catalog was kept from an
 * earlier run, revokes that run's root token: as with a fresh
 * `vault server -dev`, only the token just printed works.
 */
const replaceDevRootToken = async (
  catalog: Catalog,
  token: string,
  hmacKey?: string,
) => {
  const { Item: pointer } = await catalog.client.send(
    new GetCommand({ TableName: catalog.tableName, Key: DEV_ROOT_POINTER }),
  );
  await storeRootToken(catalog, token, hmacKey);
  const store = new TokenStore(catalog, hmacKey);
  const current = store.keyOf(token);
  if (pointer && pointer.tokenPk !== current.pk) {
    const { Item: previous } = await catalog.client.send(
      new GetCommand({
        TableName: catalog.tableName,
        Key: { pk: pointer.tokenPk, sk: current.sk },
      }),
    );
    if (previous) await store.revoke(previous as TokenItem);
  }
  await catalog.client.send(
    new PutCommand({
      TableName: catalog.tableName,
      Item: { ...DEV_ROOT_POINTER, tokenPk: current.pk },
    }),
  );
};

/** A problem a user can fix: printed as one line, exit code 1. */
class StartError extends Error {}

const parseListenAddress = (written: string) => {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(written.trim());
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new StartError(
      `VAULT_DEV_LISTEN_ADDRESS must be HOST:PORT, such as 127.0.0.1:8200 (got "${written}")`,
    );
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
};

/** Fails early, before Java starts, when the API's port is taken. */
const checkPortFree = (host: string, port: number) =>
  new Promise<void>((done, fail) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        new StartError(
          error.code === 'EADDRINUSE'
            ? `${host}:${port} is already in use: stop what listens there or set VAULT_DEV_LISTEN_ADDRESS to another address`
            : `cannot listen on ${host}:${port}: ${error.message}`,
        ),
      ),
    );
    probe.listen(port, host, () => probe.close(() => done()));
  });

/**
 * The key tokens are hashed with. With `--data` it is kept beside the data,
 * so a token stored in one run still works in the next.
 */
const tokenHmacKey = (dataDirectory?: string) => {
  if (!dataDirectory) return randomBytes(32).toString('hex');
  const file = join(dataDirectory, 'token-hmac-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = randomBytes(32).toString('hex');
  mkdirSync(dataDirectory, { recursive: true });
  writeFileSync(file, key, { mode: 0o600 });
  return key;
};

const main = async () => {
  const { values } = parseArgs({
    options: {
      catalog: { type: 'string' },
      data: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const catalogFile = resolve(
    values.catalog ?? join(PROJECT_ROOT, 'sample-catalog.json'),
  );
  if (!existsSync(catalogFile)) {
    throw new StartError(`catalog file not found: ${catalogFile}`);
  }
  // The whole file is checked before anything starts.
  const snapshot = parseVaultExport(readFileSync(catalogFile, 'utf8'));
  const listen = parseListenAddress(
    process.env.VAULT_DEV_LISTEN_ADDRESS ?? '127.0.0.1:8200',
  );
  await checkPortFree(listen.host, listen.port);

  const dataDirectory = values.data ? resolve(values.data) : undefined;
  const dynamodb = await startDynamoDbLocal({ dataDirectory });
  const stopAll: (() => Promise<void>)[] = [() => dynamodb.stop()];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    removeLocalStack();
    for (const step of stopAll.reverse()) await step().catch(() => {});
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  try {
    // The handler finds its table the way it does in Lambda: from the
    // environment, with the SDK's own endpoint variable pointing at
    // DynamoDB Local.
    process.env.AWS_REGION ??= REGION;
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamodb.endpoint;
    process.env.CATALOG_TABLE_NAME = TABLE_NAME;
    process.env.TOKEN_HMAC_KEY = tokenHmacKey(dataDirectory);

    const admin = new DynamoDBClient({ endpoint: dynamodb.endpoint });
    await ensureCatalogTable(admin, TABLE_NAME);
    admin.destroy();
    const catalog = createCatalog({ endpoint: dynamodb.endpoint });
    const imported = await importCatalog(catalog, snapshot);
    const rootToken = process.env.VAULT_DEV_ROOT_TOKEN_ID || generateToken();
    await replaceDevRootToken(catalog, rootToken, process.env.TOKEN_HMAC_KEY);

    const { handler } = await import('../../functions/api/handler.js');
    const server = createGatewayServer(handler as never);
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(listen.port, listen.host, () => done());
    });
    stopAll.push(
      () =>
        new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
    );
    const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
    const apiAddress = `http://${host}:${listen.port}`;
    // A stack already running in this checkout keeps the file, so tools
    // keep finding it; this one is then reached by its address alone.
    const otherStack = readLocalStack();
    if (!otherStack) {
      writeLocalStack({
        endpoint: dynamodb.endpoint,
        tableName: TABLE_NAME,
        region: process.env.AWS_REGION,
        apiAddress,
        pid: process.pid,
      });
    }

    console.log(
      [
        '==> Plugin reload service started in dev mode.',
        '',
        `    API address:     ${apiAddress}`,
        `    Catalog:         ${catalogFile} (${plural(imported.mounts, 'mount')}, ${plural(imported.plugins, 'plugin')}, ${plural(imported.namespaces, 'namespace')})`,
        `    DynamoDB Local:  ${dynamodb.endpoint}, table ${TABLE_NAME}, ${dataDirectory ? `kept in ${dataDirectory}` : 'in memory'}`,
        '',
        'You may need to set the following environment variables:',
        '',
        `    export VAULT_ADDR='${apiAddress}'`,
        `    export VAULT_TOKEN='${rootToken}'`,
        '',
        `Root Token: ${rootToken}`,
        '',
        otherStack
          ? `Another stack (${otherStack.apiAddress}) is the one npm run worker and npm run catalog find in this checkout.`
          : 'A demo worker: npm run worker -- --mount custom-secrets/',
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    await describe(error);
    await stop(1);
  }
};

const describe = async (error: unknown) => {
  if (error instanceof CatalogFileError) {
    console.error(`error: the catalog file is malformed`);
    for (const problem of error.problems) console.error(formatProblem(problem));
  } else if (error instanceof StartError || error instanceof JavaMissingError) {
    console.error(`error: ${error.message}`);
  } else if (error instanceof DynamoDbLocalStartError) {
    // Java's own output stays out of the way unless asked for.
    const [first] = error.message.split('\n');
    console.error(
      `error: ${first?.replace(/:$/, '')}; on a busy machine set DYNAMODB_LOCAL_START_TIMEOUT_MS higher${process.env.DEBUG ? `\n${error.output}` : " (DEBUG=1 shows Java's output)"}`,
    );
  } else {
    console.error(error);
  }
};

main().catch(async (error) => {
  await describe(error);
  process.exit(1);
});
