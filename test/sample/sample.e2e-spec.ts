import { Redis } from 'ioredis';
import request from 'supertest';
import { loadSampleConfig } from '../../sample/sample-config.js';
import { startSample, type RunningSample } from '../support/sample.js';
import { RECENT_LOGIN_MAX_AGE_S, untilLoginIsOld } from '../support/test-app.js';
import { testPlatform } from '../support/testing-app.js';
import { Visitor } from '../support/visitor.js';

const ACME = 'acme.localhost';
const GLOBEX = 'globex.localhost';

describe('sample app over HTTP', () => {
  let redis: Redis;
  let sample: RunningSample;

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(() => redis.quit());
  beforeEach(async () => {
    sample = await startSample();
  });
  afterEach(() => sample.close());

  const visitor = (host = ACME, userAgent = 'jest-visitor') =>
    new Visitor(sample.http, host, userAgent);
  const loggedIn = async (username: string, host = ACME, userAgent?: string) => {
    const v = visitor(host, userAgent);
    const res = await v.post('/auth/login', { username, password: `${username}-pass` });
    expect(res.status).toBe(200);
    return v;
  };
  const sessionKey = (v: Visitor, tenant = 'acme') =>
    `sessions:${tenant}:${sample.appName}:${v.sessionId()}`;

  describe('POST /auth/login', () => {
    it('logs a demo user in: 200 {user, tenant} and a signed HttpOnly session cookie', async () => {
      const v = visitor();
      const res = await v.post('/auth/login', { username: 'alice', password: 'alice-pass' });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: 'alice', tenant: 'acme' });
      expect(String(res.headers['set-cookie'])).toMatch(/^sid=s%3A[\w.~-]+\.[^;]+;.*HttpOnly/);
      expect(await redis.exists(sessionKey(v))).toBe(1);
    });

    it('gives a new session id on every login and drops the previous session', async () => {
      const v = await loggedIn('alice');
      const first = v.sessionId();
      const firstKey = sessionKey(v);

      await v.post('/auth/login', { username: 'bob', password: 'bob-pass' });

      expect(v.sessionId()).not.toBe(first);
      expect(await redis.exists(firstKey)).toBe(0);
      expect((await v.get('/me')).body.user).toBe('bob');
    });

    it.each([
      ['a wrong password', { username: 'alice', password: 'bob-pass' }],
      ['an unknown user', { username: 'mallory', password: 'mallory-pass' }],
    ])('answers %s with 401 and no session', async (_, body) => {
      const v = visitor();
      const res = await v.post('/auth/login', body);

      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ statusCode: 401, message: 'Wrong username or password' });
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(await redis.keys(`sessions:acme:${sample.appName}:*`)).toEqual([]);
    });

    it.each([
      ['no password', { username: 'alice' }],
      ['a number for a username', { username: 42, password: 'alice-pass' }],
      ['an empty username', { username: '', password: 'alice-pass' }],
      ['a 10 kB password', { username: 'alice', password: 'x'.repeat(10_000) }],
    ])('answers a body with %s with 400', async (_, body) => {
      const res = await visitor().post('/auth/login', body);

      expect(res.status).toBe(400);
      expect(res.body.statusCode).toBe(400);
    });

    it('refuses a form-encoded login (cross-site forms cannot send JSON) with 415', async () => {
      const res = await request(sample.http)
        .post('/auth/login')
        .set('Host', ACME)
        .type('form')
        .send({ username: 'alice', password: 'alice-pass' });

      expect(res.status).toBe(415);
      expect(res.headers['set-cookie']).toBeUndefined();
    });
  });

  describe('HTTP_PLATFORM', () => {
    it("runs on the platform it names (this suite's)", () => {
      expect(sample.app.getHttpAdapter().getType()).toBe(testPlatform());
    });

    it('reads an empty body sent as JSON as {}, on either platform', async () => {
      const v = await loggedIn('alice');

      const res = await request(sample.http)
        .post('/auth/logout')
        .set('Host', ACME)
        .set('Cookie', v.cookieHeader)
        .set('Content-Type', 'application/json');

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ loggedOut: true });
    });
  });

  describe('POST /auth/logout', () => {
    it('destroys the session and clears the cookie', async () => {
      const v = await loggedIn('alice');
      const key = sessionKey(v);
      const stale = v.cookieHeader;

      const res = await v.post('/auth/logout');

      expect(res.status).toBe(200);
      expect(String(res.headers['set-cookie'])).toMatch(/^sid=;.*Expires=Thu, 01 Jan 1970/);
      expect(await redis.exists(key)).toBe(0);
      const replayed = await request(sample.http).get('/me').set('Host', ACME).set('Cookie', stale);
      expect(replayed.status).toBe(401);
    });
  });

  describe('GET /me and POST /increment', () => {
    it('GET /me is 401 JSON before login and {user, tenant, count} after', async () => {
      const v = visitor();
      const before = await v.get('/me');
      expect(before.status).toBe(401);
      expect(before.body).toMatchObject({ statusCode: 401, message: 'Login required' });

      await v.post('/auth/login', { username: 'alice', password: 'alice-pass' });

      const after = await v.get('/me');
      expect(after.status).toBe(200);
      expect(after.body).toEqual({ user: 'alice', tenant: 'acme', count: 0 });
    });

    it('counts per session: two devices of one user have their own counters', async () => {
      const laptop = await loggedIn('alice');
      const phone = await loggedIn('alice');

      expect((await laptop.post('/increment')).body).toEqual({ count: 1 });
      expect((await laptop.post('/increment')).body).toEqual({ count: 2 });
      expect((await phone.post('/increment')).body).toEqual({ count: 1 });
      expect((await laptop.get('/me')).body.count).toBe(2);
    });

    it('POST /increment is 401 when not logged in', async () => {
      const res = await visitor().post('/increment');

      expect(res.status).toBe(401);
    });

    it.each(['5001', '-1', 'abc', '1e3', ''])('refuses delayMs=%s with 400', async (delay) => {
      const v = await loggedIn('alice');

      const res = await v.post(`/increment?delayMs=${delay}`);

      expect(res.status).toBe(400);
      expect((await v.get('/me')).body.count).toBe(0);
    });

    it('waits delayMs before counting', async () => {
      const v = await loggedIn('alice');
      const started = Date.now();

      const res = await v.post('/increment?delayMs=300');

      expect(res.body).toEqual({ count: 1 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('a session revoked during a slow increment is not written back', async () => {
      const slow = await loggedIn('alice');
      const other = await loggedIn('alice');
      const key = sessionKey(slow);

      const arrived = new Promise((resolve) => sample.http.once('request', resolve));
      const pending = slow.post('/increment?delayMs=1000');
      await arrived;
      // The session loads within milliseconds of arrival; the handler then waits a second.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await other.post('/sessions/revoke-others')).body).toEqual({ revoked: 1 });
      // It had loaded the session before the revocation; its write-back finds the session gone,
      // does not bring it back, and, since nothing was stored, does not acknowledge the change.
      const late = await pending;
      expect(late.status).toBe(401);
      expect(late.body.code).toBe('SESSION_REVOKED');
      expect(await redis.exists(key)).toBe(0);
      expect((await slow.get('/me')).status).toBe(401);
    });
  });

  describe('GET /sessions', () => {
    it('lists my sessions with opaque handles, the current one marked', async () => {
      const laptop = await loggedIn('alice', ACME, 'Laptop/1.0');
      const phone = await loggedIn('alice', ACME, 'Phone/2.0');
      await loggedIn('bob');

      const res = await laptop.get('/sessions');

      expect(res.status).toBe(200);
      const { sessions } = res.body as { sessions: Record<string, unknown>[] };
      expect(sessions).toHaveLength(2);
      expect(sessions.map((s) => [s.userAgent, s.current])).toEqual([
        ['Laptop/1.0', true],
        ['Phone/2.0', false],
      ]);
      for (const s of sessions) {
        expect(Object.keys(s).sort()).toEqual(
          [
            'absoluteExpiresAt',
            'authenticatedAt',
            'createdAt',
            'current',
            'device',
            'expiresAt',
            'id',
            'ip',
            'lastSeenAt',
            'userAgent',
          ].sort(),
        );
        expect(s.id).toMatch(/^[\w-]{22}$/);
        expect(s.device).toEqual({ type: 'unknown' });
        expect([laptop.sessionId(), phone.sessionId()]).not.toContain(s.id);
        expect(Date.parse(s.expiresAt as string)).toBeGreaterThan(Date.now() + 3_500_000);
      }
      expect(res.body.total).toBe(2);
      expect(res.body).not.toHaveProperty('next');
    });

    it('pages with ?limit= and ?cursor=: `next` leads to the rest, each session listed once', async () => {
      const browsers = [];
      for (const agent of ['One/1', 'Two/1', 'Three/1']) {
        browsers.push(await loggedIn('alice', ACME, agent));
      }

      const first = await browsers[0].get('/sessions?limit=2');
      const rest = await browsers[0].get(
        `/sessions?limit=2&cursor=${encodeURIComponent(first.body.next)}`,
      );

      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ total: 3, next: expect.any(String) });
      expect(first.body.sessions).toHaveLength(2);
      expect(rest.status).toBe(200);
      expect(rest.body.total).toBe(3);
      expect(rest.body).not.toHaveProperty('next');
      const agents = [...first.body.sessions, ...rest.body.sessions].map(
        (s: { userAgent: string }) => s.userAgent,
      );
      expect(agents.sort()).toEqual(['One/1', 'Three/1', 'Two/1']);
    });

    it.each(['limit=0', 'limit=1001', 'limit=abc', 'limit=', 'cursor=nope', 'cursor=a&cursor=b'])(
      'answers ?%s with 400 JSON that says what to send',
      async (query) => {
        const alice = await loggedIn('alice');

        const res = await alice.get(`/sessions?${query}`);

        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({
          statusCode: 400,
          code: 'INVALID_SESSION_PAGE',
          message: expect.stringMatching(/limit must be|nextCursor of an earlier page/),
        });
      },
    );

    it('is 401 when not logged in', async () => {
      expect((await visitor().get('/sessions')).status).toBe(401);
    });
  });

  describe('DELETE /sessions/:id', () => {
    it('signs out that session only', async () => {
      const laptop = await loggedIn('alice', ACME, 'Laptop/1.0');
      const phone = await loggedIn('alice', ACME, 'Phone/2.0');
      const { sessions } = (await laptop.get('/sessions')).body;
      const phoneHandle = sessions.find((s: { current: boolean }) => !s.current).id;

      const res = await laptop.delete(`/sessions/${phoneHandle}`);

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ revoked: 1 });
      expect((await phone.get('/me')).status).toBe(401);
      expect((await laptop.get('/me')).status).toBe(200);
      expect((await laptop.get('/sessions')).body.sessions).toHaveLength(1);
    });

    it("answers 404 for someone else's handle and leaves their session alone", async () => {
      const alice = await loggedIn('alice');
      const bob = await loggedIn('bob');
      const [bobsSession] = (await bob.get('/sessions')).body.sessions;

      const res = await alice.delete(`/sessions/${bobsSession.id}`);

      expect(res.status).toBe(404);
      expect((await bob.get('/me')).status).toBe(200);
    });

    it('is 401 when not logged in', async () => {
      const alice = await loggedIn('alice');
      const [mine] = (await alice.get('/sessions')).body.sessions;

      expect((await visitor().delete(`/sessions/${mine.id}`)).status).toBe(401);
      expect((await alice.get('/me')).status).toBe(200);
    });
  });

  describe('POST /sessions/revoke-others', () => {
    it('signs out every other session of mine and keeps this one', async () => {
      const here = await loggedIn('alice');
      const others = [await loggedIn('alice'), await loggedIn('alice')];
      const bob = await loggedIn('bob');

      const res = await here.post('/sessions/revoke-others');

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ revoked: 2 });
      for (const other of others) expect((await other.get('/me')).status).toBe(401);
      expect((await here.get('/me')).status).toBe(200);
      expect((await bob.get('/me')).status).toBe(200);
    });

    it('is 401 when not logged in', async () => {
      expect((await visitor().post('/sessions/revoke-others')).status).toBe(401);
    });
  });

  describe('POST /auth/password', () => {
    it('changes the password and signs out the other sessions', async () => {
      const here = await loggedIn('alice');
      const other = await loggedIn('alice');

      const res = await here.post('/auth/password', {
        currentPassword: 'alice-pass',
        newPassword: 'a-much-better-one',
      });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ revoked: 1 });
      expect((await other.get('/me')).status).toBe(401);
      expect((await here.get('/me')).status).toBe(200);
      const old = await visitor().post('/auth/login', {
        username: 'alice',
        password: 'alice-pass',
      });
      expect(old.status).toBe(401);
      const renewed = await visitor().post('/auth/login', {
        username: 'alice',
        password: 'a-much-better-one',
      });
      expect(renewed.status).toBe(200);
    });

    it('changes it in this tenant only', async () => {
      const acme = await loggedIn('alice', ACME);
      await acme.post('/auth/password', {
        currentPassword: 'alice-pass',
        newPassword: 'a-much-better-one',
      });

      const globex = await visitor(GLOBEX).post('/auth/login', {
        username: 'alice',
        password: 'alice-pass',
      });

      expect(globex.status).toBe(200);
    });

    it('answers a wrong current password with 403 and signs nobody out', async () => {
      const here = await loggedIn('alice');
      const other = await loggedIn('alice');

      const res = await here.post('/auth/password', {
        currentPassword: 'not-it',
        newPassword: 'a-much-better-one',
      });

      expect(res.status).toBe(403);
      expect((await other.get('/me')).status).toBe(200);
      expect(
        (await visitor().post('/auth/login', { username: 'alice', password: 'alice-pass' })).status,
      ).toBe(200);
    });

    it('answers a new password under 8 characters with 400', async () => {
      const here = await loggedIn('alice');

      const res = await here.post('/auth/password', {
        currentPassword: 'alice-pass',
        newPassword: 'short',
      });

      expect(res.status).toBe(400);
    });

    it('is 401 when not logged in', async () => {
      const res = await visitor().post('/auth/password', {
        currentPassword: 'alice-pass',
        newPassword: 'a-much-better-one',
      });

      expect(res.status).toBe(401);
    });
  });

  describe('POST /admin/users/:userId/revoke', () => {
    it('is 401 for an anonymous visitor', async () => {
      const bob = await loggedIn('bob');

      const res = await visitor().post('/admin/users/bob/revoke');

      expect(res.status).toBe(401);
      expect((await bob.get('/me')).status).toBe(200);
    });

    it('is 403 for a user who is not an admin', async () => {
      const alice = await loggedIn('alice');
      const bob = await loggedIn('bob');

      const res = await alice.post('/admin/users/bob/revoke');

      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ statusCode: 403, message: 'Admins only' });
      expect((await bob.get('/me')).status).toBe(200);
    });

    it("signs out every session of the user in the admin's tenant", async () => {
      const admin = await loggedIn('admin');
      const bobs = [await loggedIn('bob'), await loggedIn('bob')];
      const bobOnGlobex = await loggedIn('bob', GLOBEX);
      const alice = await loggedIn('alice');

      const res = await admin.post('/admin/users/bob/revoke');

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ revoked: 2 });
      for (const bob of bobs) expect((await bob.get('/me')).status).toBe(401);
      expect((await bobOnGlobex.get('/me')).status).toBe(200);
      expect((await alice.get('/me')).status).toBe(200);
      expect((await admin.get('/me')).status).toBe(200);
    });

    it('answers a user id no session can have (300 characters) with 400 INVALID_USER_ID', async () => {
      const admin = await loggedIn('admin');

      const res = await admin.post(`/admin/users/${'x'.repeat(300)}/revoke`);

      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'INVALID_USER_ID',
        message: 'userId must be a non-empty string of at most 256 characters',
      });
      expect((await admin.get('/me')).status).toBe(200);
    });

    it('is 403 for a user who is not an admin, whatever the user id', async () => {
      const alice = await loggedIn('alice');

      const res = await alice.post(`/admin/users/${'x'.repeat(300)}/revoke`);

      expect(res.status).toBe(403);
    });

    it('an admin of globex is no admin on acme', async () => {
      const globexAdmin = await loggedIn('admin', GLOBEX);
      const bob = await loggedIn('bob');

      const replayed = await request(sample.http)
        .post('/admin/users/bob/revoke')
        .set('Host', ACME)
        .set('Cookie', globexAdmin.cookieHeader);

      expect(replayed.status).toBe(401);
      expect((await bob.get('/me')).status).toBe(200);
    });
  });

  describe('recent login (step-up, RECENT_LOGIN_MAX_AGE)', () => {
    beforeEach(async () => {
      await sample.close();
      sample = await startSample({ RECENT_LOGIN_MAX_AGE: String(RECENT_LOGIN_MAX_AGE_S) });
    });

    it('asks an old login to confirm the password before revoking, and then revokes', async () => {
      const admin = await loggedIn('admin');
      const bob = await loggedIn('bob');
      const [, listed] = [await loggedIn('admin'), await admin.get('/sessions')];
      const other = listed.body.sessions.find((s: { current: boolean }) => !s.current).id;
      await untilLoginIsOld();

      for (const attempt of [
        () => admin.post('/sessions/revoke-others'),
        () => admin.delete(`/sessions/${other}`),
        () => admin.post('/admin/users/bob/revoke'),
      ]) {
        const refused = await attempt();
        expect(refused.status).toBe(401);
        expect(refused.body).toMatchObject({
          code: 'RECENT_LOGIN_REQUIRED',
          maxAge: RECENT_LOGIN_MAX_AGE_S,
        });
      }
      expect((await bob.get('/me')).status).toBe(200);
      expect((await admin.get('/sessions')).body.sessions).toHaveLength(2);

      const wrong = await admin.post('/auth/reauthenticate', { password: 'bob-pass' });
      expect(wrong.status).toBe(403);
      expect((await admin.post('/admin/users/bob/revoke')).status).toBe(401);

      const sid = admin.sessionId();
      const confirmed = await admin.post('/auth/reauthenticate', { password: 'admin-pass' });
      expect(confirmed.status).toBe(200);
      expect(Date.parse(confirmed.body.reauthenticatedAt)).toBeGreaterThan(Date.now() - 5000);
      expect(admin.sessionId()).toBe(sid);
      expect((await admin.get('/me')).body).toMatchObject({ user: 'admin' });
      expect((await admin.post('/admin/users/bob/revoke')).body).toEqual({ revoked: 1 });
      expect((await admin.post('/sessions/revoke-others')).body).toEqual({ revoked: 1 });
    });

    it('counts a password change as a re-authentication', async () => {
      const alice = await loggedIn('alice');
      await untilLoginIsOld();
      const changed = await alice.post('/auth/password', {
        currentPassword: 'alice-pass',
        newPassword: 'alice-new-pass',
      });
      expect(changed.status).toBe(200);
      // With its code: a refusal says which check refused (a stale login, or no session).
      const revoked = await alice.post('/sessions/revoke-others');
      expect({ status: revoked.status, code: revoked.body.code }).toEqual({
        status: 200,
        code: undefined,
      });
    });

    it('is 401 Login required for an anonymous visitor', async () => {
      const res = await visitor().post('/auth/reauthenticate', { password: 'x' });
      expect(res.status).toBe(401);
    });
  });

  describe('GET /', () => {
    it('shows an anonymous visitor the login form, and stores nothing', async () => {
      const res = await visitor().get('/');

      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<b id="tenant">acme</b>');
      expect(res.text).toContain('id="login-form"');
      expect(res.text).not.toContain('id="sessions"');
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(await redis.keys(`sessions:*:${sample.appName}:*`)).toEqual([]);
    });

    it('runs only its own inline script and style (CSP nonce), and is never cached', async () => {
      const res = await visitor().get('/');
      const nonce = /script-src 'nonce-([^']+)'/.exec(res.headers['content-security-policy'])?.[1];

      expect(nonce).toBeDefined();
      expect(res.text).toContain(`<script nonce="${nonce}">`);
      expect(res.text).toContain(`<style nonce="${nonce}">`);
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['cache-control']).toBe('no-store');
      const again = await visitor().get('/');
      expect(again.headers['content-security-policy']).not.toContain(nonce);
    });

    it('shows a logged-in user the session panel and their sessions', async () => {
      const laptop = await loggedIn('alice', ACME, 'Laptop/1.0');
      await loggedIn('alice', ACME, 'Phone/2.0');
      await laptop.post('/increment');
      await laptop.post('/increment');
      const { sessions } = (await laptop.get('/sessions')).body;
      const phone = sessions.find((s: { current: boolean }) => !s.current);

      const res = await laptop.get('/');

      const sid = laptop.sessionId()!;
      expect(res.text).toContain('<dd id="user">alice</dd>');
      expect(res.text).toContain('<dd id="this-device">Laptop/1.0</dd>');
      expect(res.text).not.toContain(sid.slice(0, 8));
      expect(res.text).toContain('<dd id="count">2</dd>');
      const expiresAt = Date.parse(/data-expires-at="([^"]+)"/.exec(res.text)![1]);
      expect(expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
      // Dated by the store clock's estimate, never behind Redis's: ahead by up to a round trip.
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000 + 1_000);
      const current = sessions.find((s: { current: boolean }) => s.current);
      expect(res.text).toMatch(
        new RegExp(
          `<dd id="ends-at"><time datetime="${current.absoluteExpiresAt}" data-kind="at">`,
        ),
      );
      expect(res.text.match(/<li class="session/g)).toHaveLength(2);
      expect(res.text).toContain('<span class="tag">this device</span>');
      expect(res.text).toContain(`data-delete="/sessions/${phone.id}"`);
      expect(res.text).toContain('id="revoke-others"');
      expect(res.text).not.toContain('id="admin-form"');
    });

    it('shows the admin form to admins only', async () => {
      const admin = await loggedIn('admin');

      expect((await admin.get('/')).text).toContain('id="admin-form"');
    });

    it('escapes what it shows (a user agent is attacker-controlled)', async () => {
      const viewer = await loggedIn('alice');
      await loggedIn('alice', ACME, '<script>alert("x")</script>');

      const res = await viewer.get('/');

      expect(res.text).not.toContain('<script>alert');
      expect(res.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    });
  });

  describe('tenants', () => {
    it.each(['/', '/me', '/auth/login'])(
      'answers %s on an unknown Host with 404 JSON',
      async (path) => {
        const res = await request(sample.http).get(path).set('Host', 'initech.localhost');

        expect(res.status).toBe(404);
        expect(res.body).toEqual({
          statusCode: 404,
          error: 'Unknown Tenant',
          code: 'UNKNOWN_TENANT',
          message: 'Unknown tenant',
        });
      },
    );

    it('an acme session is no session on globex', async () => {
      const alice = await loggedIn('alice', ACME);

      const replayed = await request(sample.http)
        .get('/me')
        .set('Host', GLOBEX)
        .set('Cookie', alice.cookieHeader);

      expect(replayed.status).toBe(401);
      expect((await alice.get('/me')).body.tenant).toBe('acme');
    });

    it('keeps sessions under sessions:<tenant>:<app>:<sid> with SESSION_IDLE_TTL', async () => {
      await sample.close();
      sample = await startSample({ SESSION_IDLE_TTL: '120' });
      const v = await loggedIn('alice', GLOBEX);

      const key = `sessions:globex:${sample.appName}:${v.sessionId()}`;
      expect(await redis.keys(`sessions:*:${sample.appName}:*`)).toEqual([key]);
      expect(await redis.pttl(key)).toBeGreaterThan(110_000);
      expect(await redis.pttl(key)).toBeLessThanOrEqual(120_000);
    });

    it('ends a session SESSION_ABSOLUTE_LIFETIME after its login, however active', async () => {
      await sample.close();
      sample = await startSample({ SESSION_ABSOLUTE_LIFETIME: '5' });
      const v = await loggedIn('alice');
      await v.post('/increment');
      await v.get('/me');

      expect(await redis.pttl(sessionKey(v))).toBeLessThanOrEqual(6000);
    });
  });
});

describe('sample app without REDIS_URL', () => {
  it('runs on the embedded in-process store', async () => {
    const sample = await startSample({ REDIS_URL: undefined });
    try {
      const v = new Visitor(sample.http, ACME);
      await v.post('/auth/login', { username: 'alice', password: 'alice-pass' });
      await v.post('/increment');

      expect((await v.get('/me')).body).toEqual({ user: 'alice', tenant: 'acme', count: 1 });
    } finally {
      await sample.close();
    }
  });
});

describe('sample configuration', () => {
  it('has the documented defaults', () => {
    const config = loadSampleConfig({ SESSION_SECRET: 'x'.repeat(32) });

    expect(config).toEqual({
      port: 3000,
      redisUrl: undefined,
      sessionSecret: 'x'.repeat(32),
      appName: 'sample',
      tenantHosts: { 'acme.localhost': 'acme', 'globex.localhost': 'globex' },
      idleTtlSeconds: 3600,
      absoluteLifetimeSeconds: 86400,
      recentLoginMaxAgeSeconds: 600,
      trustProxy: false,
      loginAttemptsPerMinute: 10,
      redisTimeoutMs: 1000,
      httpPlatform: 'express',
      warnings: [],
    });
  });

  it('reads every variable', () => {
    const config = loadSampleConfig({
      PORT: '8080',
      REDIS_URL: 'redis://cache:6380',
      SESSION_SECRET: 'y'.repeat(32),
      APP_NAME: 'shop',
      TENANT_HOSTS: ' Shop.Example.com = Initech , umbrella.test=umbrella ',
      SESSION_IDLE_TTL: '600',
      SESSION_ABSOLUTE_LIFETIME: '7200',
      RECENT_LOGIN_MAX_AGE: '300',
      TRUST_PROXY: '2',
      LOGIN_ATTEMPTS_PER_MINUTE: '5',
      REDIS_TIMEOUT_MS: '2500',
    });

    expect(config).toMatchObject({
      port: 8080,
      redisUrl: 'redis://cache:6380',
      appName: 'shop',
      tenantHosts: { 'shop.example.com': 'initech', 'umbrella.test': 'umbrella' },
      idleTtlSeconds: 600,
      absoluteLifetimeSeconds: 7200,
      recentLoginMaxAgeSeconds: 300,
      trustProxy: 2,
      loginAttemptsPerMinute: 5,
      redisTimeoutMs: 2500,
    });
  });

  it('takes HTTP_PLATFORM=fastify, with TRUST_PROXY as addresses', () => {
    const config = loadSampleConfig({
      HTTP_PLATFORM: 'fastify',
      TRUST_PROXY: 'loopback, 10.0.0.0/8',
    });

    expect(config).toMatchObject({ httpPlatform: 'fastify', trustProxy: 'loopback, 10.0.0.0/8' });
  });

  it('makes up a random secret outside production, with a warning', () => {
    const a = loadSampleConfig({});
    const b = loadSampleConfig({});

    expect(a.sessionSecret).not.toBe(b.sessionSecret);
    expect(a.sessionSecret.length).toBeGreaterThanOrEqual(32);
    expect(a.warnings).toEqual([expect.stringContaining('SESSION_SECRET is not set')]);
  });

  it.each([
    [{ NODE_ENV: 'production' }, /SESSION_SECRET must be set/],
    [{ PORT: 'http' }, /PORT must be an integer/],
    [{ SESSION_IDLE_TTL: '0' }, /SESSION_IDLE_TTL must be an integer/],
    [{ SESSION_ABSOLUTE_LIFETIME: '1h' }, /SESSION_ABSOLUTE_LIFETIME must be an integer/],
    [{ RECENT_LOGIN_MAX_AGE: '-5' }, /RECENT_LOGIN_MAX_AGE must be an integer/],
    [{ REDIS_TIMEOUT_MS: '0' }, /REDIS_TIMEOUT_MS must be an integer from 1 to 60000/],
    [{ TENANT_HOSTS: 'acme.localhost' }, /TENANT_HOSTS: expected host=tenant/],
    [{ TENANT_HOSTS: ' , ' }, /TENANT_HOSTS names no tenant/],
    [{ HTTP_PLATFORM: 'koa' }, /HTTP_PLATFORM must be one of express, fastify, got "koa"/],
    [{ HTTP_PLATFORM: 'fastify', TRUST_PROXY: '1' }, /TRUST_PROXY: Fastify trusts no hop count/],
  ])('refuses %j', (env, message) => {
    expect(() => loadSampleConfig(env)).toThrow(message);
  });
});
