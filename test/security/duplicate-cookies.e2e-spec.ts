import request from 'supertest';
import type { TenantSessionModuleOptions } from 'nestjs-tenant-session';
import { useOwnRedisServer } from '../support/own-redis.js';
import { countCommands } from '../support/redis-stats.js';
import { TcpGate } from '../support/tcp-gate.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * A cookie tossed from a sibling subdomain (`Domain=.example.com`, or a longer `Path` so it
 * comes first) beside the visitor's own: express-session alone takes the first. Here the one
 * that verifies and whose session exists wins, so a tossed cookie can neither shadow the
 * visitor's session nor pin the visitor to a session the attacker knows.
 */
describe('duplicate session cookies', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (options: Partial<TenantSessionModuleOptions> & { appName: string }) =>
    (t = await createTestApp(options));

  async function loggedIn(user: string): Promise<Visitor> {
    const visitor = new Visitor(t!.http, 'acme.test');
    expect((await visitor.post('/login', { user })).status).toBe(201);
    return visitor;
  }

  /** `name=value` of the visitor's session cookie. */
  const sid = (visitor: Visitor) => `sid=${visitor.cookies.get('sid')}`;

  /** A request carrying exactly these cookies, in this order. */
  const send = (method: 'get' | 'post', path: string, cookies: string[]) =>
    request(t!.http)[method](path).set('Host', 'acme.test').set('Cookie', cookies.join('; '));

  /** The tossed cookies an attacker can make, each from acme itself. */
  const tossed: Record<string, () => Promise<string>> = {
    'a valid cookie of another existing session': async () => sid(await loggedIn('mallory')),
    'a valid cookie whose session is gone': async () => {
      const mallory = await loggedIn('mallory');
      const cookie = sid(mallory);
      expect((await mallory.post('/logout')).status).toBe(201);
      return cookie;
    },
    'a cookie with a bad signature': async () => 'sid=s%3AforgedSessionId.AAAAAAAAAAAAAAAAAAAA',
  };

  describe.each(['first', 'second'])('a tossed cookie placed %s', (place) => {
    const order = (victim: string, other: string) =>
      place === 'first' ? [other, victim] : [victim, other];

    it.each(['a valid cookie whose session is gone', 'a cookie with a bad signature'])(
      'with %s, the victim keeps their session and its changes',
      async (kind) => {
        await start({ appName: 'dup-cookies' });
        const victim = await loggedIn('victim');
        const cookies = order(sid(victim), await tossed[kind]());

        const me = await send('get', '/me', cookies);
        expect(me.status).toBe(200);
        expect(me.body.user).toBe('victim');
        expect((await send('post', '/increment', cookies)).body).toEqual({ count: 1 });
        expect((await victim.get('/me')).body.count).toBe(1);
      },
    );

    it('with a valid cookie of another existing session, the request runs in neither', async () => {
      await start({ appName: 'dup-cookies' });
      const victim = await loggedIn('victim');
      const mallory = await loggedIn('mallory');
      const cookies = order(sid(victim), sid(mallory));

      expect((await send('get', '/me', cookies)).status).toBe(401);
      expect((await send('post', '/increment', cookies)).status).toBe(401);
      // Nothing was done in either session, and both are still there.
      expect((await victim.get('/me')).body).toMatchObject({ user: 'victim', count: 0 });
      expect((await mallory.get('/me')).body).toMatchObject({ user: 'mallory', count: 0 });
    });
  });

  it('a tossed cookie of a session the attacker knows cannot pin the victim to it at login', async () => {
    await start({ appName: 'dup-cookies' });
    const attacker = new Visitor(t!.http, 'acme.test');
    expect((await attacker.post('/visit')).status).toBe(201);
    const known = sid(attacker);
    const knownId = attacker.sessionId()!;

    // The victim's browser has only the tossed cookie; logging in sets the victim's own beside it.
    const login = await send('post', '/login', [known]).send({ user: 'victim' });
    expect(login.status).toBe(201);
    const own = /^(sid=[^;]+)/.exec(login.headers['set-cookie'][0])![1];
    const store = await t!.registry.store('acme');
    expect(await store.peek(knownId)).toBeNull();

    for (const cookies of [
      [known, own],
      [own, known],
    ]) {
      const me = await send('get', '/me', cookies);
      expect(me.status).toBe(200);
      expect(me.body.user).toBe('victim');
    }
    expect((await attacker.get('/peek')).body).toEqual({ tenant: 'acme', user: null, visits: 0 });
  });

  it('a Redis failure while telling duplicates apart is a 503', async () => {
    const gate = await TcpGate.start(Number(new URL(process.env.TEST_REDIS_URL!).port));
    try {
      await start({ appName: 'dup-outage', redis: gate.url });
      const victim = await loggedIn('victim');
      const gone = await tossed['a valid cookie whose session is gone']();
      gate.close();
      const res = await send('get', '/me', [gone, sid(victim)]);
      expect(res.status).toBe(503);
      expect(res.body.message).toBe('Session store unavailable');
    } finally {
      await gate.stop();
    }
  });

  describe('Redis work', () => {
    const own = useOwnRedisServer();

    it('one cookie costs nothing extra, nor do duplicates of which one verifies', async () => {
      await start({ appName: 'dup-commands', redis: own.server.url });
      const victim = await loggedIn('victim');
      const single = await countCommands(own.redis, async () => {
        expect((await send('get', '/me', [sid(victim)])).status).toBe(200);
      });
      expect(single).toEqual({ evalsha: 1 });
      const forged = await countCommands(own.redis, async () => {
        const cookies = [await tossed['a cookie with a bad signature'](), sid(victim)];
        expect((await send('get', '/me', cookies)).status).toBe(200);
      });
      expect(forged).toEqual({ evalsha: 1 });
    });

    it('two cookies that verify cost one round trip (GET and PTTL of each)', async () => {
      await start({ appName: 'dup-commands', redis: own.server.url });
      const victim = await loggedIn('victim');
      const gone = await tossed['a valid cookie whose session is gone']();
      const counts = await countCommands(own.redis, async () => {
        expect((await send('get', '/me', [gone, sid(victim)])).status).toBe(200);
      });
      expect(counts).toEqual({ get: 2, pttl: 2, evalsha: 1 });
    });
  });
});

describe('__Host- cookie names', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('over HTTPS, the cookie is __Host-…; Path=/; Secure, without Domain, and the session works', async () => {
    t = await createTestApp(
      { appName: 'host-prefix', cookieName: '__Host-sid' },
      { trustProxy: 'loopback' },
    );
    const overHttps = (req: request.Test) =>
      req.set('Host', 'acme.test').set('X-Forwarded-Proto', 'https');

    const login = await overHttps(request(t.http).post('/login')).send({ user: 'alice' });
    expect(login.status).toBe(201);
    const setCookie: string = login.headers['set-cookie'][0];
    expect(setCookie).toMatch(
      /^__Host-sid=s%3A[^;]+; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(setCookie).not.toMatch(/domain/i);

    const cookie = setCookie.split(';')[0];
    const me = await overHttps(request(t.http).get('/me')).set('Cookie', cookie);
    expect(me.status).toBe(200);
    expect(me.body.user).toBe('alice');
  });

  it.each([
    [
      { cookieName: '__Host-sid', cookie: { domain: '.acme.test' } },
      /cookieName: .*"__Host-sid".*no domain may be set/,
    ],
    [{ cookieName: '__Host-sid', cookie: { path: '/app' } }, /the path must be "\/"/],
    [{ cookieName: '__Host-sid', cookie: { secure: false } }, /cookie\.secure must not be false/],
    [{ cookieName: '__Secure-sid', cookie: { secure: false } }, /"__Secure-sid" when it is Secure/],
    [
      { cookieName: '__Host-sid', tenantSettings: { acme: { cookieDomain: '.acme.test' } } },
      /tenantSettings\[acme\]: .*no domain may be set/,
    ],
    [
      { cookie: { domain: '.test' }, tenantSettings: { acme: { cookieName: '__Host-acme' } } },
      /tenantSettings\[acme\]: .*"__Host-acme"/,
    ],
  ])('refuses a prefixed name browsers would drop, at start-up (%#)', async (options, message) => {
    await expect(
      createTestApp({
        appName: 'host-prefix-bad',
        ...(options as Partial<TenantSessionModuleOptions>),
      }),
    ).rejects.toThrow(message);
  });

  it("checks a tenant's prefixed cookie name from a settings function when its store is built", async () => {
    t = await createTestApp({
      appName: 'host-prefix-fn',
      cookie: { domain: '.test' },
      tenantSettings: (tenant) => (tenant === 'acme' ? { cookieName: '__Host-sid' } : undefined),
    });
    await expect(t.registry.get('acme')).rejects.toThrow(/tenantSettings\[acme\]: .*no domain/);
  });
});
