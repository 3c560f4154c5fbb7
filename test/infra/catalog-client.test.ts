import type { AddressInfo } from 'node:net';
import { createConnection, createServer, type Server } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../../functions/catalog/client.js';
import { namespaceKey } from '../../functions/catalog/keys.js';
import { freshCatalog } from '../support/dynamodb.js';

/** A TCP relay to DynamoDB Local that counts the connections made to it. */
const startRelay = async (target: URL) => {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    const upstream = createConnection(Number(target.port), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
};

describe('the catalog client', () => {
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let tableName: string;

  beforeAll(async () => {
    const catalog = await freshCatalog();
    tableName = catalog.tableName;
    relay = await startRelay(new URL(catalog.endpoint));
  });
  afterAll(() => relay.close());

  it('keeps its connection open from one request to the next', async () => {
    const catalog = createCatalog({ tableName, endpoint: relay.endpoint });
    try {
      for (let request = 0; request < 10; request++) {
        await catalog.client.send(
          new GetCommand({
            TableName: tableName,
            Key: namespaceKey('team-b/'),
          }),
        );
      }
      expect(relay.connections()).toBe(1);
    } finally {
      catalog.client.destroy();
    }
  });
});
