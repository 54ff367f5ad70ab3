import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { freePort } from '../support/redis-server.mjs';
import { createTestApp, type TestApp } from '../support/test-app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a Redis client the app owns', () => {
  let app: TestApp | undefined;
  let client: Redis | undefined;
  afterEach(async () => {
    await app?.close();
    client?.disconnect();
    jest.restoreAllMocks();
  });

  it('makes no "[ioredis] Unhandled error event" noise while Redis is away', async () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    client = new Redis({
      port: await freePort(), // nobody listens there
      host: '127.0.0.1',
      enableOfflineQueue: false,
      retryStrategy: () => 50,
    });
    app = await createTestApp({ appName: 'owned-client', redis: client, operationTimeoutMs: 200 });

    await sleep(500); // several reconnection attempts, each an 'error' event
    const noise = printed.mock.calls.filter((args) =>
      String(args[0]).includes('[ioredis] Unhandled error event'),
    );
    expect(noise).toEqual([]);
    expect(client.listenerCount('error')).toBeGreaterThan(0);
  });
});
