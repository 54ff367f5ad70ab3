import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { Redis } from 'ioredis';
import { createIdentityApp, LogCapture, type IdentityApp } from '../support/identity-app.js';
import { Visitor } from '../support/visitor.js';

/** Two apps on the same Redis: the default identity (passport's field) and the app's own field. */
const DEFAULT_APP = 'identity';
const OWN_FIELD_APP = 'identity-field';
const NOT_BEFORE = '!not-before';
const FOREIGN_OWNER = 'Refusing a session whose owner does not verify';
const FIXATION = 'session fixation risk';

describe('session identity (real Redis)', () => {
  const logs = new LogCapture();
  const seenSids = new Set<string>();
  let redis: Redis;
  let t: IdentityApp;
  let appName: string;

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(() => redis.disconnect());
  beforeEach(async () => {
    logs.clear();
    for (const app of [DEFAULT_APP, OWN_FIELD_APP]) {
      const keys = await redis.keys(`sessions*:*:${app}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  });
  afterEach(async () => {
    await t?.close();
    const leaks = logs.lines.filter((line) => [...seenSids].some((sid) => line.includes(sid)));
    expect(leaks).toEqual([]);
  });

  /** The default app, or with `ownField` one whose identity is `session.userId`. */
  const start = async (ownField = false) => {
    await t?.close();
    appName = ownField ? OWN_FIELD_APP : DEFAULT_APP;
    t = await createIdentityApp(
      ownField ? { appName, identity: (s) => s.userId } : { appName },
      logs,
    );
    return t;
  };
  const visitor = (agent = 'jest-visitor') => new Visitor(t.http, 'acme.test', agent);
  const sidOf = (browser: Visitor) => {
    const sid = browser.sessionId();
    expect(sid).toBeDefined();
    seenSids.add(sid!);
    return sid!;
  };
  const sessionKey = (sid: string) => `sessions:acme:${appName}:${sid}`;
  const indexed = async (user: string) =>
    (await redis.zrange(`sessions-index:acme:${appName}:${user}`, '0', '-1'))
      .filter((member) => member !== NOT_BEFORE)
      .sort();
  const stored = async (sid: string) =>
    JSON.parse((await redis.get(sessionKey(sid))) ?? 'null') as Record<string, unknown> | null;
  const libraryLogin = async (user: string, agent?: string) => {
    const browser = visitor(agent);
    expect((await browser.post('/login', { user })).status).toBe(201);
    return browser;
  };
  const notLoggedIn = async (browser: Visitor) => {
    expect((await browser.get('/me')).status).toBe(401);
    expect((await browser.get('/whoami')).body.user).toBeNull();
  };

  describe("the owner is the library's", () => {
    const forged = { userId: 'admin', via: 'login', createdAt: 1, indexedUntil: 9e15 };

    it.each([
      ['with a seal', { ...forged, seal: 'x' }],
      ['without a seal', forged],
    ])('app data cannot forge it (%s)', async (_, owner) => {
      await start();
      const browser = visitor();

      const res = await browser.post('/preferences', { theme: 'dark', _owner: owner });

      expect(res.status).toBe(201);
      const sid = sidOf(browser);
      await notLoggedIn(browser);
      expect((await browser.get('/whoami')).body.theme).toBe('dark');
      expect(await redis.exists(`sessions-index:acme:${appName}:admin`)).toBe(0);
      expect((await t.sessions.list('acme', 'admin')).sessions).toEqual([]);
      const json = await stored(sid);
      expect(json).toMatchObject({ theme: 'dark' });
      expect(json).not.toHaveProperty('_owner');
      // Saved again after the forged field was loaded back: still no owner.
      await browser.post('/visit');
      await notLoggedIn(browser);
      expect(await stored(sid)).not.toHaveProperty('_owner');
    });

    it("app data cannot change or remove a login's owner", async () => {
      await start();
      const alice = await libraryLogin('alice');
      const sid = sidOf(alice);

      await alice.post('/preferences', { theme: 'dark', _owner: { ...forged, seal: 'x' } });
      expect((await alice.get('/me')).body).toEqual({ user: 'alice' });
      await alice.post('/forget-owner');

      expect((await alice.get('/me')).body).toEqual({ user: 'alice' });
      expect((await alice.get('/whoami')).body.theme).toBe('dark');
      expect(await stored(sid)).toMatchObject({ _owner: { userId: 'alice', via: 'login' } });
      expect(await indexed('alice')).toEqual([sid]);
      expect(await indexed('admin')).toEqual([]);
      expect(await t.sessions.revokeAll('acme', 'alice')).toBe(1);
      expect((await alice.get('/me')).status).toBe(401);
    });

    it("a sealed owner copied into another session's stored JSON refuses that session: deleted, and logged", async () => {
      await start();
      const alice = await libraryLogin('alice');
      const intruder = visitor('intruder');
      await intruder.post('/visit');
      const [aliceSid, intruderSid] = [sidOf(alice), sidOf(intruder)];
      const realOwner = (await stored(aliceSid))!._owner;
      expect(realOwner).toMatchObject({ userId: 'alice', seal: expect.any(String) });

      // Another service with write access to Redis copies alice's owner into its own session.
      const json = { ...(await stored(intruderSid)), _owner: realOwner };
      await redis.set(sessionKey(intruderSid), JSON.stringify(json), 'KEEPTTL');

      await notLoggedIn(intruder);
      expect(await stored(intruderSid)).toBeNull();
      expect((await intruder.get('/whoami')).body.visits).toBe(0);
      expect(logs.find('warn', FOREIGN_OWNER).length).toBeGreaterThan(0);
      expect((await t.sessions.list('acme', 'alice')).sessions.map((s) => s.userAgent)).toEqual([
        'jest-visitor',
      ]);
      expect((await alice.get('/me')).body).toEqual({ user: 'alice' });
    });

    it('an owner whose user was changed in the stored JSON (by plain connect-redis) refuses the session: deleted, and logged', async () => {
      await start();
      const alice = await libraryLogin('alice');
      const sid = sidOf(alice);
      const plain = new RedisStore({ client: redis, prefix: `sessions:acme:${appName}:` });
      const data = (await new Promise<SessionData | null | undefined>((resolve, reject) =>
        plain.get(sid, (err, value) => (err ? reject(err) : resolve(value))),
      )) as SessionData & { _owner: { userId: string } };

      const tampered = { ...data, _owner: { ...data._owner, userId: 'admin' } } as SessionData;
      await new Promise<void>((resolve, reject) =>
        plain.set(sid, tampered, (err) => (err ? reject(err) : resolve())),
      );

      await notLoggedIn(alice);
      expect(logs.find('warn', FOREIGN_OWNER).length).toBeGreaterThan(0);
      expect(await stored(sid)).toBeNull();
      expect((await t.sessions.list('acme', 'admin')).sessions).toEqual([]);
      expect(await indexed('admin')).toEqual([]);
      // Neither admin's nor alice's any more; alice's entry goes with its lease (a listing never
      // removes one: it could be a login in flight).
      expect((await t.sessions.list('acme', 'alice')).sessions).toEqual([]);
      expect(await indexed('alice')).toEqual([sid]);
    });
  });

  describe('the identity option', () => {
    it('a session the app logs in by its own field (after regenerate) is indexed, listed and revoked', async () => {
      await start(true);
      const laptop = visitor('laptop');
      const phone = visitor('phone');
      expect((await laptop.post('/app-login', { user: 'carol' })).status).toBe(201);
      expect((await phone.post('/app-login', { user: 'carol' })).status).toBe(201);
      const sids = [sidOf(laptop), sidOf(phone)];

      expect(await indexed('carol')).toEqual([...sids].sort());
      expect((await laptop.get('/me')).body).toEqual({ user: 'carol' });
      const listed = (await t.sessions.list('acme', 'carol')).sessions;
      expect(listed.map((s) => s.userAgent).sort()).toEqual(['laptop', 'phone']);
      expect(logs.find('warn', FIXATION)).toEqual([]);

      expect(await t.sessions.revokeAll('acme', 'carol')).toBe(2);

      expect((await laptop.get('/me')).status).toBe(401);
      expect((await phone.get('/me')).status).toBe(401);
      for (const sid of sids) expect(await redis.exists(sessionKey(sid))).toBe(0);
      expect(await indexed('carol')).toEqual([]);
    });

    it("changing the identity field moves the session to the new user's index; clearing it removes the entry", async () => {
      await start(true);
      const browser = visitor();
      await browser.post('/app-login', { user: 'carol' });
      const sid = sidOf(browser);
      expect(await indexed('carol')).toEqual([sid]);

      expect((await browser.post('/app-user', { user: 'dave' })).status).toBe(201);

      expect(await indexed('carol')).toEqual([]);
      expect(await indexed('dave')).toEqual([sid]);
      expect((await browser.get('/me')).body).toEqual({ user: 'dave' });
      expect(await t.sessions.revokeAll('acme', 'carol')).toBe(0);
      expect(await redis.exists(sessionKey(sid))).toBe(1);

      expect((await browser.post('/app-user', { user: null })).status).toBe(201);

      expect(await indexed('dave')).toEqual([]);
      expect((await browser.get('/me')).status).toBe(401);
      const json = await stored(sid);
      expect(json).not.toBeNull();
      expect(json).not.toHaveProperty('_owner');
      expect(json).not.toHaveProperty('userId');
    });

    it('an identity set on a session loaded from the store, without regenerating, is logged as a fixation risk (without the session id)', async () => {
      await start(true);
      const browser = visitor();
      await browser.post('/visit');
      const sid = sidOf(browser);
      expect(logs.find('warn', FIXATION)).toEqual([]);

      await browser.post('/app-user', { user: 'erin' });

      const warnings = logs.find('warn', FIXATION);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).not.toContain(sid);
      // A warning, not a refusal: the session is still indexed, so it can still be revoked.
      expect(await indexed('erin')).toEqual([sid]);
      expect(await t.sessions.revokeAll('acme', 'erin')).toBe(1);
      expect((await browser.get('/me')).status).toBe(401);
    });

    it.each([
      ["the app's own field", true, '/app-login', 42],
      ["passport's field (the default identity)", false, '/passport-field-login', 7],
    ])(
      'a numeric identity in %s is indexed under its string form',
      async (_, ownField, path, id) => {
        await start(ownField);
        const browser = visitor();

        expect((await browser.post(path, { user: id })).status).toBe(201);

        const sid = sidOf(browser);
        expect(await indexed(String(id))).toEqual([sid]);
        expect((await browser.get('/me')).body).toEqual({ user: String(id) });
        expect((await t.sessions.list('acme', String(id))).sessions).toHaveLength(1);
        expect(await t.sessions.revokeAll('acme', String(id))).toBe(1);
        expect((await browser.get('/me')).status).toBe(401);
        expect(await redis.exists(sessionKey(sid))).toBe(0);
      },
    );
  });
});
