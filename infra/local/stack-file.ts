import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What `npm start` leaves in `.local/stack.json` while it runs, so that the
 * demo worker and the catalog command in the same checkout find the local
 * stack without being told. It holds no token.
 */
export interface LocalStack {
  endpoint: string;
  tableName: string;
  region: string;
  apiAddress: string;
  pid: number;
}

export const PROJECT_ROOT = join(
  dirname(fileURLToPath(import.meta.url)),
  '../..',
);
/**
 * Where the file lives; `PLUGIN_RELOAD_STACK_FILE` moves it, so that a
 * second stack (a test's, say) does not take over the checkout's.
 */
export const LOCAL_STACK_FILE =
  process.env.PLUGIN_RELOAD_STACK_FILE ??
  join(PROJECT_ROOT, '.local', 'stack.json');

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export const writeLocalStack = (stack: LocalStack) => {
  mkdirSync(dirname(LOCAL_STACK_FILE), { recursive: true });
  writeFileSync(LOCAL_STACK_FILE, `${JSON.stringify(stack, null, 2)}\n`);
};

/** Removes the file, if it still describes this process's stack. */
export const removeLocalStack = () => {
  if (readLocalStack()?.pid === process.pid) {
    rmSync(LOCAL_STACK_FILE, { force: true });
  }
};

/**
 * The running local stack of this checkout, if there is one. A file left by
 * a stack that has since died is ignored, and so is one that points away
 * from this machine: the catalog is never sent elsewhere on its word.
 */
export const readLocalStack = (): LocalStack | undefined => {
  if (!existsSync(LOCAL_STACK_FILE)) return undefined;
  let stack: LocalStack;
  try {
    stack = JSON.parse(readFileSync(LOCAL_STACK_FILE, 'utf8'));
  } catch {
    return undefined;
  }
  if (!isRunning(stack.pid)) return undefined;
  try {
    if (!LOOPBACK_HOSTS.has(new URL(stack.endpoint).hostname)) return undefined;
  } catch {
    return undefined;
  }
  return stack;
};

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};
