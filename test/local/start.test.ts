import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const FIXTURE = join(ROOT, '../shared/fixtures/vault-export.json');

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

interface Running {
  child: ChildProcess;
  output: () => string;
  waitFor: (pattern: RegExp, ms?: number) => Promise<string>;
  exited: Promise<number | null>;
  /** Signals the command and everything it started. */
  stopGroup: (signal: NodeJS.Signals) => void;
}

/** Runs one of the project's commands as a user would, output captured. */
const run = (script: string, args: string[], env: Record<string, string>) => {
  const child = spawn(process.execPath, [TSX, script, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so the test can stop it and all it started.
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const waitFor = async (pattern: RegExp, ms = 150_000) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const match = pattern.exec(output);
      if (match) return match[0];
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no ${pattern} in output:\n${output}`);
  };
  const stopGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  return {
    child,
    output: () => output,
    waitFor,
    exited,
    stopGroup,
  } satisfies Running;
};

describe('npm start, the local stack', () => {
  const stackFile = join(mkdtempSync(join(tmpdir(), 'stack-')), 'stack.json');
  let port = 0;
  let stack: Running;
  let worker: Running | undefined;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${port}/v1/${path}`, {
      ...init,
      headers: { 'X-Vault-Token': 'root', ...init.headers },
    });

  beforeAll(async () => {
    port = await freePort();
    stack = run('infra/local/start.ts', ['--catalog', FIXTURE], {
      VAULT_DEV_ROOT_TOKEN_ID: 'root',
      VAULT_DEV_LISTEN_ADDRESS: `127.0.0.1:${port}`,
      PLUGIN_RELOAD_STACK_FILE: stackFile,
    });
    await stack.waitFor(/Root Token: root/);
  }, 180_000);

  afterAll(async () => {
    worker?.stopGroup('SIGKILL');
    stack.stopGroup('SIGKILL');
  });

  it('serves the given catalog with the given token at the given address', async () => {
    expect(stack.output()).toContain(`http://127.0.0.1:${port}`);
    const mounts = await api('sys/mounts');
    expect(mounts.status).toBe(200);
    const body = (await mounts.json()) as { data: Record<string, unknown> };
    expect(Object.keys(body.data)).toContain('custom-secrets/');
    const anonymous = await fetch(`http://127.0.0.1:${port}/v1/sys/mounts`);
    expect(anonymous.status).toBe(403);
  });

  it('answers the older reload path with 204 and moves the plugin mounts', async () => {
    const answer = await api('sys/plugins/backend/reload', {
      method: 'PUT',
      body: '{"plugin":"mock-plugin"}',
    });
    expect(answer.status).toBe(204);
    expect(await answer.text()).toBe('');
    const mount = await api('sys/mounts/custom-secrets');
    const body = (await mount.json()) as {
      data: { reload_generation: number };
    };
    expect(body.data.reload_generation).toBe(1);
  });

  it('has a demo worker that finds the stack, reloads and shows in the status', async () => {
    worker = run(
      'infra/cli/worker.ts',
      ['--mount', 'custom-secrets/', '--id', 'demo-e2e', '--interval', '200'],
      { PLUGIN_RELOAD_STACK_FILE: stackFile },
    );
    await worker.waitFor(/watching custom-secrets\/ at generation 1/);
    const answer = await api('sys/plugins/reload/backend', {
      method: 'PUT',
      body: '{"mounts":["custom-secrets"]}',
    });
    const { data } = (await answer.json()) as { data: { reload_id: string } };
    await worker.waitFor(/acknowledged custom-secrets\/ at generation 2/);
    const status = await api(
      `sys/plugins/reload/backend/status?reload_id=${data.reload_id}`,
    );
    const body = (await status.json()) as {
      data: { results: Record<string, { timestamp: string; error: string }> };
    };
    expect(body.data.results['demo-e2e']?.error).toBe('');
    expect(body.data.results['demo-e2e']?.timestamp).toMatch(
      /^\d{4}-\d\d-\d\dT/,
    );
  });

  it('stops everything it started on SIGTERM, Java included', async () => {
    const { endpoint } = JSON.parse(readFileSync(stackFile, 'utf8')) as {
      endpoint: string;
    };
    worker?.child.kill('SIGTERM');
    stack.child.kill('SIGTERM');
    expect(await stack.exited).toBe(0);
    await expect(fetch(endpoint)).rejects.toThrow();
    await expect(
      fetch(`http://127.0.0.1:${port}/v1/sys/health`),
    ).rejects.toThrow();
  });
});

describe('npm start refusing to start', () => {
  it('says in one line that the address is taken, and exits non-zero', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) =>
      blocker.listen(port, '127.0.0.1', () => resolve()),
    );
    try {
      const started = run('infra/local/start.ts', [], {
        VAULT_DEV_LISTEN_ADDRESS: `127.0.0.1:${port}`,
      });
      expect(await started.exited).toBe(1);
      expect(started.output()).toMatch(/already in use/);
      expect(started.output().trim().split('\n')).toHaveLength(1);
    } finally {
      blocker.close();
    }
  });

  it('says what to do when Java is missing', async () => {
    const started = run('infra/local/start.ts', [], {
      PATH: '/nonexistent',
      VAULT_DEV_LISTEN_ADDRESS: `127.0.0.1:${await freePort()}`,
    });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/Java/);
    expect(started.output().trim().split('\n')).toHaveLength(1);
  });
});

describe('npm start -- --data DIR', () => {
  it('keeps the catalog across restarts and only the newest root token works', async () => {
    const data = mkdtempSync(join(tmpdir(), 'stack-data-'));
    const stackFile = join(data, 'stack.json');
    const startWith = async (token: string) => {
      const port = await freePort();
      const stack = run('infra/local/start.ts', ['--data', data], {
        VAULT_DEV_ROOT_TOKEN_ID: token,
        VAULT_DEV_LISTEN_ADDRESS: `127.0.0.1:${port}`,
        PLUGIN_RELOAD_STACK_FILE: stackFile,
      });
      await stack.waitFor(new RegExp(`Root Token: ${token}`));
      const as = (asToken: string, path: string, init: RequestInit = {}) =>
        fetch(`http://127.0.0.1:${port}/v1/${path}`, {
          ...init,
          headers: { 'X-Vault-Token': asToken },
        });
      return { stack, as };
    };
    const first = await startWith('first-root');
    try {
      const reload = await first.as(
        'first-root',
        'sys/plugins/reload/backend',
        {
          method: 'PUT',
          body: '{"mounts":["custom-secrets"]}',
        },
      );
      expect(reload.status).toBe(200);
    } finally {
      first.stack.stopGroup('SIGTERM');
      await first.stack.exited;
    }
    const second = await startWith('second-root');
    try {
      expect((await second.as('first-root', 'sys/mounts')).status).toBe(403);
      const mount = await second.as('second-root', 'sys/mounts/custom-secrets');
      expect(mount.status).toBe(200);
      const body = (await mount.json()) as {
        data: { reload_generation: number };
      };
      expect(body.data.reload_generation).toBe(1);
    } finally {
      second.stack.stopGroup('SIGTERM');
      await second.stack.exited;
    }
  }, 400_000);
});
