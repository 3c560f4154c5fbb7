import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_TOKEN, type RunningApi, startApi } from '../support/api.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

let api: RunningApi;
const children: ChildProcess[] = [];

beforeAll(async () => {
  api = await startApi();
});
afterEach(async () => {
  await Promise.all(children.splice(0).map(stopChild));
});
afterAll(() => api.close());

/** The environment of a user who exported VAULT_ADDR and VAULT_TOKEN. */
const userEnvironment = (): NodeJS.ProcessEnv => ({
  ...process.env,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  VAULT_ADDR: api.url,
  VAULT_TOKEN: ROOT_TOKEN,
  // Keeps the commands away from a local stack this checkout may run.
  PLUGIN_RELOAD_STACK_FILE: join(tmpdir(), 'no-such-stack.json'),
});

const stopChild = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npm run reload -- ARGS` to its end. */
const runReload = (args: string[], env = userEnvironment()) =>
  new Promise<Finished>((resolve) => {
    const child = spawn(TSX, ['infra/cli/reload.ts', ...args], {
      cwd: ROOT,
      env,
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });

/** Starts `npm run worker -- ARGS` and waits until it watches its mounts. */
const startWorker = async (args: string[]) => {
  const child = spawn(
    TSX,
    [
      'infra/cli/worker.ts',
      '--table',
      api.catalog.tableName,
      '--interval',
      '100',
      ...args,
    ],
    {
      cwd: ROOT,
      env: {
        ...userEnvironment(),
        AWS_ENDPOINT_URL_DYNAMODB: api.catalog.endpoint,
      },
    },
  );
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the worker did not start: ${output}`)),
      30_000,
    );
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      if (/watching custom-secrets\/ at generation \d+/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
  });
  return child;
};

describe('npm run reload', () => {
  it('exits 0 once every live worker reloaded, and names the worker', async () => {
    await startWorker(['--mount', 'custom-secrets/', '--id', 'cli-happy']);
    const done = await runReload(['--plugin', 'mock-plugin', '--wait', '30s']);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/reload id [0-9a-f-]{36}/);
    expect(done.stdout).toContain('reloaded  custom-secrets/ by cli-happy');
    expect(done.stdout).toContain('Success! Every live worker');
    // The other mount of the plugin has no worker, and says so.
    expect(done.stdout).toContain('no live worker serves team-a/secrets/');
  }, 90_000);

  it('exits 1 and prints the error when a worker fails to reload', async () => {
    await startWorker([
      '--mount',
      'custom-secrets/',
      '--id',
      'cli-failing',
      '--fail',
      'backend would not start',
    ]);
    const done = await runReload([
      '--mount',
      'custom-secrets',
      '--wait',
      '30s',
    ]);
    expect(done.code).toBe(1);
    expect(done.stderr).toContain(
      'failed    custom-secrets/ by cli-failing: backend would not start',
    );
  }, 90_000);

  it('exits 1 listing the pending workers when the wait runs out', async () => {
    await startWorker([
      '--mount',
      'custom-secrets/',
      '--id',
      'cli-slow',
      '--delay',
      '60000',
      '--timeout',
      '60000',
    ]);
    const done = await runReload(['--plugin', 'mock-plugin', '--wait', '2s']);
    expect(done.code).toBe(1);
    expect(done.stderr).toContain('the wait ran out');
    expect(done.stderr).toContain('pending   custom-secrets/ by cli-slow');
  }, 90_000);

  it('exits 0 without waiting when not asked to wait', async () => {
    const done = await runReload(['--mount', 'custom-secrets,pki']);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(
      /Success! Reloading mounts custom-secrets, pki: reload id [0-9a-f-]{36}/,
    );
  }, 60_000);

  it('exits 2 for a bad command line or a request the API refuses', async () => {
    const neither = await runReload([]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('give either --plugin NAME or --mount');

    const badWait = await runReload(['--plugin', 'mock-plugin', '--wait', 'x']);
    expect(badWait.code).toBe(2);
    expect(badWait.stderr).toContain('--wait takes a duration');

    const unknown = await runReload(['--plugin', 'no-such-plugin']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'plugin not found in the catalog: no-such-plugin',
    );

    const { VAULT_TOKEN: _, ...withoutToken } = userEnvironment();
    const tokenless = await runReload(
      ['--plugin', 'mock-plugin'],
      withoutToken,
    );
    expect(tokenless.code).toBe(2);
    expect(tokenless.stderr).toContain('VAULT_TOKEN is not set');
  }, 90_000);
});
