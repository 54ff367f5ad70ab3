import type { TenantSessionModuleOptions } from 'nestjs-tenant-session';
import { legacyApp as legacyAppWith, WhoAmIController } from '../support/legacy-sessions.js';
import { useOwnRedisServer } from '../support/own-redis.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * docs/recipes/switching-from-express-session.md, as a team would live it: users logged in on
 * the app as it was (express-session + connect-redis, passport's `passport.user` in the
 * session, connect-redis's default `sess:` prefix, express-session's default `connect.sid`
 * cookie, a rotated secret list), then the module's app on the same Redis with the recipe's
 * settings. Nobody is logged out, and everyone is revocable.
 */

const SECRETS = [
  'switch-secret-new-0123456789abcdefghij',
  'switch-secret-old-0123456789abcdefghij',
];

const legacyApp = (client: Parameters<typeof legacyAppWith>[0]) => legacyAppWith(client, SECRETS);

/** The recipe's settings, for the one tenant the app had. */
const recipe = (): Partial<TenantSessionModuleOptions> => ({
  secret: SECRETS,
  cookieName: 'connect.sid',
  tenantSettings: { acme: { keyPrefix: 'sess:' } },
  adoptLegacySessions: { until: new Date(Date.now() + 7 * 24 * 3600_000) },
});

describe('switching over from express-session + connect-redis + passport', () => {
  const own = useOwnRedisServer();
  let nest: TestApp | undefined;
  afterEach(async () => {
    await nest?.close();
    nest = undefined;
  });

  const USERS = ['alice', 'bob', 'carol'];

  /** Logs USERS in on the legacy app; one visitor each (same browser before and after). */
  async function loggedInBeforeTheSwitch(): Promise<Map<string, Visitor>> {
    const legacy = legacyApp(own.redis);
    const visitors = new Map<string, Visitor>();
    for (const user of USERS) {
      const visitor = new Visitor(legacy, 'acme.test');
      await visitor.post(`/login/${user}`);
      expect((await visitor.get('/whoami')).body).toEqual({ user });
      visitors.set(user, visitor);
    }
    return visitors;
  }

  const sessionKeys = () => own.redis.keys('sess:*');

  it('every user logged in before the switch is still logged in after it, with the same cookie', async () => {
    const visitors = await loggedInBeforeTheSwitch();
    nest = await createTestApp(
      { appName: 'switch', redis: own.server.url, ...recipe() },
      {
        controllers: [WhoAmIController],
      },
    );

    for (const [user, visitor] of visitors) {
      const res = await visitor.on(nest.http).get('/whoami');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user });
      expect(visitor.sessionId('connect.sid')).toBeDefined();
    }
    expect(await sessionKeys()).toHaveLength(USERS.length);
  });

  it('an adopted session is no recent login, nor is one whose _owner was removed since', async () => {
    const visitors = await loggedInBeforeTheSwitch();
    nest = await createTestApp(
      { appName: 'switch', redis: own.server.url, ...recipe() },
      { controllers: [WhoAmIController] },
    );
    const alice = visitors.get('alice')!.on(nest.http);
    expect((await alice.get('/whoami')).status).toBe(200);
    const refused = await alice.post('/sensitive-by-default');
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('RECENT_LOGIN_REQUIRED');

    // Sealed by that read's save; an _owner taken out again reads as legacy: still not recent.
    const key = `sess:${alice.sessionId('connect.sid')}`;
    const stored = JSON.parse((await own.redis.get(key))!) as Record<string, unknown>;
    expect(stored._owner).toMatchObject({ userId: 'alice', createdAt: 0 });
    delete stored._owner;
    await own.redis.set(key, JSON.stringify(stored), 'KEEPTTL');
    expect((await alice.get('/whoami')).status).toBe(200);
    expect((await alice.post('/sensitive-by-default')).status).toBe(401);
  });

  it('an anonymous session with data keeps its data, unindexed', async () => {
    const legacy = legacyApp(own.redis);
    const visitor = new Visitor(legacy, 'acme.test');
    await visitor.post('/cart');
    nest = await createTestApp({ appName: 'switch', redis: own.server.url, ...recipe() });

    expect((await visitor.on(nest.http).get('/peek')).status).toBe(200);
    expect(await own.redis.keys('sessions-index:*')).toEqual([]);
    expect(await sessionKeys()).toHaveLength(1);
  });

  it('revokeAll ends every one of them, read since the switch or not, and they stay ended', async () => {
    const visitors = await loggedInBeforeTheSwitch();
    const copies = new Map<string, string>();
    for (const key of await sessionKeys()) copies.set(key, (await own.redis.get(key))!);
    nest = await createTestApp(
      { appName: 'switch', redis: own.server.url, ...recipe() },
      {
        controllers: [WhoAmIController],
      },
    );
    // alice and bob come back after the switch; carol does not before her revocation.
    for (const user of ['alice', 'bob']) {
      expect((await visitors.get(user)!.on(nest.http).get('/whoami')).status).toBe(200);
    }

    for (const user of USERS) await nest.sessions.revokeAll('acme', user);

    for (const [, visitor] of visitors) {
      expect((await visitor.on(nest.http).get('/whoami')).status).toBe(401);
    }
    expect(await sessionKeys()).toEqual([]);
    // A plain instance of the old app, still running during the deploy, writes back the copies it
    // loaded before the revocations: none of them serves again.
    for (const [key, value] of copies) await own.redis.set(key, value, 'EX', 3600);
    for (const [, visitor] of visitors) {
      expect((await visitor.on(nest.http).get('/whoami')).status).toBe(401);
    }
  });

  it('a revoked user logging in again on the old app after the revocation is refused until the window ends (dated before it)', async () => {
    nest = await createTestApp(
      { appName: 'switch', redis: own.server.url, ...recipe() },
      {
        controllers: [WhoAmIController],
      },
    );
    await nest.sessions.revokeAll('acme', 'alice');
    const visitor = new Visitor(legacyApp(own.redis), 'acme.test');
    await visitor.post('/login/alice');

    expect((await visitor.on(nest.http).get('/whoami')).status).toBe(401);
  });
});
