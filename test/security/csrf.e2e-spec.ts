import request from 'supertest';
import type { TenantSessionModuleOptions } from 'nestjs-tenant-session';
import { useOwnRedisServer } from '../support/own-redis.js';
import { countCommands } from '../support/redis-stats.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

type Headers = Record<string, string>;

/**
 * The CSRF defence through HTTP: an unsafe request a browser says came from elsewhere is
 * refused with 403 JSON before its session is loaded; token mode also asks for the session's
 * token. Hosts: acme.test and globex.test (test-app.ts), plain HTTP.
 */
describe('CSRF defence', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (
    options: Partial<TenantSessionModuleOptions> & { appName: string },
    { trustProxy }: { trustProxy?: string } = {},
  ) => (t = await createTestApp(options, { trustProxy }));

  /** A visitor logged in as `user` (a login without browser headers, as an API client sends it). */
  async function loggedIn(host = 'acme.test', user = 'alice'): Promise<Visitor> {
    const visitor = new Visitor(t!.http, host);
    expect((await visitor.post('/login', { user })).status).toBe(201);
    return visitor;
  }

  /** A request as `visitor` (its host and cookies) with extra headers. */
  const send = (
    visitor: Visitor,
    method: 'get' | 'head' | 'options' | 'post' | 'put' | 'patch' | 'delete',
    path: string,
    headers: Headers,
  ) =>
    request(t!.http)
      [method](path)
      .set('Host', visitor.host)
      .set('Cookie', visitor.cookieHeader)
      .set(headers);

  const increment = (visitor: Visitor, headers: Headers) =>
    send(visitor, 'post', '/increment', headers);

  const count = async (visitor: Visitor) => (await visitor.get('/me')).body.count as number;

  describe('by default (header checks)', () => {
    beforeEach(() =>
      start({
        appName: 'csrf-default',
        csrf: { trustedOrigins: ['https://console.example.net'] },
        tenantSettings: { acme: { trustedOrigins: ['https://partner.example.org'] } },
      }),
    );

    it.each([
      ['Sec-Fetch-Site: same-origin', { 'Sec-Fetch-Site': 'same-origin' }],
      [
        'Sec-Fetch-Site: same-origin with its own Origin',
        { 'Sec-Fetch-Site': 'same-origin', Origin: 'http://acme.test' },
      ],
      ['its own Origin', { Origin: 'http://acme.test' }],
      ['no Sec-Fetch-Site and no Origin (an API client)', {}],
      ['a module-level trusted Origin', { Origin: 'https://console.example.net' }],
      [
        'a trusted Origin with Sec-Fetch-Site: cross-site',
        { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://console.example.net' },
      ],
      ["a tenant's own trusted Origin", { Origin: 'https://partner.example.org' }],
    ])('an unsafe request passes with %s', async (_, headers: Headers) => {
      const alice = await loggedIn();
      const res = await increment(alice, headers);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ count: 1 });
      expect(await count(alice)).toBe(1);
    });

    it.each([
      [
        'Sec-Fetch-Site: same-site (a sibling subdomain)',
        { 'Sec-Fetch-Site': 'same-site', Origin: 'http://evil.acme.test' },
      ],
      [
        'Sec-Fetch-Site: cross-site',
        { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://attacker.example' },
      ],
      ['Sec-Fetch-Site: none (typed into the address bar)', { 'Sec-Fetch-Site': 'none' }],
      [
        'Sec-Fetch-Site: same-site even with its own Origin',
        { 'Sec-Fetch-Site': 'same-site', Origin: 'http://acme.test' },
      ],
      ['a sibling Origin', { Origin: 'http://evil.acme.test' }],
      ["another tenant's Origin", { Origin: 'http://globex.test' }],
      ['another Origin', { Origin: 'https://attacker.example' }],
      ['its own host over another scheme', { Origin: 'https://acme.test' }],
      ['Origin: null', { Origin: 'null' }],
    ])(
      'an unsafe request is refused with %s, its session untouched',
      async (_, headers: Headers) => {
        const alice = await loggedIn();
        const res = await increment(alice, headers);
        expect(res.status).toBe(403);
        expect(res.body).toEqual({
          statusCode: 403,
          error: 'Forbidden',
          code: 'CSRF_REJECTED',
          message: expect.stringMatching(/Cross-origin request refused/),
        });
        expect(await count(alice)).toBe(0);
      },
    );

    it("one tenant's trusted origins are not another's", async () => {
      const bob = await loggedIn('globex.test', 'bob');
      expect((await increment(bob, { Origin: 'https://partner.example.org' })).status).toBe(403);
      expect((await increment(bob, { Origin: 'https://console.example.net' })).status).toBe(201);
    });

    it.each(['DELETE', 'PUT', 'PATCH'])('%s is checked like POST', async (method) => {
      const alice = await loggedIn();
      const res = await send(alice, method.toLowerCase() as 'delete', '/sessions/whatever', {
        'Sec-Fetch-Site': 'cross-site',
      });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('CSRF_REJECTED');
    });

    it.each(['GET', 'HEAD', 'OPTIONS'])('%s passes whatever the browser says', async (method) => {
      const alice = await loggedIn();
      const res = await send(alice, method.toLowerCase() as 'get', '/me', {
        'Sec-Fetch-Site': 'cross-site',
        Origin: 'https://attacker.example',
      });
      expect(res.status).not.toBe(403);
      if (method === 'GET') expect(res.body.user).toBe('alice');
    });

    it('an unknown host is still 404, whatever the browser says', async () => {
      const res = await request(t!.http)
        .post('/visit')
        .set('Host', 'nobody.test')
        .set('Sec-Fetch-Site', 'cross-site');
      expect(res.status).toBe(404);
    });
  });

  describe('behind a proxy', () => {
    const viaProxy = (origin: string) =>
      request(t!.http)
        .post('/visit')
        .set('Host', 'internal:8080')
        .set('X-Forwarded-Host', 'acme.test')
        .set('X-Forwarded-Proto', 'https')
        .set('Origin', origin);

    it('reads its own origin as it reads the tenant: X-Forwarded-* count under trust proxy', async () => {
      await start({ appName: 'csrf-proxy' }, { trustProxy: 'loopback' });
      expect((await viaProxy('https://acme.test')).status).toBe(201);
      expect((await viaProxy('http://internal:8080')).status).toBe(403);
    });

    it('without trust proxy, X-Forwarded-* name no origin (nor tenant)', async () => {
      await start({ appName: 'csrf-no-proxy', tenant: { byHost: { internal: 'acme' } } });
      expect((await viaProxy('https://acme.test')).status).toBe(403);
      expect((await viaProxy('http://internal:8080')).status).toBe(201);
    });
  });

  describe('Redis work', () => {
    const own = useOwnRedisServer();

    it('a refused request sends Redis no command; an accepted one does', async () => {
      await start({ appName: 'csrf-commands', redis: own.server.url });
      const alice = await loggedIn();
      const refused = await countCommands(own.redis, async () => {
        expect((await increment(alice, { 'Sec-Fetch-Site': 'same-site' })).status).toBe(403);
        expect((await increment(alice, { Origin: 'https://attacker.example' })).status).toBe(403);
      });
      expect(refused).toEqual({});
      const accepted = await countCommands(own.redis, async () => {
        expect((await increment(alice, { 'Sec-Fetch-Site': 'same-origin' })).status).toBe(201);
      });
      expect(accepted.evalsha).toBe(1);
    });

    it('in token mode, a request without a token sends Redis no command', async () => {
      await start({ appName: 'csrf-token-commands', redis: own.server.url, csrf: { token: true } });
      const alice = await loggedInWithToken();
      const refused = await countCommands(own.redis, async () => {
        const res = await increment(alice, { 'Sec-Fetch-Site': 'same-origin' });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('CSRF_TOKEN_INVALID');
      });
      expect(refused).toEqual({});
    });
  });

  /** GET the token as the visitor; the visitor keeps the cookie it gets. */
  async function tokenOf(visitor: Visitor): Promise<string> {
    const res = await visitor.get('/csrf-token');
    expect(res.status).toBe(200);
    return res.body.token as string;
  }

  /** POST /login as alice with extra headers; the visitor keeps the new session's cookie. */
  async function logIn(visitor: Visitor, headers: Headers) {
    const res = await send(visitor, 'post', '/login', headers).send({ user: 'alice' });
    const cookie = /^sid=([^;]+)/.exec(res.headers['set-cookie']?.[0] ?? '');
    if (res.status === 201 && cookie) visitor.cookies.set('sid', cookie[1]);
    return res;
  }

  /** A login in token mode: the anonymous visitor's token first, then the login with it. */
  async function loggedInWithToken(header = 'x-csrf-token'): Promise<Visitor> {
    const visitor = new Visitor(t!.http, 'acme.test');
    expect((await logIn(visitor, { [header]: await tokenOf(visitor) })).status).toBe(201);
    return visitor;
  }

  describe('token mode', () => {
    it('a token for an anonymous visitor stores its session, and logs it in', async () => {
      await start({ appName: 'csrf-token-login', csrf: { token: true } });
      const visitor = new Visitor(t!.http, 'acme.test');
      const token = await tokenOf(visitor);
      expect(visitor.sessionId()).toBeDefined();
      expect(
        await t!.registry.store('acme').then((s) => s.peek(visitor.sessionId()!)),
      ).not.toBeNull();
      expect(await tokenOf(visitor)).toBe(token);

      expect((await logIn(visitor, {})).body.code).toBe('CSRF_TOKEN_INVALID');
      // Another token of the same length (its first character changed, whatever it was).
      const wrong = { 'x-csrf-token': (token[0] === 'A' ? 'B' : 'A') + token.slice(1) };
      expect((await logIn(visitor, wrong)).status).toBe(403);
      expect((await logIn(visitor, { 'x-csrf-token': token })).status).toBe(201);
    });

    it('refuses an unsafe request without the token, with a wrong one, or with another session’s', async () => {
      await start({ appName: 'csrf-token-refused', csrf: { token: true } });
      const alice = await loggedInWithToken();
      const other = await loggedInWithToken();
      const token = await tokenOf(alice);
      for (const headers of [
        {} as Headers,
        { 'x-csrf-token': '' },
        { 'x-csrf-token': 'not-the-token' },
        { 'x-csrf-token': await tokenOf(other) },
      ]) {
        const res = await increment(alice, headers);
        expect(res.status).toBe(403);
        expect(res.body).toEqual({
          statusCode: 403,
          error: 'Forbidden',
          code: 'CSRF_TOKEN_INVALID',
          message: expect.stringMatching(/CSRF token/),
        });
      }
      expect(await count(alice)).toBe(0);
      expect((await increment(alice, { 'x-csrf-token': token })).status).toBe(201);
      expect(await count(alice)).toBe(1);
    });

    it('rotates the token at login: the token from before is refused after it', async () => {
      await start({ appName: 'csrf-token-rotates', csrf: { token: true } });
      const visitor = new Visitor(t!.http, 'acme.test');
      const before = await tokenOf(visitor);
      expect((await logIn(visitor, { 'x-csrf-token': before })).status).toBe(201);

      expect((await increment(visitor, { 'x-csrf-token': before })).status).toBe(403);
      const after = await tokenOf(visitor);
      expect(after).not.toBe(before);
      expect((await increment(visitor, { 'x-csrf-token': after })).status).toBe(201);
    });

    it('rotates the token when an identity appears on the session in place (no new session id)', async () => {
      // The app's own login field, set without regenerating: here, a visit makes a "visitor".
      await start({
        appName: 'csrf-token-in-place',
        csrf: { token: true },
        identity: (session) => (session.visits ? 'visitor' : undefined),
      });
      const visitor = new Visitor(t!.http, 'acme.test');
      const before = await tokenOf(visitor);
      const visit = (token: string) => send(visitor, 'post', '/visit', { 'x-csrf-token': token });
      const first = await visit(before);
      expect(first.status).toBe(201);
      expect(first.headers['set-cookie'][0]).toContain(`sid=${visitor.cookies.get('sid')};`);
      expect((await visit(before)).status).toBe(403);
      const after = await tokenOf(visitor);
      expect(after).not.toBe(before);
      expect((await visit(after)).body.visits).toBe(2);
    });

    it('still checks where the request came from: the right token from a sibling is refused', async () => {
      await start({ appName: 'csrf-token-origin', csrf: { token: true } });
      const alice = await loggedInWithToken();
      const token = await tokenOf(alice);
      const res = await increment(alice, { 'Sec-Fetch-Site': 'same-site', 'x-csrf-token': token });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('CSRF_REJECTED');
    });

    it('reads the token from the configured header', async () => {
      await start({
        appName: 'csrf-token-header',
        csrf: { token: { headerName: 'X-XSRF-Token' } },
      });
      const alice = await loggedInWithToken('x-xsrf-token');
      const token = await tokenOf(alice);
      expect((await increment(alice, { 'x-csrf-token': token })).status).toBe(403);
      expect((await increment(alice, { 'X-XSRF-Token': token })).status).toBe(201);
    });
  });

  it('csrf: false turns the defence off', async () => {
    await start({ appName: 'csrf-off', csrf: false });
    const alice = await loggedIn();
    const forged = { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://attacker.example' };
    expect((await increment(alice, forged)).status).toBe(201);
  });

  describe('options', () => {
    it.each([
      [
        { csrf: { trustedOrigins: ['https://console.example.net/'] } },
        /csrf\.trustedOrigins: "https:\/\/console\.example\.net\/" is not an origin.*did you mean "https:\/\/console\.example\.net"/,
      ],
      [
        { csrf: { trustedOrigins: 'https://console.example.net' } },
        /csrf\.trustedOrigins must be an array/,
      ],
      [
        { csrf: { token: { headerName: 'x csrf' } } },
        /csrf\.token must be true, false or \{ headerName \}/,
      ],
      [{ csrf: true }, /csrf must be false or an object/],
      [
        { tenantSettings: { acme: { trustedOrigins: ['acme.partner.com'] } } },
        /tenantSettings\[acme\]\.trustedOrigins: "acme\.partner\.com" is not an origin/,
      ],
    ])('refuses unusable CSRF options at start-up (%#)', async (options, message) => {
      await expect(
        createTestApp({ appName: 'csrf-bad', ...(options as Partial<TenantSessionModuleOptions>) }),
      ).rejects.toThrow(message);
    });

    it("checks a tenant's trusted origins from a settings function when its store is built", async () => {
      await start({
        appName: 'csrf-bad-tenant',
        tenantSettings: (tenant) => (tenant === 'acme' ? { trustedOrigins: ['nope'] } : undefined),
      });
      await expect(t!.registry.get('acme')).rejects.toThrow(
        /tenantSettings\[acme\]\.trustedOrigins: "nope" is not an origin/,
      );
      expect((await request(t!.http).post('/visit').set('Host', 'globex.test')).status).toBe(201);
    });
  });
});
