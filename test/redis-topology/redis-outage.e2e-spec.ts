import request from 'supertest';
import { startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const OPERATION_TIMEOUT_MS = 300;
/** Not a performance figure: the line between "fails fast" and "hangs on the offline queue". */
const HANG_LIMIT_MS = OPERATION_TIMEOUT_MS * 5;

/** Polls (bounded) until `probe` passes; returns whether it did. */
async function eventually(probe: () => Promise<boolean>, limitMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/**
 * An app on `server` with a short operation timeout, and a visitor already logged in. The short
 * timeout is for the outage: a login may miss it on a busy machine, so it is retried (bounded).
 */
async function loggedIn(server: RedisServer) {
  const t = await createTestApp({
    appName: 'shop',
    redis: server.url,
    operationTimeoutMs: OPERATION_TIMEOUT_MS,
  });
  const visitor = new Visitor(t.http, 'acme.test');
  const admitted = await eventually(
    async () => (await visitor.post('/login', { user: 'alice' })).status === 201,
  );
  if (!admitted) throw new Error('the setup login never succeeded');
  return { t, visitor };
}

async function timed(send: () => Promise<request.Response>) {
  const started = Date.now();
  const res = await send();
  return { res, elapsedMs: Date.now() - started };
}

describe('when Redis is unavailable', () => {
  let server: RedisServer;
  let t: TestApp;

  beforeEach(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    await t?.close();
    await server.stop();
  });

  it('answers 503 JSON quickly while Redis is down, and recovers by itself', async () => {
    const started = await loggedIn(server);
    t = started.t;
    const visitor = started.visitor;

    await server.stop();
    const { res, elapsedMs } = await timed(() => visitor.get('/me'));

    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'SESSION_STORE_UNAVAILABLE',
      message: 'Session store unavailable',
    });
    expect(elapsedMs).toBeLessThan(HANG_LIMIT_MS);

    await server.start();
    const recovered = await eventually(
      async () => (await visitor.post('/login', { user: 'alice' })).status === 201,
    );
    expect(recovered).toBe(true);
    expect(await eventually(async () => (await visitor.get('/me')).status === 200)).toBe(true);
  });

  it('answers 503 when Redis hangs (connection open, no replies), then recovers', async () => {
    const started = await loggedIn(server);
    t = started.t;
    const visitor = started.visitor;

    server.pause();
    const { res, elapsedMs } = await timed(() => visitor.get('/me'));
    server.resume();

    expect(res.status).toBe(503);
    expect(elapsedMs).toBeLessThan(HANG_LIMIT_MS);
    // The same session, not a new one: a failed load must not lose it.
    expect(await eventually(async () => (await visitor.get('/me')).status === 200)).toBe(true);
  });

  it('starts while Redis is down, answers 503, and serves once Redis is up', async () => {
    await server.stop();
    t = await createTestApp({
      appName: 'shop',
      redis: server.url,
      operationTimeoutMs: OPERATION_TIMEOUT_MS,
    });

    const { res, elapsedMs } = await timed(() =>
      request(t.http).post('/login').set('Host', 'acme.test').send({ user: 'alice' }),
    );
    expect(res.status).toBe(503);
    expect(elapsedMs).toBeLessThan(HANG_LIMIT_MS);

    await server.start();
    const visitor = new Visitor(t.http, 'acme.test');
    expect(
      await eventually(
        async () => (await visitor.post('/login', { user: 'alice' })).status === 201,
      ),
    ).toBe(true);
    expect(await eventually(async () => (await visitor.get('/me')).status === 200)).toBe(true);
  });

  it('an unknown tenant still gets its 404 while Redis is down', async () => {
    t = await createTestApp({
      appName: 'shop',
      redis: server.url,
      operationTimeoutMs: OPERATION_TIMEOUT_MS,
    });
    await server.stop();

    const res = await request(t.http).get('/me').set('Host', 'nobody.test');

    expect(res.status).toBe(404);
  });

  it('revocation calls fail with the same 503 exception instead of hanging', async () => {
    t = await createTestApp({
      appName: 'shop',
      redis: server.url,
      operationTimeoutMs: OPERATION_TIMEOUT_MS,
    });
    await server.stop();

    await expect(t.sessions.revokeAll('acme', 'alice')).rejects.toMatchObject({ status: 503 });
  });
});
