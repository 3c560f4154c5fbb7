import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsStub {
  /** For `AWS_ENDPOINT_URL_SECRETS_MANAGER`. */
  endpoint: string;
  /** The ARN a stored secret answers to. */
  arnOf(name: string): string;
  /** Sets or replaces a secret's value. */
  put(name: string, value: string): void;
  /** How often each secret was read. */
  reads: Map<string, number>;
  close(): Promise<void>;
}

const ARN_PREFIX = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:';

/**
 * A stand-in for Secrets Manager on a loopback port, answering the one
 * call the handler makes, `GetSecretValue`, in the service's JSON protocol,
 * so the real AWS SDK client (through Powertools Parameters) reads from it.
 *
 * @example
 * const secrets = await startSecretsStub();
 * secrets.put('root-token', 'hvs.example');
 * process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.endpoint;
 */
export const startSecretsStub = async (): Promise<SecretsStub> => {
  const values = new Map<string, string>();
  const reads = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const answer = (status: number, body: unknown) => {
        response.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
        });
        response.end(JSON.stringify(body));
      };
      if (request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        return answer(400, {
          __type: 'InvalidRequestException',
          message: 'only GetSecretValue is served here',
        });
      }
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      const name = String(SecretId ?? '').replace(ARN_PREFIX, '');
      const value = values.get(name);
      if (value === undefined) {
        return answer(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
      }
      reads.set(name, (reads.get(name) ?? 0) + 1);
      answer(200, {
        ARN: `${ARN_PREFIX}${name}`,
        Name: name,
        SecretString: value,
        VersionId: '00000000-0000-0000-0000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Date.now() / 1000,
      });
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    arnOf: (name) => `${ARN_PREFIX}${name}`,
    put: (name, value) => {
      values.set(name, value);
    },
    reads,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
