/**
 * `npm run worker`: a demo plugin worker. It watches mounts with the
 * watcher library, prints each reload it sees and acknowledges it, as a real
 * worker would after restarting its plugin backend.
 */
import { hostname } from 'node:os';
import { setTimeout } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createCatalog } from '../../functions/catalog/client.js';
import { PluginWatcher } from '../../functions/worker/watcher.js';
import { readLocalStack } from '../local/stack-file.js';

const USAGE = `Usage: npm run worker -- --mount PATH [--mount PATH...] [options]

Watches the reload generations of the given mounts and prints every reload.

Options:
  --mount PATH       a mount to serve: custom-secrets/, auth/oidc-custom/
  --namespace NS     the namespace of the mounts (default: root)
  --id ID            this worker's id (default: demo-HOSTNAME-PID)
  --interval MS      time between polls (default: 1000)
  --fail MESSAGE     make every reload fail with MESSAGE
  --delay MS         let each reload take MS milliseconds (default: 0)
  --timeout MS       a reload running longer fails (default: 30000)
  --heartbeat-ttl MS how long the worker stays live after each heartbeat
                     (default: 30000, or six intervals if longer)
  --table NAME       catalog table (default: $CATALOG_TABLE_NAME)
  -h, --help         show this help

Beside a running \`npm start\` in this checkout, it finds the local stack by
itself; otherwise it reaches DynamoDB as the AWS SDK does (AWS_REGION,
credentials, AWS_ENDPOINT_URL_DYNAMODB).`;

/** A whole number of milliseconds from the command line, if given. */
const milliseconds = (written: string | undefined, flag: string) => {
  if (written === undefined) return undefined;
  const value = Number(written);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`error: ${flag} takes a whole number of milliseconds`);
    process.exit(2);
  }
  return value;
};

const main = async () => {
  const { values } = parseArgs({
    options: {
      mount: { type: 'string', multiple: true },
      namespace: { type: 'string' },
      id: { type: 'string' },
      interval: { type: 'string' },
      fail: { type: 'string' },
      delay: { type: 'string' },
      timeout: { type: 'string' },
      'heartbeat-ttl': { type: 'string' },
      table: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.mount?.length) {
    console.error('error: give at least one --mount PATH\n');
    console.error(USAGE);
    process.exit(2);
  }
  const local =
    values.table || process.env.CATALOG_TABLE_NAME
      ? undefined
      : readLocalStack();
  if (local) {
    process.env.AWS_REGION ??= local.region;
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  }
  const tableName =
    values.table ?? process.env.CATALOG_TABLE_NAME ?? local?.tableName;
  if (!tableName) {
    console.error(
      'error: no local stack is running in this checkout (start one with npm start) and no --table or CATALOG_TABLE_NAME is set',
    );
    process.exit(1);
  }
  const interval = milliseconds(values.interval, '--interval');
  const delay = milliseconds(values.delay, '--delay') ?? 0;
  const catalog = createCatalog({ tableName, endpoint: local?.endpoint });
  const workerId = values.id ?? `demo-${hostname()}-${process.pid}`;
  const failWith = values.fail;
  const watcher = new PluginWatcher({
    catalog,
    workerId,
    namespace: values.namespace,
    mounts: values.mount,
    intervalMs: interval,
    callbackTimeoutMs: milliseconds(values.timeout, '--timeout'),
    heartbeatTtlMs: milliseconds(values['heartbeat-ttl'], '--heartbeat-ttl'),
    onReload: async (event) => {
      console.log(
        `reloading ${event.path} (plugin ${event.pluginName}${event.pluginVersion ? ` ${event.pluginVersion}` : ''}): generation ${event.previousGeneration} -> ${event.generation}, reload ${event.reloadId ?? 'unknown'}`,
      );
      // Stands for the time a real backend takes to restart; it gives up
      // when the watcher stops or the reload times out.
      if (delay > 0)
        await setTimeout(delay, undefined, { signal: event.signal });
      if (failWith) throw new Error(failWith);
    },
    onEvent: (event) => {
      switch (event.type) {
        case 'started':
          console.log(
            `watching ${event.path} at generation ${event.generation}`,
          );
          break;
        case 'reloaded':
          console.log(
            `acknowledged ${event.path} at generation ${event.generation}`,
          );
          break;
        case 'failed':
          console.log(
            `reload of ${event.path} at generation ${event.generation} failed: ${event.error}`,
          );
          break;
        case 'missing':
          console.log(`no mount at ${event.path} yet`);
          break;
        case 'waiting':
          console.log(
            `waiting for the earlier reload of ${event.path} to end before generation ${event.generation}`,
          );
          break;
        case 'acknowledge-failed':
          console.log(
            `could not acknowledge ${event.path} at generation ${event.generation} (${event.error}); retrying`,
          );
          break;
        case 'poll-failed':
          console.log(
            `poll failed (${event.error}); retrying in ${event.retryInMs} ms`,
          );
          break;
      }
    },
  });
  console.log(
    `worker ${workerId} serving ${watcher.mounts.join(', ')}${values.namespace ? ` in namespace ${values.namespace}` : ''}; Ctrl-C to stop`,
  );
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  await watcher.run(stop.signal);
  console.log(`worker ${workerId} stopped`);
};

main().catch((error) => {
  console.error(`error: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
