/**
 * `npm run bench:polling`: what polling costs a fleet of plugin workers.
 *
 * Runs N simulated workers in this process, each its own PluginWatcher over
 * its own window of mounts, against a DynamoDB Local of its own. Reloads go
 * through the real API handler behind the local API Gateway adapter, over
 * HTTP. Every DynamoDB request a worker sends is counted for that worker by
 * a middleware on the shared client. At the end it prints the requests per
 * worker per poll, the time from each reload's 200 to its last
 * acknowledgement, and any generation missed or acknowledged twice.
 *
 *   npm run bench:polling -- [--workers 1000] [--mounts-per-worker 10]
 *     [--workers-per-mount 10] [--mounts-per-reload 10] [--interval 30000]
 *     [--reloads 5]
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createApiHandler } from '../functions/api/app.js';
import { BATCH_GET_LIMIT } from '../functions/catalog/batch-get.js';
import { type Catalog, createCatalog } from '../functions/catalog/client.js';
import { importCatalog } from '../functions/catalog/import.js';
import { mapInFlight } from '../functions/catalog/in-flight.js';
import { observationCollectionKey } from '../functions/catalog/keys.js';
import { queryAll } from '../functions/catalog/query.js';
import { storeRootToken } from '../functions/catalog/tokens.js';
import { parseVaultExport } from '../functions/catalog/vault-export.js';
import type { ObservationItem } from '../functions/generations/observation.js';
import { PluginWatcher } from '../functions/worker/watcher.js';
import { ensureCatalogTable } from '../infra/local/create-table.js';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.js';
import { createGatewayServer } from '../infra/local/http-gateway.js';
import {
  syntheticMountPath,
  syntheticVaultExport,
} from './synthetic-catalog.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1000' },
    'mounts-per-worker': { type: 'string', default: '10' },
    'workers-per-mount': { type: 'string', default: '10' },
    'mounts-per-plugin': { type: 'string', default: '100' },
    'mounts-per-reload': { type: 'string', default: '10' },
    interval: { type: 'string', default: '30000' },
    reloads: { type: 'string', default: '5' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'Usage: npm run bench:polling -- [--workers N] [--mounts-per-worker N] [--workers-per-mount N] [--mounts-per-plugin N] [--mounts-per-reload N] [--interval MS] [--reloads N]',
  );
  process.exit(0);
}
const WORKERS = Number(values.workers);
const MOUNTS_PER_WORKER = Number(values['mounts-per-worker']);
const WORKERS_PER_MOUNT = Number(values['workers-per-mount']);
const MOUNTS_PER_PLUGIN = Number(values['mounts-per-plugin']);
const MOUNTS_PER_RELOAD = Number(values['mounts-per-reload']);
const INTERVAL_MS = Number(values.interval);
const RELOADS = Number(values.reloads);

// Each worker serves a window of consecutive mounts; the windows of
// WORKERS_PER_MOUNT workers cover each mount.
const CATALOG_MOUNTS = Math.ceil(
  (WORKERS * MOUNTS_PER_WORKER) / WORKERS_PER_MOUNT,
);
const PLUGINS = Math.ceil(CATALOG_MOUNTS / MOUNTS_PER_PLUGIN);
const TABLE = 'bench-polling';
const ROOT_TOKEN = `bench-${randomUUID()}`;
const HMAC_KEY = randomUUID();

/** DynamoDB Local takes any credentials; these keep the SDK from looking. */
process.env.AWS_ACCESS_KEY_ID = 'local';
process.env.AWS_SECRET_ACCESS_KEY = 'local';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

/** What one simulated worker sent and did. */
interface WorkerTally {
  requests: Map<string, number>;
  polls: number;
  /** `mount\ngeneration` → how often the callback ran for it. */
  callbacks: Map<string, number>;
  /** mount → the generations acknowledged (written), with when. */
  acknowledged: Map<string, { generation: number; at: number }[]>;
  refused: number;
  failures: number;
}

const newTally = (): WorkerTally => ({
  requests: new Map(),
  polls: 0,
  callbacks: new Map(),
  acknowledged: new Map(),
  refused: 0,
  failures: 0,
});

const attribution = new AsyncLocalStorage<WorkerTally>();
/** How often each distinct failure message was seen. */
const failureMessages = new Map<string, number>();
let unattributed = 0;

/**
 * Counts each DynamoDB request attempt (retries included) for the worker
 * whose asynchronous context sent it.
 */
const countRequestsPerWorker = (catalog: Catalog) => {
  catalog.client.middlewareStack.add(
    (next, context) => async (args) => {
      const tally = attribution.getStore();
      if (tally) {
        const name = context.commandName ?? 'unknown';
        tally.requests.set(name, (tally.requests.get(name) ?? 0) + 1);
      } else {
        unattributed++;
      }
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countRequestsPerWorker' },
  );
};

const percentile = (sorted: number[], fraction: number) =>
  sorted[
    Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)
  ] ?? Number.NaN;

const seconds = (milliseconds: number) =>
  `${(milliseconds / 1000).toFixed(2)} s`;

const sleep = (milliseconds: number) =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));

/** The mounts of worker `index`: a window that wraps around the catalog. */
const windowOf = (index: number) => {
  const first = (index * MOUNTS_PER_WORKER) % CATALOG_MOUNTS;
  return Array.from(
    { length: MOUNTS_PER_WORKER },
    (_, offset) => (first + offset) % CATALOG_MOUNTS,
  );
};

const mountPathOf = (mount: number) =>
  syntheticMountPath(
    Math.floor(mount / MOUNTS_PER_PLUGIN),
    mount % MOUNTS_PER_PLUGIN,
  );

const main = async () => {
  const setupStarted = Date.now();
  const dynamodb = await startDynamoDbLocal();
  const admin = new DynamoDBClient({ endpoint: dynamodb.endpoint });
  await ensureCatalogTable(admin, TABLE);
  admin.destroy();
  const apiCatalog = createCatalog({
    tableName: TABLE,
    endpoint: dynamodb.endpoint,
  });
  await importCatalog(
    apiCatalog,
    parseVaultExport(
      syntheticVaultExport({
        plugins: PLUGINS,
        mountsPerPlugin: MOUNTS_PER_PLUGIN,
      }),
    ),
  );
  await storeRootToken(apiCatalog, ROOT_TOKEN, HMAC_KEY);
  const handler = createApiHandler({
    catalog: apiCatalog,
    tokenHmacKey: HMAC_KEY,
    logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
  });
  const server = createGatewayServer(handler as never);
  await new Promise<void>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // All workers share one client; each request is still counted for its
  // worker. A thousand worker processes would have a thousand connection
  // pools, so this one is wider than a single worker's, and a request may
  // wait its turn for a socket without counting as failed.
  const workerCatalog: Catalog = {
    tableName: TABLE,
    client: DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: dynamodb.endpoint,
        maxAttempts: 4,
        requestHandler: {
          httpAgent: { keepAlive: true, maxSockets: 64 },
          socketAcquisitionWarningTimeout: 60_000,
        },
      }),
      { marshallOptions: { removeUndefinedValues: true } },
    ),
  };
  countRequestsPerWorker(workerCatalog);

  console.log(
    [
      `Polling benchmark: ${WORKERS} workers, ${MOUNTS_PER_WORKER} mounts each, poll interval ${INTERVAL_MS} ms ±20%`,
      `  catalog: ${CATALOG_MOUNTS} mounts of ${PLUGINS} plugins (${MOUNTS_PER_PLUGIN} each), ${WORKERS_PER_MOUNT} workers per mount`,
      `  DynamoDB Local ${dynamodb.endpoint}, ${availableParallelism()} CPU cores, set up in ${seconds(Date.now() - setupStarted)}`,
    ].join('\n'),
  );

  const tallies: WorkerTally[] = [];
  const stop = new AbortController();
  // Every watcher waits on this one signal between its polls.
  setMaxListeners(WORKERS * 4, stop.signal);
  const runStarted = Date.now();
  let started = 0;
  const runs: Promise<void>[] = [];
  for (let index = 0; index < WORKERS; index++) {
    const tally = newTally();
    tallies.push(tally);
    const watcher = new PluginWatcher({
      catalog: workerCatalog,
      workerId: `bench-worker-${index}`,
      mounts: windowOf(index).map(mountPathOf),
      intervalMs: INTERVAL_MS,
      heartbeatTtlMs: INTERVAL_MS * 6,
      onReload: ({ path, generation }) => {
        const key = `${path}\n${generation}`;
        tally.callbacks.set(key, (tally.callbacks.get(key) ?? 0) + 1);
      },
      onEvent: (event) => {
        switch (event.type) {
          case 'polled':
            tally.polls++;
            break;
          case 'started':
            started++;
            break;
          case 'reloaded': {
            if (!event.acknowledged) {
              tally.refused++;
              break;
            }
            const acks = tally.acknowledged.get(event.path) ?? [];
            acks.push({ generation: event.generation, at: Date.now() });
            tally.acknowledged.set(event.path, acks);
            break;
          }
          case 'failed':
          case 'acknowledge-failed':
          case 'poll-failed':
            tally.failures++;
            failureMessages.set(
              event.error,
              (failureMessages.get(event.error) ?? 0) + 1,
            );
            break;
        }
      },
    });
    // Workers start spread over one interval, as a fleet rolls out.
    const delay = Math.random() * INTERVAL_MS;
    runs.push(
      attribution.run(tally, async () => {
        await sleep(delay);
        await watcher.run(stop.signal);
      }),
    );
  }

  const expectedStarts = WORKERS * MOUNTS_PER_WORKER;
  const startDeadline = Date.now() + INTERVAL_MS * 10;
  while (started < expectedStarts && Date.now() < startDeadline) {
    await sleep(250);
  }
  console.log(
    `  ${started} of ${expectedStarts} worker-mount starts recorded in ${seconds(Date.now() - runStarted)}; firing ${RELOADS} reloads of ${MOUNTS_PER_RELOAD} mounts, two intervals apart`,
  );

  // Each reload moves a run of consecutive mounts, as a reload by mounts,
  // one generation each; runs follow each other through the catalog.
  const generations = new Map<string, number>();
  const fired: { at: number; targets: Map<string, number> }[] = [];
  for (let index = 0; index < RELOADS; index++) {
    const paths = Array.from({ length: MOUNTS_PER_RELOAD }, (_, offset) =>
      mountPathOf((index * MOUNTS_PER_RELOAD + offset) % CATALOG_MOUNTS),
    );
    const answer = await fetch(`${apiUrl}/v1/sys/plugins/reload/backend`, {
      method: 'PUT',
      headers: { 'X-Vault-Token': ROOT_TOKEN },
      body: JSON.stringify({ mounts: paths }),
    });
    const at = Date.now();
    if (answer.status !== 200) {
      throw new Error(
        `reload answered ${answer.status}: ${await answer.text()}`,
      );
    }
    const targets = new Map<string, number>();
    for (const path of paths) {
      const generation = (generations.get(path) ?? 0) + 1;
      generations.set(path, generation);
      targets.set(path, generation);
    }
    fired.push({ at, targets });
    if (index < RELOADS - 1) await sleep(INTERVAL_MS * 2);
  }

  // The pairs each reload has to reach: every worker serving a target.
  const servedBy = new Map<string, number[]>();
  tallies.forEach((_, index) => {
    for (const mount of windowOf(index)) {
      const path = mountPathOf(mount);
      servedBy.set(path, [...(servedBy.get(path) ?? []), index]);
    }
  });
  const reachedAt = (worker: number, path: string, generation: number) =>
    tallies[worker]?.acknowledged
      .get(path)
      ?.find((ack) => ack.generation >= generation)?.at;
  const outstanding = () =>
    fired.reduce((count, reload) => {
      for (const [path, generation] of reload.targets) {
        for (const worker of servedBy.get(path) ?? []) {
          if (reachedAt(worker, path, generation) === undefined) count++;
        }
      }
      return count;
    }, 0);
  const drainDeadline = Date.now() + INTERVAL_MS * 6;
  while (outstanding() > 0 && Date.now() < drainDeadline) await sleep(250);
  stop.abort();
  await Promise.all(runs);
  const runEnded = Date.now();

  // What was reached, per reload, as the watchers reported it.
  const latencies: number[] = [];
  let missed = 0;
  let pairs = 0;
  for (const reload of fired) {
    let last = reload.at;
    for (const [path, generation] of reload.targets) {
      for (const worker of servedBy.get(path) ?? []) {
        pairs++;
        const at = reachedAt(worker, path, generation);
        if (at === undefined) missed++;
        else last = Math.max(last, at);
      }
    }
    latencies.push(last - reload.at);
  }
  latencies.sort((a, b) => a - b);

  // And as DynamoDB holds it: every serving worker's observation of every
  // reloaded mount must stand at the mount's last generation.
  const reloadedPaths = [...generations.keys()];
  let missedInTable = 0;
  await mapInFlight(reloadedPaths, 16, async (path) => {
    const mount = { namespace: '', kind: 'secret' as const, path };
    const items = await queryAll<ObservationItem>(apiCatalog, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': observationCollectionKey(mount) },
    });
    const byWorker = new Map(items.map((item) => [item.workerId, item]));
    for (const worker of servedBy.get(path) ?? []) {
      const item = byWorker.get(`bench-worker-${worker}`);
      if ((item?.reloadedGeneration ?? -1) < (generations.get(path) ?? 0)) {
        missedInTable++;
      }
    }
  });

  let doubleCallbacks = 0;
  let doubleAcks = 0;
  let refused = 0;
  let failures = 0;
  const perPoll: number[] = [];
  const other = new Map<string, number>();
  for (const tally of tallies) {
    for (const count of tally.callbacks.values()) {
      if (count > 1) doubleCallbacks += count - 1;
    }
    for (const acks of tally.acknowledged.values()) {
      const seen = new Set<number>();
      for (const ack of acks) {
        if (seen.has(ack.generation)) doubleAcks++;
        seen.add(ack.generation);
      }
    }
    refused += tally.refused;
    failures += tally.failures;
    const reads = tally.requests.get('BatchGetItemCommand') ?? 0;
    if (tally.polls > 0) perPoll.push(reads / tally.polls);
    for (const [name, count] of tally.requests) {
      if (name !== 'BatchGetItemCommand') {
        other.set(name, (other.get(name) ?? 0) + count);
      }
    }
  }
  perPoll.sort((a, b) => a - b);
  const polls = tallies.reduce((sum, tally) => sum + tally.polls, 0);
  const expected = Math.ceil(MOUNTS_PER_WORKER / BATCH_GET_LIMIT);
  const runMinutes = (runEnded - runStarted) / 60_000;
  const otherLine = [...other]
    .map(
      ([name, count]) =>
        `${name.replace(/Command$/, '')} ${(count / WORKERS / runMinutes).toFixed(2)}`,
    )
    .join(', ');

  console.log(
    [
      '',
      `workers                          ${WORKERS}, ${MOUNTS_PER_WORKER} mounts each, interval ${INTERVAL_MS} ms`,
      `polls                            ${polls} (${(polls / WORKERS).toFixed(1)} per worker)`,
      `BatchGetItem requests per poll   median ${percentile(perPoll, 0.5).toFixed(2)} per worker (min ${(perPoll[0] ?? 0).toFixed(2)}, p99 ${percentile(perPoll, 0.99).toFixed(2)}, max ${(perPoll.at(-1) ?? 0).toFixed(2)}, retried attempts included); target ceil(${MOUNTS_PER_WORKER}/100) = ${expected}`,
      `other requests per worker-minute ${otherLine} (Update: starts and acknowledgements; Put: heartbeats)`,
      `run                              ${seconds(runEnded - runStarted)} of polling`,
      `requests sent outside a worker   ${unattributed}`,
      `reloads                          ${fired.length}, ${MOUNTS_PER_RELOAD} mounts each, ${pairs} worker-mount pairs to reach`,
      `200 to last acknowledgement      median ${seconds(percentile(latencies, 0.5))}, p99 ${seconds(percentile(latencies, 0.99))} (min ${seconds(latencies[0] ?? 0)}, max ${seconds(latencies.at(-1) ?? 0)})`,
      `missed generations               ${missed} as the workers saw it, ${missedInTable} in DynamoDB's observations`,
      `double acknowledgements          ${doubleAcks} (callbacks run twice for one generation: ${doubleCallbacks}; acknowledgements refused as already made: ${refused})`,
      `failed polls or reloads          ${failures}`,
      ...[...failureMessages]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([message, count]) => `  ${count} x ${message}`),
    ].join('\n'),
  );

  await new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  await dynamodb.stop();
  const ok =
    missed === 0 &&
    missedInTable === 0 &&
    doubleAcks === 0 &&
    doubleCallbacks === 0 &&
    // Retries of failed requests may lift a few workers above it.
    percentile(perPoll, 0.5) === expected;
  process.exit(ok ? 0 : 1);
};

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
