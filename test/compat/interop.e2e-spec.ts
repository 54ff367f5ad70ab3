import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import { createTestApp, TEST_SECRET, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * Another service on the same domain, written with nothing but express-session + connect-redis,
 * configured with the same prefix, secret and cookie name.
 */
function plainExpressService(client: Redis) {
  const app = express();
  app.use(
    session({
      store: new RedisStore({ client, prefix: 'sessions:acme:interop:' }),
      secret: TEST_SECRET,
      name: 'sid',
      resave: false,
      saveUninitialized: false,
    }),
  );
  app.get('/whoami', (req, res) => {
    res.json({ user: req.session.user ?? null, count: req.session.count ?? 0 });
  });
  app.post('/increment', (req, res) => {
    req.session.count = (req.session.count ?? 0) + 1;
    res.json({ count: req.session.count });
  });
  app.post('/login', (req, res) => {
    req.session.regenerate(() => {
      req.session.user = 'carol';
      res.json({ user: 'carol' });
    });
  });
  return app;
}

describe('interoperability with plain express-session + connect-redis', () => {
  let client: Redis;
  let nest: TestApp;
  let plain: ReturnType<typeof plainExpressService>;

  beforeAll(async () => {
    client = new Redis(process.env.TEST_REDIS_URL!);
    plain = plainExpressService(client);
  });
  afterAll(() => client.quit());
  afterEach(() => nest.close());

  it('a session created by the Nest app is read by the plain app', async () => {
    nest = await createTestApp({ appName: 'interop' });
    const browser = new Visitor(nest.http, 'acme.test');
    await browser.post('/login', { user: 'alice' });
    await browser.post('/increment');

    const seen = await new Visitor(plain, 'acme.test', 'jest', browser.cookies).get('/whoami');

    expect(seen.body).toEqual({ user: 'alice', count: 1 });
  });

  it('a change made by the plain app is seen by the Nest app', async () => {
    nest = await createTestApp({ appName: 'interop' });
    const browser = new Visitor(nest.http, 'acme.test');
    await browser.post('/login', { user: 'alice' });

    await browser.on(plain).post('/increment');
    await browser.on(plain).post('/increment');

    expect((await browser.get('/me')).body).toEqual({ user: 'alice', tenant: 'acme', count: 2 });
  });

  it('a session created by the plain app is read by the Nest app', async () => {
    nest = await createTestApp({ appName: 'interop', authenticated: 'user' });
    const browser = new Visitor(plain, 'acme.test');
    await browser.post('/login');

    const res = await browser.on(nest.http).get('/me');

    expect(res.body).toEqual({ user: 'carol', tenant: 'acme', count: 0 });
  });

  it('revocation in the Nest app is seen by the plain app at once', async () => {
    nest = await createTestApp({ appName: 'interop' });
    const browser = new Visitor(nest.http, 'acme.test');
    await browser.post('/login', { user: 'alice' });
    expect((await browser.on(plain).get('/whoami')).body.user).toBe('alice');

    await nest.sessions.revokeAll('acme', 'alice');

    expect((await browser.on(plain).get('/whoami')).body).toEqual({ user: null, count: 0 });
  });

  it('stores the JSON connect-redis writes, with the TTL it would set', async () => {
    nest = await createTestApp({ appName: 'interop' });
    const browser = new Visitor(nest.http, 'acme.test');
    await browser.post('/login', { user: 'alice' });

    const key = `sessions:acme:interop:${browser.sessionId()}`;
    const stored = JSON.parse((await client.get(key))!);

    // express-session's Cookie takes originalMaxAge from two clock readings: they may be 1 ms apart.
    expect(stored).toMatchObject({
      cookie: {
        originalMaxAge: expect.closeTo(3_600_000, -1),
        httpOnly: true,
        path: '/',
        sameSite: 'lax',
      },
      user: 'alice',
      _owner: { userId: 'alice', userAgent: 'jest-visitor' },
    });
    expect(await client.ttl(key)).toBeGreaterThan(3590);
  });
});
