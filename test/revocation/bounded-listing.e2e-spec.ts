import { Redis } from 'ioredis';
import {
  InvalidSessionPageException,
  type SessionListOptions,
  type SessionPage,
} from 'nestjs-tenant-session';
import { sessionHandle } from '../../lib/session/session-handle.js';
import { NOT_BEFORE_MEMBER } from '../../lib/store/scripts.js';
import { CommandMonitor } from '../support/monitor.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const APP = 'listing';
const MANY = 250;
const indexKey = (user: string) => `sessions-index:acme:${APP}:${user}`;
const sessionKey = (visitor: Visitor) => `sessions:acme:${APP}:${visitor.sessionId()}`;

/**
 * `list()` returns a page, never everything: one user with many sessions costs each listing the
 * same few commands as a user with a handful, whatever their count. The server is this suite's
 * own (MONITOR sees only this app) and is not flushed between tests: each test has its users.
 */
describe('bounded listing (real Redis)', () => {
  let server: RedisServer;
  let redis: Redis;
  let monitor: CommandMonitor;
  let t: TestApp;
  /** alice's browsers, oldest login first. */
  let alice: Visitor[];

  const logInMany = async (user: string, count: number): Promise<Visitor[]> => {
    const visitors: Visitor[] = [];
    for (let i = 0; i < count; i++) {
      const visitor = new Visitor(t.http, 'acme.test', `${user}-browser-${i}`);
      expect((await visitor.post('/login', { user })).status).toBe(201);
      visitors.push(visitor);
    }
    return visitors;
  };
  const walk = async (user: string, options: Omit<SessionListOptions, 'cursor'> = {}) => {
    const pages: SessionPage[] = [];
    let cursor: string | undefined;
    do {
      const page = await t.sessions.list('acme', user, { ...options, cursor });
      pages.push(page);
      cursor = page.nextCursor;
      if (pages.length > MANY) throw new Error('the walk does not end');
    } while (cursor);
    return pages;
  };
  const handles = (visitors: Visitor[]) => visitors.map((v) => sessionHandle(v.sessionId()!));
  /** The commands the client sent while `action` ran (those inside scripts left out). */
  const commandsSent = async (action: () => Promise<unknown>): Promise<string[]> => {
    await monitor.barrier();
    monitor.reset();
    await action();
    await monitor.barrier();
    return monitor.commands().map((line) => line.split(' ', 1)[0]);
  };

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
    monitor = await CommandMonitor.open(server.url);
    t = await createTestApp({ appName: APP, redis: server.url, maxSessionsPerUser: 1000 });
    alice = await logInMany('alice', MANY);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    monitor?.close();
    redis?.disconnect();
    await server?.stop();
  });

  it('a first page holds the default 100 sessions, the total, and a cursor for the rest', async () => {
    const page = await t.sessions.list('acme', 'alice');

    expect(page.sessions).toHaveLength(100);
    expect(page.total).toBe(MANY);
    expect(page.nextCursor).toEqual(expect.any(String));
  });

  it('walking the cursor lists every session exactly once; the last page has no cursor', async () => {
    const pages = await walk('alice');

    expect(pages.map((p) => p.sessions.length)).toEqual([100, 100, 50]);
    expect(pages.map((p) => p.total)).toEqual([MANY, MANY, MANY]);
    expect(pages.map((p) => p.nextCursor === undefined)).toEqual([false, false, true]);
    const listed = pages.flatMap((p) => p.sessions.map((s) => s.id));
    expect(new Set(listed).size).toBe(MANY);
    expect([...listed].sort()).toEqual(handles(alice).sort());
  });

  it('pages of any allowed size cover the same sessions once each', async () => {
    const pages = await walk('alice', { limit: 7 });

    expect(pages).toHaveLength(Math.ceil(MANY / 7));
    const listed = pages.flatMap((p) => p.sessions.map((s) => s.id));
    expect([...listed].sort()).toEqual(handles(alice).sort());
  });

  it('within a page, oldest login first; cursors name no session', async () => {
    const pages = await walk('alice');

    for (const { sessions } of pages) {
      const created = sessions.map((s) => s.createdAt.getTime());
      expect(created).toEqual([...created].sort((a, b) => a - b));
    }
    const sids = alice.map((v) => v.sessionId()!);
    for (const { nextCursor } of pages.slice(0, -1)) {
      expect(sids.some((sid) => nextCursor!.includes(sid))).toBe(false);
    }
  });

  it('a page costs the same commands for a user with 10 sessions as for one with 250', async () => {
    await logInMany('bob', 10);
    const firstOfAlice = await t.sessions.list('acme', 'alice', { limit: 10 });

    const forBob = await commandsSent(() => t.sessions.list('acme', 'bob', { limit: 10 }));
    const forAlice = await commandsSent(() => t.sessions.list('acme', 'alice', { limit: 10 }));
    const laterOfAlice = await commandsSent(() =>
      t.sessions.list('acme', 'alice', { limit: 10, cursor: firstOfAlice.nextCursor }),
    );

    // One PAGE script, then one round trip of GET + PTTL per session on the page.
    const expected = ['eval', ...Array<string>(10).fill('get'), ...Array<string>(10).fill('pttl')];
    expect(forBob.sort()).toEqual(expected.sort());
    expect(forAlice.sort()).toEqual(expected.sort());
    expect(laterOfAlice.sort()).toEqual(expected.sort());
  });

  it('leaves sessions that ended out of the page and the total, and their entries in place (a listing never unindexes)', async () => {
    const carol = await logInMany('carol', 5);
    // As idle expiry would: the sessions are gone, their entries' leases still run.
    await redis.del(sessionKey(carol[1]), sessionKey(carol[3]));

    const page = await t.sessions.list('acme', 'carol');

    expect(page.sessions.map((s) => s.id).sort()).toEqual(
      handles([carol[0], carol[2], carol[4]]).sort(),
    );
    expect(page.total).toBe(3);
    // An entry without its session may be a login between admission and write: it goes only with
    // its lease, a revocation or a logout.
    expect(await redis.zcard(indexKey('carol'))).toBe(5);
    expect((await t.sessions.list('acme', 'carol')).total).toBe(3);
  });

  it("never lists the revocation's not-before member, nor counts it", async () => {
    await logInMany('dave', 2);
    await t.sessions.revokeAll('acme', 'dave');
    const dave = await logInMany('dave', 2);
    expect(await redis.zrange(indexKey('dave'), '0', '-1')).toContain(NOT_BEFORE_MEMBER);

    const pages = await walk('dave', { limit: 1 });

    expect(pages.flatMap((p) => p.sessions.map((s) => s.id)).sort()).toEqual(handles(dave).sort());
    expect(pages.map((p) => p.total)).toEqual([2, 2]);
  });

  it('an unusable limit or cursor is an InvalidSessionPageException (400) and reads nothing', async () => {
    const refused = async (options: SessionListOptions) => {
      const sent = await commandsSent(() =>
        t.sessions.list('acme', 'alice', options).then(
          () => {
            throw new Error('not refused');
          },
          (error: unknown) => {
            expect(error).toBeInstanceOf(InvalidSessionPageException);
            expect((error as InvalidSessionPageException).getStatus()).toBe(400);
          },
        ),
      );
      expect(sent).toEqual([]);
    };

    await refused({ limit: 0 });
    await refused({ limit: 1001 });
    await refused({ limit: 2.5 });
    await refused({ cursor: 'not-a-cursor' });
    await refused({ cursor: alice[0].sessionId() });
  });
});
