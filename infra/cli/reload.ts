/**
 * `npm run reload`: reloads plugin backends through the API, as
 * `vault plugin reload` does, and with `--wait` follows the reload status
 * until every live worker of every target mount has reloaded.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../../functions/catalog/duration.js';
import type { MountStatus } from '../../functions/generations/status.js';
import { readLocalStack } from '../local/stack-file.js';

const USAGE = `Usage: npm run reload -- (--plugin NAME | --mount PATH...) [options]

Reloads the mounts that run a plugin, or the mounts named, by raising their
reload generation; with --wait, waits for the workers that serve them.

Options:
  --plugin NAME       every mount of the namespace that runs plugin NAME
  --mount PATH        a mount to reload; repeat it, or separate with commas
  --namespace NS      the namespace (default: $VAULT_NAMESPACE, else root)
  --wait DURATION     wait until every live worker of every target mount has
                      reloaded, at most DURATION: 30s, 2m, 1m30s, 500ms
  -h, --help          show this help

Environment, as the Vault CLI reads it:
  VAULT_ADDR          the API (default: the local stack of this checkout,
                      else http://127.0.0.1:8200)
  VAULT_TOKEN         the token to send (required)
  VAULT_NAMESPACE     the namespace, unless --namespace is given

Exit status: 0 when the reload was accepted (and, with --wait, every live
worker reloaded); 1 when a worker failed, the wait ran out or the API could
not be reached; 2 for a bad command line or a request the API refused.`;

/** Exit codes, as the Vault CLI uses them. */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** How often the status is read while waiting. */
const STATUS_INTERVAL_MS = 500;

/** The most mounts read in one page of the status. */
const STATUS_PAGE = 1000;

/** One HTTP request may take this long before it counts as failed. */
const REQUEST_TIMEOUT_MS = 15_000;

/** A failure to tell the user about in one line, with an exit code. */
class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Reads `--wait` as Vault reads a duration: `1m30s`, `2m`, or seconds. */
const parseWait = (written: string): number => {
  const seconds = parseDuration(written);
  if (seconds === undefined || seconds < 0) {
    throw new CommandError(
      `--wait takes a duration such as 30s, 2m or 1m30s (got "${written}")`,
      EXIT_USAGE,
    );
  }
  return seconds * 1000;
};

interface StatusPage {
  mounts: Record<string, MountStatus>;
  next_after: string | null;
}

interface Api {
  address: string;
  token: string;
  namespace: string;
}

/** Sends one request with Vault's headers; answers its JSON body. */
const call = async (
  api: Api,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> => {
  const headers: Record<string, string> = { 'X-Vault-Token': api.token };
  if (api.namespace) headers['X-Vault-Namespace'] = api.namespace;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${api.address}/v1/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } })
      .cause;
    throw new CommandError(
      `cannot reach ${api.address}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      EXIT_FAILED,
    );
  }
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text === '' ? {} : JSON.parse(text);
  } catch {
    // Not Vault's JSON: reported below with the status code.
  }
  if (response.status >= 400) {
    const errors = Array.isArray(json.errors) ? json.errors.join('; ') : text;
    throw new CommandError(
      `${method} ${path}: ${response.status}: ${errors || response.statusText}`,
      response.status < 500 && response.status !== 429
        ? EXIT_USAGE
        : EXIT_FAILED,
    );
  }
  return { status: response.status, json };
};

/** Every page of the status, read in turn. */
const readStatus = async (api: Api, reloadId: string) => {
  const mounts: MountStatus[] = [];
  let after: string | null = null;
  do {
    const query = new URLSearchParams({
      reload_id: reloadId,
      limit: String(STATUS_PAGE),
    });
    if (after) query.set('after', after);
    const { json } = await call(
      api,
      'GET',
      `sys/plugins/reload/backend/status?${query}`,
    );
    const page = json.data as StatusPage;
    mounts.push(...Object.values(page.mounts));
    after = page.next_after;
  } while (after);
  return mounts;
};

const qualified = (mount: MountStatus) => `${mount.namespace}${mount.path}`;

interface Tally {
  reloaded: number;
  pending: number;
  failed: number;
  stale: number;
  unserved: number;
}

const tally = (mounts: MountStatus[]): Tally => {
  const counts = { reloaded: 0, pending: 0, failed: 0, stale: 0, unserved: 0 };
  for (const mount of mounts) {
    counts.reloaded += mount.reloaded.length;
    counts.pending += mount.pending.length;
    counts.failed += mount.failed.length;
    counts.stale += mount.stale.length;
    if (
      mount.reloaded.length + mount.pending.length + mount.failed.length ===
      0
    ) {
      counts.unserved++;
    }
  }
  return counts;
};

const describeTally = (counts: Tally, mounts: number) => {
  const workers = counts.reloaded + counts.pending + counts.failed;
  const notes = [
    counts.stale ? `${counts.stale} stale` : '',
    counts.unserved ? `${counts.unserved} mounts with no live worker` : '',
  ].filter(Boolean);
  return `${counts.reloaded}/${workers} reloaded, ${counts.pending} pending, ${counts.failed} failed on ${mounts} mounts${notes.length ? ` (${notes.join(', ')})` : ''}`;
};

const sleep = (milliseconds: number) =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Prints what every worker did, and answers the exit code. */
const report = (mounts: MountStatus[], timedOut: boolean): number => {
  for (const mount of mounts) {
    for (const worker of mount.reloaded) {
      console.log(
        `  reloaded  ${qualified(mount)} by ${worker.worker_id} at ${worker.timestamp}`,
      );
    }
    for (const worker of mount.stale) {
      console.log(
        `  stale     ${qualified(mount)} by ${worker.worker_id}: heartbeat ran out at ${worker.heartbeat_expired_at}; not waited for`,
      );
    }
    const live =
      mount.reloaded.length + mount.pending.length + mount.failed.length;
    if (live === 0) {
      console.log(`  no live worker serves ${qualified(mount)}`);
    }
  }
  const failures = mounts.flatMap((mount) =>
    mount.failed.map(
      (worker) =>
        `  failed    ${qualified(mount)} by ${worker.worker_id}: ${worker.error}`,
    ),
  );
  const pending = mounts.flatMap((mount) =>
    mount.pending.map(
      (worker) => `  pending   ${qualified(mount)} by ${worker}`,
    ),
  );
  if (failures.length === 0 && pending.length === 0) {
    console.log('Success! Every live worker of every target mount reloaded.');
    return 0;
  }
  if (timedOut)
    console.error('Error: the wait ran out before every live worker reloaded.');
  else console.error('Error: some workers failed to reload.');
  for (const line of [...failures, ...pending]) console.error(line);
  return EXIT_FAILED;
};

const parseCommandLine = () => {
  try {
    return parseArgs({
      options: {
        plugin: { type: 'string' },
        mount: { type: 'string', multiple: true },
        namespace: { type: 'string' },
        wait: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    throw new CommandError(
      `${(error as Error).message}\n\n${USAGE}`,
      EXIT_USAGE,
    );
  }
};

const main = async (): Promise<number> => {
  const values = parseCommandLine();
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const mounts = (values.mount ?? [])
    .flatMap((written) => written.split(','))
    .map((path) => path.trim())
    .filter(Boolean);
  if (Boolean(values.plugin) === mounts.length > 0) {
    throw new CommandError(
      `give either --plugin NAME or --mount PATH, not both and not neither\n\n${USAGE}`,
      EXIT_USAGE,
    );
  }
  const waitMs = values.wait === undefined ? undefined : parseWait(values.wait);
  const token = process.env.VAULT_TOKEN;
  if (!token) {
    throw new CommandError(
      'VAULT_TOKEN is not set: export the token to send (npm start prints one)',
      EXIT_USAGE,
    );
  }
  const address = (
    process.env.VAULT_ADDR ||
    readLocalStack()?.apiAddress ||
    'http://127.0.0.1:8200'
  ).replace(/\/+$/, '');
  const api: Api = {
    address,
    token,
    namespace: values.namespace ?? process.env.VAULT_NAMESPACE ?? '',
  };

  const target = values.plugin
    ? `plugin ${values.plugin}`
    : `mounts ${mounts.join(', ')}`;
  const { json } = await call(
    api,
    'PUT',
    'sys/plugins/reload/backend',
    values.plugin ? { plugin: values.plugin } : { mounts },
  );
  for (const warning of (json.warnings as string[] | null) ?? []) {
    console.log(`WARNING! ${warning}`);
  }
  const reloadId = (json.data as { reload_id?: string } | undefined)?.reload_id;
  if (!reloadId) {
    console.log(`Nothing to reload for ${target}.`);
    return 0;
  }
  console.log(`Success! Reloading ${target}: reload id ${reloadId}`);
  if (waitMs === undefined) return 0;

  const deadline = Date.now() + waitMs;
  let shown = '';
  for (;;) {
    const status = await readStatus(api, reloadId);
    const counts = tally(status);
    const line = describeTally(counts, status.length);
    if (line !== shown) {
      console.log(line);
      shown = line;
    }
    if (counts.pending === 0) return report(status, false);
    if (Date.now() >= deadline) return report(status, true);
    await sleep(Math.min(STATUS_INTERVAL_MS, deadline - Date.now()));
  }
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof CommandError) {
      console.error(`Error: ${error.message}`);
      process.exitCode = error.exitCode;
    } else {
      console.error(`Error: ${error instanceof Error ? error.message : error}`);
      process.exitCode = EXIT_FAILED;
    }
  },
);
