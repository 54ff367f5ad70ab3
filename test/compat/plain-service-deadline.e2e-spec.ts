import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import { connectRedisOptions } from 'nestjs-tenant-session/connect-redis';
import { createTestApp, TEST_SECRET, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * A plain express-session + connect-redis service sharing the module's sessions, set up as
 * docs/recipes/sharing-sessions.md says (`connectRedisOptions`): what it writes and touches never
 * outlives the absolute deadline the session id carries, and a session it creates gets the
 * module's idle TTL, not connect-redis's day.
 */

const IDLE_TTL = 3600;
const LIFETIME = 30;
const PREFIX = 'sessions:acme:plainttl:';

function plainService(client: Redis, store: Partial<ConstructorParameters<typeof RedisStore>[0]>) {
  const app = express();
  app.use(
    session({
      store: new RedisStore({ client, prefix: PREFIX, ...store }),
      secret: TEST_SECRET,
      name: 'sid',
      resave: false,
      saveUninitialized: false,
    }),
  );
  app.post('/increment', (req, res) => {
    req.session.count = (req.session.count ?? 0) + 1;
    res.json({ count: req.session.count });
  });
  app.get('/whoami', (req, res) => {
    res.json({ user: req.session.user ?? null });
  });
  app.post('/visit', (req, res) => {
    req.session.visits = 1;
    res.json({ ok: true });
  });
  return app;
}

/** The deadline (ms epoch) a module-made session id carries after `~`, base36 seconds. */
const deadlineOf = (sid: string) => parseInt(sid.slice(sid.lastIndexOf('~') + 1), 36) * 1000;

describe('a plain service with connectRedisOptions honours the absolute deadline', () => {
  let client: Redis;
  let nest: TestApp;

  beforeAll(async () => {
    client = new Redis(process.env.TEST_REDIS_URL!);
    nest = await createTestApp({
      appName: 'plainttl',
      idleTtl: IDLE_TTL,
      absoluteLifetime: LIFETIME,
    });
  });
  afterAll(async () => {
    await nest.close();
    client.disconnect();
  });

  async function loggedIn(): Promise<{ browser: Visitor; key: string; deadline: number }> {
    const browser = new Visitor(nest.http, 'acme.test');
    await browser.post('/login', { user: 'alice' });
    const sid = browser.sessionId()!;
    return { browser, key: PREFIX + sid, deadline: deadlineOf(sid) };
  }

  /** The key's expiry (ms epoch), read as PTTL right after the write. */
  const expiryOf = async (key: string) => Date.now() + (await client.pttl(key));

  it("a write by the plain service never sets a TTL past the session's deadline", async () => {
    const { browser, key, deadline } = await loggedIn();
    const plain = plainService(client, connectRedisOptions({ idleTtl: IDLE_TTL }));

    expect((await browser.on(plain).post('/increment')).body).toEqual({ count: 1 });

    expect(await client.pttl(key)).toBeGreaterThan(0);
    expect(await expiryOf(key)).toBeLessThanOrEqual(deadline + 5);
    expect((await browser.get('/me')).body).toMatchObject({ user: 'alice', count: 1 });
  });

  it('neither does a touch, with touches turned back on', async () => {
    const { browser, key, deadline } = await loggedIn();
    const options = { ...connectRedisOptions({ idleTtl: IDLE_TTL }), disableTouch: false };
    const plain = plainService(client, options);
    await client.pexpire(key, 3_600_000); // as if something had set it far past the deadline

    expect((await browser.on(plain).get('/whoami')).body).toEqual({ user: 'alice' });

    expect(await expiryOf(key)).toBeLessThanOrEqual(deadline + 5);
  });

  it('the touch setting it gives leaves TTLs to the module (disableTouch)', async () => {
    const { browser, key } = await loggedIn();
    const plain = plainService(client, connectRedisOptions({ idleTtl: IDLE_TTL }));
    await client.pexpire(key, 20_000);

    await browser.on(plain).get('/whoami');

    expect(await client.pttl(key)).toBeLessThanOrEqual(20_000);
  });

  it("without it, connect-redis's own TTL runs past the deadline (the failure it fixes)", async () => {
    const { browser, key, deadline } = await loggedIn();
    const plain = plainService(client, {});

    await browser.on(plain).post('/increment');

    expect(await expiryOf(key)).toBeGreaterThan(deadline + 60_000);
  });

  it("a session the plain service creates gets the module's idle TTL, not a day", async () => {
    const plain = plainService(client, connectRedisOptions({ idleTtl: IDLE_TTL }));
    const browser = new Visitor(plain, 'acme.test');

    await browser.post('/visit');

    const ttl = await client.ttl(PREFIX + browser.sessionId()!);
    expect(ttl).toBeGreaterThan(IDLE_TTL - 5);
    expect(ttl).toBeLessThanOrEqual(IDLE_TTL);
  });

  it('a session past its deadline is deleted by a plain write, not extended', async () => {
    const store = new RedisStore({
      client,
      prefix: PREFIX,
      ...connectRedisOptions({ idleTtl: IDLE_TTL }),
    });
    const sid = `${'p'.repeat(32)}~${Math.floor(Date.now() / 1000 - 1).toString(36)}`;
    const data = { cookie: { originalMaxAge: null, httpOnly: true, path: '/' }, count: 1 };
    await client.set(PREFIX + sid, JSON.stringify(data), 'EX', 60);

    await store.set(sid, Object.assign(data, { id: sid }) as never);

    expect(await client.exists(PREFIX + sid)).toBe(0);
  });
});
