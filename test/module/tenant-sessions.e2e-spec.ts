import type { Redis } from 'ioredis';
import request from 'supertest';
import { useOwnRedisServer } from '../support/own-redis.js';
import type { RedisServer } from '../support/redis-server.mjs';
import { countCommands } from '../support/redis-stats.js';
import { createTestApp, TEST_SECRET, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

describe('tenant sessions over HTTP (real Redis)', () => {
  // A server of its own: some tests count every command it runs.
  const own = useOwnRedisServer();
  let server: RedisServer;
  let redis: Redis;
  let t: TestApp;
  const knownTenants = new Set(['acme', 'globex']);

  beforeAll(() => {
    ({ server, redis } = own);
  });
  beforeEach(async () => {
    t = await createTestApp({
      appName: 'shop',
      redis: server.url,
      // Host map first, then an `x-tenant` header for tenants added at runtime.
      tenant: (req) =>
        ({ 'acme.test': 'acme', 'globex.test': 'globex' })[req.hostname] ??
        (knownTenants.has(req.get('x-tenant')?.toLowerCase() ?? '')
          ? req.get('x-tenant')
          : undefined),
    });
  });
  afterEach(() => t.close());

  it('keeps two tenants apart by Host', async () => {
    const onAcme = new Visitor(t.http, 'acme.test');
    const onGlobex = new Visitor(t.http, 'globex.test');
    await onAcme.post('/login', { user: 'alice' });
    await onGlobex.post('/login', { user: 'bob' });

    expect((await onAcme.get('/me')).body).toEqual({ user: 'alice', tenant: 'acme', count: 0 });
    expect((await onGlobex.get('/me')).body).toEqual({ user: 'bob', tenant: 'globex', count: 0 });
  });

  it('a cookie from acme is no session on globex', async () => {
    const onAcme = new Visitor(t.http, 'acme.test');
    await onAcme.post('/login', { user: 'alice' });

    const replayed = await request(t.http)
      .get('/me')
      .set('Host', 'globex.test')
      .set('Cookie', onAcme.cookieHeader);

    expect(replayed.status).toBe(401);
    expect((await onAcme.get('/me')).status).toBe(200);
  });

  it('stores sessions under sessions:<tenant>:<app>:<sid>', async () => {
    const visitor = new Visitor(t.http, 'acme.test');
    await visitor.post('/login', { user: 'alice' });

    const keys = await redis.keys('sessions:*');
    expect(keys).toEqual([`sessions:acme:shop:${visitor.sessionId()}`]);
    expect(await redis.pttl(keys[0])).toBeGreaterThan(3_500_000);
  });

  it('answers an unknown Host with 404 JSON and never touches Redis', async () => {
    let res!: request.Response;
    const counts = await countCommands(redis, async () => {
      res = await request(t.http).get('/peek').set('Host', 'unknown.test');
    });

    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      statusCode: 404,
      error: 'Unknown Tenant',
      code: 'UNKNOWN_TENANT',
      message: 'Unknown tenant',
    });
    expect(counts).toEqual({});
  });

  it.each([
    ['a colon', 'ac:me'],
    ['a glob star', 'acme*'],
    ['a space', 'ac me'],
    ['200 characters', 'a'.repeat(200)],
    ['a hash tag', '{acme}'],
  ])('a tenant id with %s never reaches Redis', async (_, tenant) => {
    knownTenants.add(tenant.toLowerCase());
    let res!: request.Response;
    const counts = await countCommands(redis, async () => {
      res = await request(t.http).post('/visit').set('Host', 'api.test').set('x-tenant', tenant);
    });

    expect(res.status).toBe(404);
    expect(counts).toEqual({});
    expect(await redis.dbsize()).toBe(0);
  });

  it('normalises an upper-case tenant id to lower case before it forms a key', async () => {
    const res = await request(t.http)
      .post('/visit')
      .set('Host', 'api.test')
      .set('x-tenant', 'ACME');

    expect(res.body.tenant).toBe('acme');
    expect(await redis.keys('sessions:*')).toEqual([expect.stringMatching(/^sessions:acme:shop:/)]);
  });

  it('stores nothing and sets no cookie for a visitor who writes nothing', async () => {
    const res = await request(t.http).get('/peek').set('Host', 'acme.test');

    expect(res.body).toEqual({ tenant: 'acme', user: null, visits: 0 });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await redis.dbsize()).toBe(0);
  });

  it('stores a change made while an explicit save was in flight (acknowledged = stored)', async () => {
    const visitor = new Visitor(t.http, 'acme.test');
    expect((await visitor.post('/save-then-change')).body).toEqual({ visits: 2 });
    expect((await visitor.get('/peek')).body.visits).toBe(2);
  });

  it('guards a route: 401 JSON before login, 200 after', async () => {
    const visitor = new Visitor(t.http, 'acme.test');
    const before = await visitor.get('/me');
    expect(before.status).toBe(401);
    expect(before.body).toMatchObject({ statusCode: 401, message: 'Login required' });

    await visitor.post('/login', { user: 'alice' });
    expect((await visitor.get('/me')).status).toBe(200);
  });

  it('gives a new session id on login (no fixation)', async () => {
    const visitor = new Visitor(t.http, 'acme.test');
    await visitor.post('/visit');
    const anonymous = visitor.sessionId();

    await visitor.post('/login', { user: 'alice' });

    expect(visitor.sessionId()).not.toBe(anonymous);
    expect(await redis.exists(`sessions:acme:shop:${anonymous}`)).toBe(0);
  });

  it('sets a signed, HttpOnly, SameSite=Lax cookie', async () => {
    const res = await new Visitor(t.http, 'acme.test').post('/login', { user: 'alice' });
    const cookie = String(res.headers['set-cookie']);

    expect(cookie).toMatch(/^sid=s%3A[\w.~-]+\.[\w%+/=-]+;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });

  it('logout destroys the key and clears the cookie', async () => {
    const visitor = new Visitor(t.http, 'acme.test');
    await visitor.post('/login', { user: 'alice' });
    const key = `sessions:acme:shop:${visitor.sessionId()}`;
    const stale = visitor.cookieHeader;

    const res = await visitor.post('/logout');

    expect(String(res.headers['set-cookie'])).toMatch(/sid=;/);
    expect(await redis.exists(key)).toBe(0);
    expect(
      (await request(t.http).get('/me').set('Host', 'acme.test').set('Cookie', stale)).status,
    ).toBe(401);
  });

  it('sessions survive an application restart', async () => {
    const visitor = new Visitor(t.http, 'acme.test');
    await visitor.post('/login', { user: 'alice' });
    await visitor.post('/increment');
    await t.close();

    t = await createTestApp({
      appName: 'shop',
      redis: server.url,
      tenant: { byHost: { 'acme.test': 'acme' } },
    });

    expect((await visitor.on(t.http).get('/me')).body).toEqual({
      user: 'alice',
      tenant: 'acme',
      count: 1,
    });
  });

  it('serves a tenant added at runtime without a restart', async () => {
    const unknown = await request(t.http)
      .post('/visit')
      .set('Host', 'api.test')
      .set('x-tenant', 'initech');
    expect(unknown.status).toBe(404);

    knownTenants.add('initech');
    const res = await request(t.http)
      .post('/visit')
      .set('Host', 'api.test')
      .set('x-tenant', 'initech');

    expect(res.status).toBe(201);
    expect(await redis.keys('sessions:initech:shop:*')).toHaveLength(1);
  });

  it.each([
    ['a forged signature', (sid: string) => `s%3A${sid}.forgedsignatureAAAAAAAAAAAAAAAAAAAAAAAAAA`],
    ['an unsigned id', (sid: string) => sid],
    ['garbage', () => '%%%not-a-cookie%%%'],
    ['a cookie signed with another secret', () => 's%3Aabc.ZmFrZQ'],
  ])('%s gives a fresh anonymous session, not an error', async (_, forge) => {
    const victim = new Visitor(t.http, 'acme.test');
    await victim.post('/login', { user: 'alice' });

    const res = await request(t.http)
      .post('/visit')
      .set('Host', 'acme.test')
      .set('Cookie', `sid=${forge(victim.sessionId()!)}`);

    expect(res.status).toBe(201);
    expect(res.body.visits).toBe(1);
    expect(String(res.headers['set-cookie'])).not.toContain(victim.sessionId());
  });

  it('reads a session in exactly one Redis command (GETEX)', async () => {
    const visitor = new Visitor(t.http, 'acme.test');
    await visitor.post('/login', { user: 'alice' });

    const counts = await countCommands(redis, () => visitor.get('/me'));

    expect(counts).toEqual({ evalsha: 1 });
  });

  it('saves a modified session with one more command, which cannot re-create it', async () => {
    const visitor = new Visitor(t.http, 'acme.test');
    await visitor.post('/login', { user: 'alice' });

    const counts = await countCommands(redis, () => visitor.post('/increment'));

    expect(counts).toEqual({ evalsha: 1, set: 1 });
    expect((await visitor.get('/me')).body.count).toBe(1);
  });

  it('refuses to start without a secret or with a well-known one', async () => {
    await expect(createTestApp({ appName: 'shop', secret: [] })).rejects.toThrow(
      /secret is required/,
    );
    await expect(createTestApp({ appName: 'shop', secret: 'keyboard cat' })).rejects.toThrow(
      /well-known/,
    );
    await expect(createTestApp({ appName: 'shop', secret: 'Q7f!x2' })).rejects.toThrow(
      /at least 16/,
    );
    await expect(
      createTestApp({ appName: 'shop', secret: ['x'.repeat(16), 'short'] }),
    ).rejects.toThrow(/at least 16/);
    const accepted = await createTestApp({
      appName: 'shop',
      redis: server.url,
      secret: TEST_SECRET,
    });
    await accepted.close();
  });
});
