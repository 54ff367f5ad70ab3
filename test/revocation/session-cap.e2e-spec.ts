import {
  InvalidTenantSessionOptionsError,
  type SessionRevokedEvent,
  type TenantSessionModuleOptions,
} from 'nestjs-tenant-session';
import { sessionHandle } from '../../lib/session/session-handle.js';
import { CommandMonitor } from '../support/monitor.js';
import { useOwnRedisServer } from '../support/own-redis.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const APP = 'cap';
const DEFAULT_CAP = 100;

/**
 * `maxSessionsPerUser` is on by default (100, OWASP ASVS 5.0 7.1.2): a login past it revokes the
 * user's oldest logins. Under the cap, a login costs what it did without one.
 */
describe('maxSessionsPerUser (real Redis)', () => {
  const own = useOwnRedisServer();
  let t: TestApp | undefined;
  let revocations: SessionRevokedEvent[];

  const start = async (options: Partial<TenantSessionModuleOptions> = {}) => {
    revocations = [];
    t = await createTestApp({
      appName: APP,
      redis: own.server.url,
      onRevoked: (event) => void revocations.push(event),
      ...options,
    });
    return t;
  };
  afterEach(() => t?.close());

  const logIn = async (user: string, n: number): Promise<Visitor> => {
    const visitor = new Visitor(t!.http, 'acme.test', `${user}-browser-${n}`);
    expect((await visitor.post('/login', { user })).status).toBe(201);
    return visitor;
  };
  const logInMany = async (user: string, count: number): Promise<Visitor[]> => {
    const visitors: Visitor[] = [];
    for (let i = 0; i < count; i++) visitors.push(await logIn(user, i));
    return visitors;
  };
  const loggedIn = async (visitors: Visitor[]) => {
    const statuses = await Promise.all(visitors.map(async (v) => (await v.get('/me')).status));
    return statuses.filter((status) => status === 200).length;
  };

  it('by default, the 101st login revokes the oldest one and tells the listeners', async () => {
    await start();
    const browsers = await logInMany('alice', DEFAULT_CAP);
    expect(revocations).toEqual([]);

    const newest = await logIn('alice', DEFAULT_CAP);

    expect((await browsers[0].get('/me')).status).toBe(401);
    expect(await loggedIn([...browsers.slice(1), newest])).toBe(DEFAULT_CAP);
    expect(revocations).toEqual([
      {
        tenant: 'acme',
        userId: 'alice',
        reason: 'cap',
        revoked: 1,
        sessions: [sessionHandle(browsers[0].sessionId()!)],
        at: expect.any(Date),
      },
    ]);
    expect((await t!.sessions.list('acme', 'alice')).total).toBe(DEFAULT_CAP);
  }, 60_000);

  it('false turns the cap off: every login stays', async () => {
    await start({ maxSessionsPerUser: false });
    const browsers = await logInMany('alice', DEFAULT_CAP + 5);

    expect(await loggedIn(browsers)).toBe(DEFAULT_CAP + 5);
    expect(revocations).toEqual([]);
  }, 60_000);

  it('a raised cap lets a user hold more sessions, and still caps them past it', async () => {
    await start({ maxSessionsPerUser: DEFAULT_CAP + 10 });
    const browsers = await logInMany('alice', DEFAULT_CAP + 11);

    expect((await browsers[0].get('/me')).status).toBe(401);
    expect(await loggedIn(browsers.slice(1))).toBe(DEFAULT_CAP + 10);
    expect(revocations.map((e) => e.reason)).toEqual(['cap']);
  }, 60_000);

  it('under the cap, a login reads no session: the same commands with 1 or 60 sessions', async () => {
    await start();
    const monitor = await CommandMonitor.open(own.server.url);
    const loginCommands = async (user: string) => {
      await monitor.barrier();
      monitor.reset();
      await logIn(user, 0);
      await monitor.barrier();
      return monitor.commands().map((line) => line.split(' ', 1)[0]);
    };
    try {
      await logInMany('alice', 60);

      const first = await loginCommands('bob');
      const sixtyFirst = await loginCommands('alice');

      // GET and PTTL of the new visit's session in one round trip (regenerate: it was never
      // stored, so there is nothing to unindex or delete), ADMIT, SET, CONFIRM: the login's own
      // steps, nothing for the cap.
      expect(first).toEqual(['get', 'pttl', 'eval', 'set', 'eval']);
      expect(sixtyFirst).toEqual(first);
    } finally {
      monitor.close();
    }
  }, 60_000);

  it('past the cap, the login reads every session once to find the oldest', async () => {
    await start({ maxSessionsPerUser: 3 });
    const monitor = await CommandMonitor.open(own.server.url);
    try {
      await logInMany('alice', 3);
      await monitor.barrier();
      monitor.reset();

      await logIn('alice', 3);
      await monitor.barrier();

      const names = monitor.commands().map((line) => line.split(' ', 1)[0]);
      // One GET of the visit's own session, never stored (its regeneration reads it), then one
      // per session for the cap: the three before and the new one.
      expect(names.filter((name) => name === 'get')).toHaveLength(1 + 4);
      expect(names.filter((name) => name === 'del')).toHaveLength(1);
      expect(revocations.map((e) => e.revoked)).toEqual([1]);
    } finally {
      monitor.close();
    }
  });

  it.each([0, -1, 2.5, true])('refuses maxSessionsPerUser %p at start-up', async (cap) => {
    await expect(
      createTestApp({ appName: APP, maxSessionsPerUser: cap as number }),
    ).rejects.toThrow(InvalidTenantSessionOptionsError);
  });
});
