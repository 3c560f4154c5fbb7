/**
 * Runs a bundled Lambda handler in a process of its own, as the Lambda
 * runtime does: the module is imported once (its cold start), then each
 * event arrives over the IPC channel and its result goes back the same way.
 * Nothing here writes to standard output, so everything there is the
 * handler's own log.
 *
 *   fork('lambda-host.ts', [bundleFile], { execArgv: ['--import', 'tsx'] })
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

export type HostRequest = { id: number; event: unknown };
export type HostReply =
  | { id: number; result: unknown }
  | { id: number; error: string }
  | { ready: true }
  | { initError: string };

const send = (message: HostReply) => process.send?.(message);

const contextOf = (): Context => {
  const deadline = Date.now() + 29_000;
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'plugin-reload';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
};

const bundleFile = process.argv[2];
if (!bundleFile) throw new Error('usage: lambda-host.ts BUNDLE_FILE');

try {
  const { handler } = (await import(pathToFileURL(bundleFile).href)) as {
    handler: (event: unknown, context: Context) => Promise<unknown>;
  };
  process.on('message', (message: HostRequest) => {
    handler(message.event, contextOf()).then(
      (result) => send({ id: message.id, result }),
      (error: unknown) => send({ id: message.id, error: String(error) }),
    );
  });
  send({ ready: true });
} catch (error) {
  send({ initError: String(error) });
}
