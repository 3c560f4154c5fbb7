import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HostReply, HostRequest } from './lambda-host.js';

const HOST = fileURLToPath(new URL('./lambda-host.ts', import.meta.url));

export interface BundledHandler {
  /** Sends one event to the handler and waits for its result. */
  invoke(event: unknown): Promise<unknown>;
  /** Every line the handler wrote to standard output, so far. */
  readonly stdout: string[];
  readonly stderr: string[];
  stop(): Promise<void>;
}

/**
 * Starts the bundled handler in a fresh Node process, as a new Lambda
 * container: its cold start runs, with exactly the environment given.
 *
 * @example
 * const lambda = await startBundledHandler(bundleFile, { CATALOG_TABLE_NAME });
 * const result = await lambda.invoke(event);
 */
export const startBundledHandler = async (
  bundleFile: string,
  env: Record<string, string>,
): Promise<BundledHandler> => {
  const child: ChildProcess = fork(HOST, [bundleFile], {
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const collect = (into: string[]) => {
    let rest = '';
    return (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      into.push(...lines.filter((line) => line !== ''));
    };
  };
  child.stdout?.on('data', collect(stdout));
  child.stderr?.on('data', collect(stderr));

  const pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  let nextId = 0;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`the handler exited (${code}): ${stderr.join('\n')}`)),
    );
    child.on('message', (message: HostReply) => {
      if ('ready' in message) return resolve();
      if ('initError' in message) {
        return reject(new Error(`cold start failed: ${message.initError}`));
      }
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if ('error' in message) waiting?.reject(new Error(message.error));
      else waiting?.resolve(message.result);
    });
  });
  child.removeAllListeners('exit');

  return {
    stdout,
    stderr,
    invoke: (event) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, event } satisfies HostRequest);
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
};
