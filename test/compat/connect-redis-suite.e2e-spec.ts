import { Body, Controller, Get, Post, Query, Req } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import type { Request } from 'express';
import { Cookie, type SessionData } from 'express-session';
import { Cluster } from 'ioredis';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  InvalidTenantSessionOptionsError,
  SessionLoginService,
  SessionRevocationService,
  SessionStoreUnavailableException,
  TenantSessionModule,
  TenantSessionRegistry,
  type TenantSessionModuleOptions,
  type TenantSessionStore,
} from 'nestjs-tenant-session';
import { OperationBudget } from '../../lib/store/operation-budget.js';
import { useOwnRedisServer } from '../support/own-redis.js';
import { startRedisCluster } from '../support/redis-cluster.mjs';
import { startRedisServer } from '../support/redis-server.mjs';
import { countCommands as countAll } from '../support/redis-stats.js';
import { createTestApp, TEST_HOSTS, TEST_SECRET, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * connect-redis 8.1's own store test suite (index_test.ts at tag v8.1.0: "defaults" and the
 * `lifecycleTest` it runs per client), ported: the same calls in the same order with the same
 * assertions, against a TenantSessionStore built by the module (`TenantSessionRegistry.store`)
 * on a real redis-server, a real three-master Cluster, and the embedded store. connect-redis
 * runs the lifecycle once per client library (node-redis, ioredis); our store is handed its
 * connection by the module, so the second run is the one that matters for us: a Cluster, where
 * SCAN must visit every master.
 *
 * The idle TTL is set to connect-redis's default (one day), so its TTL assertions hold as
 * written. Deliberate differences are each asserted below, under "where the store differs".
 */

const ONE_DAY_SECONDS = 86_400;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads a stored session beside the store, as connect-redis's tests read TTLs with a client. */
interface Probe {
  /** Remaining TTL in seconds (ms precision); negative when the key is gone. */
  ttlSeconds(sid: string): Promise<number>;
  raw(sid: string): Promise<string | null>;
}

/** Reads acme's session keys as they are, beside the store under test. */
function probeOf(t: TestApp): Probe {
  const inspect = async (sid: string) => {
    const { backend, keys } = await t.registry.get('acme');
    return (await backend.keys.inspect([keys.session(sid)], new OperationBudget(5000)))[0];
  };
  return {
    ttlSeconds: async (sid) => (await inspect(sid)).ttlMs / 1000,
    raw: async (sid) => (await inspect(sid)).value,
  };
}

/**
 * Commands `action` makes Redis run, less the module's pub/sub connection subscribing (it may
 * do so at any time after start-up; it is no session work).
 */
async function countCommands(
  redis: Parameters<typeof countAll>[0],
  action: () => Promise<unknown>,
): Promise<Record<string, number>> {
  const counts = await countAll(redis, action);
  for (const name of Object.keys(counts)) if (/subscribe$/.test(name)) delete counts[name];
  return counts;
}

/** Sessions built by hand, as connect-redis's tests build them. */
const handMade = (data: object) => data as unknown as SessionData;

/** connect-redis's `lifecycleTest`, step by step. */
async function lifecycle(
  store: TenantSessionStore,
  probe: Probe,
  afterLoad: () => Promise<void> = async () => undefined,
): Promise<void> {
  await store.clear();

  const sess = handMade({ foo: 'bar', cookie: { originalMaxAge: null } });
  await store.set('123', sess);

  expect(await store.get('123')).toEqual(sess);

  expect(await probe.ttlSeconds('123')).toBeGreaterThanOrEqual(ONE_DAY_SECONDS - 1);

  let ttl = 60;
  let expires = new Date(Date.now() + ttl * 1000);
  await store.set('456', handMade({ cookie: { originalMaxAge: null, expires } }));
  expect(await probe.ttlSeconds('456')).toBeLessThanOrEqual(60);

  ttl = 90;
  const expires2 = new Date(Date.now() + ttl * 1000);
  await store.touch('456', handMade({ cookie: { originalMaxAge: null, expires: expires2 } }));
  expect(await probe.ttlSeconds('456')).toBeGreaterThan(60);

  expect(await store.length()).toBe(2); // stored two keys length

  expect((await store.ids()).sort()).toEqual(['123', '456']);

  const all = (await store.all()).sort((a, b) => (a.id > b.id ? 1 : -1));
  expect(all).toEqual([
    { id: '123', foo: 'bar', cookie: { originalMaxAge: null } },
    { id: '456', cookie: { originalMaxAge: null, expires: expires.toISOString() } },
  ]);

  await store.destroy('456');
  expect(await store.length()).toBe(1); // one key remains

  await store.clear();

  expect(await store.length()).toBe(0); // no keys remain

  const count = 1000;
  await load(store, count);
  await afterLoad();

  expect(await store.length()).toBe(count);

  await store.clear();
  expect(await store.length()).toBe(0);

  expires = new Date(Date.now() + ttl * 1000); // expires in the future
  await store.set('789', handMade({ cookie: { originalMaxAge: null, expires } }));

  expect(await store.length()).toBe(1);

  expires = new Date(Date.now() - ttl * 1000); // expires in the past
  await store.set('789', handMade({ cookie: { originalMaxAge: null, expires } }));

  expect(await store.length()).toBe(0); // no key remains and that includes session 789
}

async function load(store: TenantSessionStore, count: number): Promise<void> {
  const cookie = new Cookie();
  for (let sid = 0; sid < count; sid++) {
    // connect-redis gives each a 1 s expiry. 60 s here: on a busy machine the first sessions
    // could expire before the count; what is tested is counting and clearing many sessions.
    cookie.expires = new Date(Date.now() + 60_000);
    await store.set('s' + sid, handMade({ cookie }));
  }
}

describe("connect-redis 8.1's store suite, ported", () => {
  describe('on a redis-server (the connection the module makes from a URL)', () => {
    const own = useOwnRedisServer();
    let t: TestApp;
    afterEach(() => t?.close());

    it('defaults', async () => {
      t = await createTestApp({ appName: 'cr', redis: own.server.url });
      const store = await t.registry.store('acme');

      // connect-redis: prefix "sess:", ttl one day, scanCount 100, JSON, touch and TTL enabled.
      // Ours: the tenant's prefix, the module's idleTtl (one hour unless set), JSON as
      // connect-redis writes it, touch and TTL always on (SCAN pages of 1000, not an option).
      const acme = await t.registry.get('acme');
      expect(acme.keys.sessionPrefix).toBe('sessions:acme:cr:');
      expect(acme.lifetime.idleTtlMs).toBe(3600 * 1000);
      const sess = handMade({ foo: 'bar', cookie: { originalMaxAge: null } });
      await store.set('123', sess);
      expect(JSON.parse((await own.redis.get('sessions:acme:cr:123'))!)).toEqual(sess);
      expect(typeof store.touch).toBe('function');
      expect(await own.redis.pttl('sessions:acme:cr:123')).toBeGreaterThan(3599 * 1000);
    });

    it('lifecycle', async () => {
      t = await createTestApp({ appName: 'cr', redis: own.server.url, idleTtl: ONE_DAY_SECONDS });
      const store = await t.registry.store('acme');
      await lifecycle(store, probeOf(t));
    }, 60_000);
  });

  describe('on a three-master Redis Cluster', () => {
    let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
    let client: Cluster;
    let t: TestApp;
    beforeAll(async () => {
      cluster = await startRedisCluster();
      client = new Cluster(cluster.nodes);
      t = await createTestApp({ appName: 'cr', redis: client, idleTtl: ONE_DAY_SECONDS });
    }, 60_000);
    afterAll(async () => {
      await t?.close();
      await client?.quit();
      await cluster?.stop();
    });

    it('lifecycle, counting and clearing sessions on every master', async () => {
      const store = await t.registry.store('acme');
      const perMaster = async () =>
        Promise.all(client.nodes('master').map((node) => node.dbsize()));
      await lifecycle(store, probeOf(t), async () => {
        // The 1000 sessions are spread over all three masters, so a count of 1000 means each
        // master was scanned.
        expect((await perMaster()).filter((n) => n > 0)).toHaveLength(3);
      });
      expect(await perMaster()).toEqual([0, 0, 0]);
    }, 60_000);
  });

  describe('on the embedded in-process store', () => {
    let t: TestApp;
    afterEach(() => t?.close());

    it('lifecycle', async () => {
      t = await createTestApp({
        appName: 'cr',
        redis: undefined,
        idleTtl: ONE_DAY_SECONDS,
        allowEmbeddedStore: true,
      });
      const store = await t.registry.store('acme');
      await lifecycle(store, probeOf(t));
    }, 60_000);
  });
});

/** A small app whose read route can take its time without changing the session. */
@Controller()
class ReadController {
  constructor(private readonly logins: SessionLoginService) {}

  @Post('login')
  async login(@Req() req: Request, @Body() body: { user: string }) {
    await this.logins.login(req, body.user, { data: { user: body.user } });
    return { user: body.user };
  }

  @Get('read')
  async read(@Req() req: Request, @Query('delayMs') delayMs?: string) {
    if (delayMs) await sleep(Number(delayMs));
    return { user: (req.session as { user?: string }).user ?? null };
  }
}

async function createReadApp(url: string, idleTtl: number) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TenantSessionModule.forRoot({
        tenant: { byHost: TEST_HOSTS },
        secret: TEST_SECRET,
        redis: url,
        appName: 'touch',
        idleTtl,
      }),
    ],
    controllers: [ReadController],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
  await app.init();
  return {
    app,
    http: app.getHttpServer(),
    registry: app.get(TenantSessionRegistry),
    sessions: app.get(SessionRevocationService),
  };
}

describe('where the store differs from connect-redis (deliberately)', () => {
  const own = useOwnRedisServer();
  let t: TestApp;
  afterEach(() => t?.close());
  const start = async (options: Partial<TenantSessionModuleOptions> = {}) => {
    t = await createTestApp({ appName: 'cr', redis: own.server.url, ...options });
    return t.registry.store('acme');
  };

  it('get restarts the idle TTL (GETEX), as every read here does; peek reads and leaves it', async () => {
    // connect-redis's get is a plain GET. Ours is the read path express-session uses, where the
    // read restarts the idle timeout in the same command. Admin tools read with peek.
    const store = await start({ idleTtl: 3600 });
    const sess = handMade({ foo: 'bar', cookie: { originalMaxAge: 3_600_000 } });
    await store.set('abc', sess);
    await own.redis.pexpire('sessions:acme:cr:abc', 5000);

    const counts = await countCommands(own.redis, async () => {
      expect(await store.peek('abc')).toEqual(sess);
    });
    expect(counts).toEqual({ get: 1, pttl: 1 });
    expect(await own.redis.pttl('sessions:acme:cr:abc')).toBeLessThanOrEqual(5000);

    expect(await store.get('abc')).toEqual(sess);
    expect(await own.redis.pttl('sessions:acme:cr:abc')).toBeGreaterThan(3_590_000);
    expect(await store.peek('nothing-here')).toBeNull();
  });

  it('stores a sealed _owner for a session with an identity, which get, peek and all never return', async () => {
    const store = await start();
    const sess = handMade({ passport: { user: 'alice' }, cookie: { originalMaxAge: 60_000 } });
    await store.set('abc', sess);

    const raw = JSON.parse((await own.redis.get('sessions:acme:cr:abc'))!);
    expect(raw._owner).toMatchObject({ userId: 'alice', seal: expect.any(String) });
    expect(await store.get('abc')).toEqual(sess);
    const peeked = await store.peek('abc');
    expect(peeked).toEqual(sess);
    expect((await t.registry.get('acme')).owners.identityOf(peeked)).toBe('alice');
    expect(await store.all()).toEqual([{ ...sess, id: 'abc' }]);
    // and the user index lists it, which connect-redis has no notion of
    expect(await own.redis.zrange('sessions-index:acme:cr:alice', '0', '-1')).toEqual(['abc']);
  });

  it("takes the TTL from the session's own max-age, and from the expiry date only without one", async () => {
    // connect-redis computes the TTL from cookie.expires. express-session always stores the
    // max-age too, and our TTL is an idle timeout restarted by every read: the max-age is it.
    const store = await start();
    const inADay = new Date(Date.now() + 86_400_000);
    await store.set('abc', handMade({ cookie: { originalMaxAge: 5000, expires: inADay } }));
    expect(await own.redis.pttl('sessions:acme:cr:abc')).toBeLessThanOrEqual(5000);
    await store.set('def', handMade({ cookie: { originalMaxAge: null, expires: inADay } }));
    expect(await own.redis.pttl('sessions:acme:cr:def')).toBeGreaterThan(86_000_000);
  });

  it("clear also removes the tenant's user indexes, and nothing of another tenant or app", async () => {
    const store = await start();
    const otherApp = await createTestApp({ appName: 'cr2', redis: own.server.url });
    try {
      const cookie = { originalMaxAge: 60_000 };
      await store.set('a1', handMade({ passport: { user: 'alice' }, cookie }));
      await store.set('a2', handMade({ passport: { user: 'bob' }, cookie }));
      await store.set('a3', handMade({ cookie }));
      await (
        await t.registry.store('globex')
      ).set('g1', handMade({ passport: { user: 'alice' }, cookie }));
      await (
        await otherApp.registry.store('acme')
      ).set('o1', handMade({ passport: { user: 'alice' }, cookie }));
      await own.redis.set('sess:unrelated', '{}');
      expect(await own.redis.exists('sessions-index:acme:cr:alice')).toBe(1);

      await store.clear();

      expect((await own.redis.keys('*')).sort()).toEqual([
        'sess:unrelated',
        'sessions-index:acme:cr2:alice',
        'sessions-index:globex:cr:alice',
        'sessions:acme:cr2:o1',
        'sessions:globex:cr:g1',
      ]);
    } finally {
      await otherApp.close();
    }
  });

  it('lists only its own tenant and app: never another tenant, another app or an index key', async () => {
    const store = await start();
    const otherApp = await createTestApp({ appName: 'cr-2', redis: own.server.url });
    try {
      const cookie = { originalMaxAge: 60_000 };
      await store.set('mine', handMade({ passport: { user: 'alice' }, cookie }));
      await (await t.registry.store('acme-eu')).set('eu', handMade({ cookie }));
      await (await t.registry.store('globex')).set('globex', handMade({ cookie }));
      await (await otherApp.registry.store('acme')).set('app2', handMade({ cookie }));

      expect(await store.ids()).toEqual(['mine']);
      expect(await store.length()).toBe(1);
      expect((await store.all()).map((s) => s.id)).toEqual(['mine']);
      expect(await own.redis.dbsize()).toBe(5); // four sessions and alice's index
    } finally {
      await otherApp.close();
    }
  });

  it("counts, lists and clears exactly across many SCAN pages among other tenants' keys", async () => {
    const store = await start();
    const cookie = JSON.stringify({ cookie: { originalMaxAge: 60_000 } });
    const pipeline = own.redis.pipeline();
    for (let i = 0; i < 1500; i++) pipeline.set(`sessions:acme:cr:s${i}`, cookie, 'PX', 60_000);
    for (let i = 0; i < 4000; i++) pipeline.set(`sessions:globex:cr:s${i}`, cookie, 'PX', 60_000);
    await pipeline.exec();

    expect(await store.length()).toBe(1500);
    expect(new Set(await store.ids()).size).toBe(1500);
    expect(await store.all()).toHaveLength(1500);
    await store.clear();
    expect(await own.redis.dbsize()).toBe(4000);
  });

  it('matches glob characters of a custom key prefix literally', async () => {
    // `sess?acme*:*` unescaped would also match tenant acme-eu's keys and a stranger's.
    const store = await start({ keyPrefix: 'sess?{tenant}*:', indexPrefix: 'idx:{tenant}:' });
    const cookie = { originalMaxAge: 60_000 };
    await store.set('mine', handMade({ cookie }));
    await (await t.registry.store('acme-eu')).set('eu', handMade({ cookie }));
    await own.redis.set('sessXacme*:stranger', JSON.stringify({ cookie }));
    const [, unescaped] = await own.redis.scan('0', 'MATCH', 'sess?acme*:*', 'COUNT', 1000);
    expect(unescaped.sort()).toEqual([
      'sess?acme*:mine',
      'sess?acme-eu*:eu',
      'sessXacme*:stranger',
    ]);

    expect(await store.ids()).toEqual(['mine']);
    await store.clear();
    expect((await own.redis.keys('*')).sort()).toEqual(['sess?acme-eu*:eu', 'sessXacme*:stranger']);
  });

  it('never starts with prefixes under which one tenant could be read as part of another key family', async () => {
    // Tenant "idx"'s session pattern `s:idx:*` would match every tenant's index keys, so a
    // clear() for "idx" would drop them all: such templates are refused before any store exists.
    await expect(
      start({ keyPrefix: 's:{tenant}:', indexPrefix: 's:idx:{tenant}:' }),
    ).rejects.toThrow(InvalidTenantSessionOptionsError);
  });

  describe('touch', () => {
    let read: Awaited<ReturnType<typeof createReadApp>> | undefined;
    afterEach(async () => {
      await read?.app.close();
      read = undefined;
    });

    it('costs nothing at the end of a request that loaded the session: a logged-in read is one GETEX', async () => {
      read = await createReadApp(own.server.url, 3600);
      const visitor = new Visitor(read.http, 'acme.test');
      await visitor.post('/login', { user: 'alice' });
      const store = await read.registry.store('acme');
      const touched: string[] = [];
      const touch = store.touch.bind(store);
      store.touch = ((sid: string, session: SessionData, callback: () => void) => {
        touched.push(sid);
        return touch(sid, session, callback);
      }) as typeof store.touch;

      for (let i = 0; i < 3; i++) {
        const counts = await countCommands(own.redis, async () => {
          expect((await visitor.get('/read')).body).toEqual({ user: 'alice' });
        });
        expect(counts).toEqual({ evalsha: 1 });
      }
      // The session middleware does not even call it: the load restarted the TTL just now.
      expect(touched).toEqual([]);
    });

    it('restarts the TTL (one GETEX) for a request that outlasted the restart it made', async () => {
      read = await createReadApp(own.server.url, 60);
      const visitor = new Visitor(read.http, 'acme.test');
      await visitor.post('/login', { user: 'alice' });

      const counts = await countCommands(own.redis, async () => {
        expect((await visitor.get('/read?delayMs=1500')).status).toBe(200);
      });

      expect(counts).toEqual({ evalsha: 2 });
      expect(await own.redis.pttl(`sessions:acme:touch:${visitor.sessionId()}`)).toBeGreaterThan(
        58_000,
      );
    });

    it('called directly, restarts the TTL with the session max-age in one GETEX', async () => {
      const store = await start({ idleTtl: 3600 });
      const sess = handMade({ cookie: { originalMaxAge: 120_000 } });
      await store.set('abc', sess);
      await own.redis.pexpire('sessions:acme:cr:abc', 1000);

      // A session object of its own: the one given to set was just stored, its TTL fresh.
      const again = handMade({ cookie: { originalMaxAge: 120_000 } });
      const counts = await countCommands(own.redis, () => store.touch('abc', again));

      expect(counts).toEqual({ evalsha: 1 });
      expect(await own.redis.pttl('sessions:acme:cr:abc')).toBeGreaterThan(119_000);
      await store.touch('gone', handMade({ cookie: { originalMaxAge: 120_000 } }));
      expect(await own.redis.exists('sessions:acme:cr:gone')).toBe(0);
    });

    it('keeps a session that only touch keeps alive revocable (its index lease follows)', async () => {
      // A session is indexed for 3 idle TTLs and renewed on reads; touching it well past that
      // without a read must keep it in its user's index, or revokeAll would miss it.
      // 2 s: a loaded machine's stall between two touches must not let the key expire.
      const store = await start({ idleTtl: 2 });
      const sess = handMade({ passport: { user: 'alice' }, cookie: { originalMaxAge: 2000 } });
      await store.set('abc', sess);
      for (let elapsed = 0; elapsed < 7500; elapsed += 300) {
        await sleep(300);
        await store.touch('abc', sess);
      }
      expect(await own.redis.exists('sessions:acme:cr:abc')).toBe(1);

      expect(await t.sessions.revokeAll('acme', 'alice')).toBe(1);

      expect(await own.redis.exists('sessions:acme:cr:abc')).toBe(0);
    }, 15_000);
  });
});

describe('callback and promise styles, as connect-redis 8 has them', () => {
  const own = useOwnRedisServer();
  let t: TestApp;
  let store: TenantSessionStore;
  beforeEach(async () => {
    t = await createTestApp({ appName: 'cr', redis: own.server.url });
    store = await t.registry.store('acme');
  });
  afterEach(() => t?.close());
  const sess = handMade({ foo: 'bar', cookie: { originalMaxAge: 60_000 } });

  /** Calls `run` with a callback; resolves to what the callback got and what the call resolved to. */
  const withCallback = async (
    run: (cb: (err: unknown, value?: unknown) => string) => Promise<unknown>,
  ) => {
    let got: unknown[] = [];
    const returned = await run((...args) => {
      got = args;
      return 'from the callback';
    });
    return { got, returned };
  };

  it('answers each callback once with (null, value), and resolves to what the callback returned', async () => {
    const set = await withCallback((cb) => store.set('abc', sess, cb));
    expect(set).toEqual({ got: [null, undefined], returned: 'from the callback' });
    expect(await withCallback((cb) => store.get('abc', cb))).toEqual({
      got: [null, sess],
      returned: 'from the callback',
    });
    expect((await withCallback((cb) => store.peek('abc', cb))).got).toEqual([null, sess]);
    expect((await withCallback((cb) => store.touch('abc', sess, cb))).got).toEqual([
      null,
      undefined,
    ]);
    expect((await withCallback((cb) => store.length(cb))).got).toEqual([null, 1]);
    expect((await withCallback((cb) => store.ids(cb))).got).toEqual([null, ['abc']]);
    expect((await withCallback((cb) => store.all(cb))).got).toEqual([
      null,
      [{ ...sess, id: 'abc' }],
    ]);
    expect((await withCallback((cb) => store.destroy('abc', cb))).got).toEqual([null, undefined]);
    expect((await withCallback((cb) => store.get('abc', cb))).got).toEqual([null, null]);
    await store.set('abc', sess);
    expect((await withCallback((cb) => store.clear(cb))).got).toEqual([null, undefined]);
    expect(await store.length()).toBe(0);
  });

  it('resolves to the value without a callback (a promise-style get used to crash the process)', async () => {
    await expect(store.set('abc', sess)).resolves.toBeUndefined();
    await expect(store.get('abc')).resolves.toEqual(sess);
    await expect(store.peek('abc')).resolves.toEqual(sess);
    await expect(store.touch('abc', sess)).resolves.toBeUndefined();
    await expect(store.length()).resolves.toBe(1);
    await expect(store.ids()).resolves.toEqual(['abc']);
    await expect(store.all()).resolves.toEqual([{ ...sess, id: 'abc' }]);
    await expect(store.destroy('abc')).resolves.toBeUndefined();
    await expect(store.get('abc')).resolves.toBeNull();
    await expect(store.clear()).resolves.toBeUndefined();
  });

  describe('when Redis is down', () => {
    let server: Awaited<ReturnType<typeof startRedisServer>>;
    let down: TestApp;
    let failing: TenantSessionStore;
    beforeAll(async () => {
      server = await startRedisServer();
      down = await createTestApp({ appName: 'cr', redis: server.url, operationTimeoutMs: 300 });
      failing = await down.registry.store('acme');
      await server.stop();
    });
    afterAll(() => down?.close());
    const fresh = () => handMade({ foo: 'bar', cookie: { originalMaxAge: 60_000 } });
    const calls = (cb?: (err: unknown) => void): Record<string, () => Promise<unknown>> => ({
      get: () => (cb ? failing.get('abc', cb) : failing.get('abc')),
      set: () => (cb ? failing.set('abc', fresh(), cb) : failing.set('abc', fresh())),
      destroy: () => (cb ? failing.destroy('abc', cb) : failing.destroy('abc')),
      touch: () => (cb ? failing.touch('abc', fresh(), cb) : failing.touch('abc', fresh())),
      peek: () => (cb ? failing.peek('abc', cb) : failing.peek('abc')),
      all: () => (cb ? failing.all(cb) : failing.all()),
      ids: () => (cb ? failing.ids(cb) : failing.ids()),
      length: () => (cb ? failing.length(cb) : failing.length()),
      clear: () => (cb ? failing.clear(cb) : failing.clear()),
    });

    it.each(Object.keys(calls()))(
      '%s hands the failure to its callback and resolves',
      async (name) => {
        const errors: unknown[] = [];
        await expect(calls((err) => void errors.push(err))[name]()).resolves.toBeUndefined();
        expect(errors).toEqual([expect.any(SessionStoreUnavailableException)]);
      },
    );

    it.each(Object.keys(calls()))('%s rejects without a callback', async (name) => {
      await expect(calls()[name]()).rejects.toThrow(SessionStoreUnavailableException);
    });

    it('never ends the process when those rejections are ignored (seen from a second process)', async () => {
      const run = (mode: string) =>
        new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
          execFile(
            process.execPath,
            [
              fileURLToPath(new URL('../support/ignored-store-calls.mjs', import.meta.url)),
              server.url,
              mode,
            ],
            { timeout: 20_000 },
            (error, stdout) => {
              if (error && error.code === undefined) return reject(error);
              resolve({ code: error ? (error.code as number) : 0, stdout });
            },
          );
        });

      expect(await run('calls')).toEqual({ code: 0, stdout: 'alive\n' });
      // The same process leaving a plain rejection unhandled is ended by it.
      expect(await run('control')).toEqual({ code: 1, stdout: '' });
    }, 30_000);
  });
});
