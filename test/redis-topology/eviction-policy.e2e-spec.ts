import { jest } from '@jest/globals';
import { Logger, type LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import { UnsafeEvictionPolicyError } from 'nestjs-tenant-session';
import { Deployments } from '../../lib/store/deployments.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const APP = 'eviction';
const UNSAFE_POLICIES = [
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls (bounded) until `probe` passes; returns whether it did. */
async function eventually(probe: () => Promise<boolean>, limitMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await sleep(100);
  }
  return false;
}

describe('Redis memory policy', () => {
  const servers: RedisServer[] = [];
  const apps: TestApp[] = [];
  const clients: Redis[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((t) => t.close()));
    for (const client of clients.splice(0)) client.disconnect();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  const serverWith = async (args: string[]) => {
    const server = await startRedisServer(args);
    servers.push(server);
    return server;
  };
  const appOn = async (server: RedisServer, options: { allowUnsafeEviction?: boolean } = {}) => {
    const t = await createTestApp({ appName: APP, redis: server.url, ...options });
    apps.push(t);
    return t;
  };
  const clientOf = (server: RedisServer) => {
    const client = new Redis(server.url);
    clients.push(client);
    return client;
  };
  const loginAs = async (t: TestApp, user: string) => {
    const visitor = new Visitor(t.http, 'acme.test');
    expect((await visitor.post('/login', { user })).status).toBe(201);
    return visitor;
  };

  describe('at start-up', () => {
    // The backend's own 'ready' check also logs the refusal, through Nest's testing logger
    // (no app exists yet to silence it); what start-up throws is what these tests read.
    beforeEach(() => {
      if (!process.env.TEST_LOGS) jest.spyOn(Logger.prototype, 'error').mockReturnValue(undefined);
    });
    afterEach(() => jest.restoreAllMocks());

    it.each(['allkeys-lru', 'volatile-lru', 'volatile-ttl'])(
      'start-up fails with a clear error when Redis can evict index keys (%s)',
      async (policy) => {
        const server = await serverWith(['--maxmemory', '64mb', '--maxmemory-policy', policy]);

        const starting = appOn(server);

        await expect(starting).rejects.toBeInstanceOf(UnsafeEvictionPolicyError);
        const { message } = (await starting.catch((error: unknown) => error)) as Error;
        expect(message).toContain(`"${policy}"`);
        expect(message).toContain(`127.0.0.1:${server.port}`);
        expect(message).toContain('"noeviction"');
        expect(message).toContain('allowUnsafeEviction: true');
      },
    );

    it('starts on an unsafe policy when the app accepts the risk (allowUnsafeEviction)', async () => {
      const server = await serverWith(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);

      const t = await appOn(server, { allowUnsafeEviction: true });

      expect((await (await loginAs(t, 'alice')).get('/me')).status).toBe(200);
    });

    it('starts on noeviction with a maxmemory limit', async () => {
      const server = await serverWith(['--maxmemory', '64mb', '--maxmemory-policy', 'noeviction']);

      const t = await appOn(server);

      expect((await (await loginAs(t, 'alice')).get('/me')).status).toBe(200);
    });

    it('starts on any policy when there is no maxmemory limit (nothing is ever evicted)', async () => {
      const server = await serverWith(['--maxmemory', '0']);
      const admin = clientOf(server);
      for (const policy of UNSAFE_POLICIES) {
        await admin.config('SET', 'maxmemory-policy', policy);

        const t = await appOn(server);

        expect((await (await loginAs(t, 'alice')).get('/me')).status).toBe(200);
        await t.close();
      }
    });
  });

  it('a reconnect to a server whose policy became unsafe refuses requests with 503 until it is safe again', async () => {
    const server = await serverWith(['--maxmemory', '64mb', '--maxmemory-policy', 'noeviction']);
    const t = await appOn(server);
    const logged = { errors: [] as string[], logs: [] as string[] };
    const capture: LoggerService = {
      log: (message: string) => void logged.logs.push(message),
      error: (message: string) => void logged.errors.push(message),
      warn: () => undefined,
    };
    t.app.useLogger(capture);
    const client = t.app.get(Deployments).get().lifecycle.pubSubClient as Redis;
    const admin = clientOf(server);
    const visitor = await loginAs(t, 'alice');
    expect((await visitor.get('/me')).status).toBe(200);
    /** Drops the app's connection; ioredis reconnects, and the backend checks again on 'ready'. */
    const reconnect = async () => {
      const reconnected = new Promise((resolve) => client.once('ready', resolve));
      expect(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal')).toBeGreaterThanOrEqual(1);
      await reconnected;
    };

    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await admin.config('SET', 'maxmemory', '64mb');
    await reconnect();

    // The re-check runs right after 'ready'; once it has, every request is refused.
    expect(await eventually(async () => (await visitor.get('/me')).status === 503)).toBe(true);
    expect(client.status).toBe('ready');
    for (let i = 0; i < 5; i++) {
      const res = await visitor.get('/me');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'SESSION_STORE_UNAVAILABLE',
        message: 'Session store unavailable',
      });
    }
    const login = await new Visitor(t.http, 'acme.test').post('/login', { user: 'bob' });
    expect(login.status).toBe(503);
    expect(login.headers['set-cookie']).toBeUndefined();
    expect(logged.errors).toEqual([
      expect.stringMatching(/"allkeys-lru".*"noeviction".*allowUnsafeEviction.*Refusing requests/s),
    ]);

    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await reconnect();

    expect(await eventually(async () => (await visitor.get('/me')).status === 200)).toBe(true);
    expect((await visitor.get('/me')).body).toMatchObject({ user: 'alice' });
    expect(logged.logs).toContainEqual(expect.stringMatching(/memory policy is safe again/));
    expect(logged.errors).toHaveLength(1);
  });

  it('a session whose index was evicted no longer serves: revocation cannot miss it', async () => {
    const server = await serverWith([]);
    const t = await appOn(server);
    const redis = clientOf(server);
    const laptop = await loginAs(t, 'alice');
    const phone = await loginAs(t, 'alice');
    expect((await laptop.get('/me')).status).toBe(200);

    // As an eviction would: the index key goes, the sessions stay.
    await redis.del(`sessions-index:acme:${APP}:alice`);

    for (const browser of [laptop, phone]) expect((await browser.get('/me')).status).toBe(401);
    expect(await redis.keys(`sessions:acme:${APP}:*`)).toEqual([]);
    expect(await t.sessions.revokeAll('acme', 'alice')).toBe(0);
  });

  describe('measured: which policies keep revocation exact', () => {
    const USERS = 10;
    const SESSIONS_PER_USER = 3;
    const MAXMEMORY = '4mb';
    const FILLER_VALUE = 'x'.repeat(8 * 1024);
    /** Per round; one in 8 carries no TTL (a cache's permanent entries). */
    const FILLERS_PER_ROUND = 48;
    /** About 3 times the memory limit in all, in paced rounds so Redis' 1 s LRU clock ticks. */
    const FILL_ROUNDS = 24;
    const ROUND_MS = 250;
    const AGEING_MS = 1500;
    const sessionCount = USERS * SESSIONS_PER_USER;

    interface Measurement {
      policy: string;
      evictedKeys: number;
      indexKeysEvicted: number;
      sessionsEvicted: number;
      /** Redis refused cache writes (out of memory) and the filling stopped. */
      fillerOom: boolean;
      /** Sessions readable in the last round of filling. */
      readableWhenFull: number;
      /** What a new login answered once memory was full. */
      loginWhenFull: number;
      /** Sessions still in Redis whose user's index was evicted, and of those, how many served. */
      orphaned: number;
      orphansServing: number;
      revoked: number;
      revokeAllFailed: number;
      aliveAfterRevokeAll: number;
      usersWithSurvivors: number;
      /** LFU policies: the surviving index keys' access counters, lowest–highest. */
      indexFrequency: string;
    }

    /** Writes ever smaller values until each size is refused (bounded): memory is at its limit. */
    async function fillToTheBrim(cache: Redis): Promise<void> {
      let n = 0;
      for (const size of [8192, 1024, 64]) {
        for (let i = 0; i < 100; i++) {
          const refused = await cache.set(`brim:${n++}`, 'x'.repeat(size)).then(
            () => false,
            (error: Error) => /OOM/.test(error.message),
          );
          if (refused) break;
        }
      }
    }

    async function measure(policy: string): Promise<Measurement> {
      const server = await serverWith(['--maxmemory', MAXMEMORY, '--maxmemory-policy', policy]);
      const t = await appOn(server, { allowUnsafeEviction: true });
      const cache = clientOf(server);
      const users = Array.from({ length: USERS }, (_, i) => `user${i}`);
      const sessions: { user: string; visitor: Visitor; key: string }[] = [];
      for (const user of users) {
        for (let i = 0; i < SESSIONS_PER_USER; i++) {
          const visitor = await loginAs(t, user);
          sessions.push({ user, visitor, key: `sessions:acme:${APP}:${visitor.sessionId()}` });
        }
      }
      const indexKeys = users.map((user) => `sessions-index:acme:${APP}:${user}`);
      expect(await cache.exists(...indexKeys)).toBe(USERS);
      const readAll = async () => {
        const answers = await Promise.all(sessions.map(({ visitor }) => visitor.get('/me')));
        return answers.filter((res) => res.status === 200).length;
      };

      // Reads touch the sessions and their owners' index keys (READ) alike.
      const ageing = Date.now() + AGEING_MS;
      while (Date.now() < ageing) {
        expect(await readAll()).toBe(sessions.length);
        await sleep(100);
      }

      let fillerOom = false;
      let readableWhenFull = 0;
      let n = 0;
      for (let round = 0; round < FILL_ROUNDS && !fillerOom; round++) {
        const roundEnd = Date.now() + ROUND_MS;
        const writes = cache.pipeline();
        for (let i = 0; i < FILLERS_PER_ROUND; i++, n++) {
          // Cache entries expire anywhere between a minute and a day from now.
          if (n % 8 === 0) writes.set(`cache:${n}`, FILLER_VALUE);
          else writes.set(`cache:${n}`, FILLER_VALUE, 'EX', 60 + ((n * 7919) % 86_340));
        }
        const replies = (await writes.exec()) ?? [];
        // With noeviction (or no volatile key left to evict) Redis refuses writes: stop there.
        fillerOom = replies.some(([error]) => /OOM/.test(String(error)));
        readableWhenFull = await readAll();
        await sleep(Math.max(0, roundEnd - Date.now()));
      }
      // A pipeline's own buffer counts while it runs: top up until a lone small write is refused.
      // Redis may free a client's idle buffers between that and the login (then not full any
      // more, so a login may pass): with noeviction, top up and try again, at most 3 times.
      let late: Awaited<ReturnType<Visitor['post']>>;
      for (let attempt = 1; ; attempt++) {
        if (fillerOom) await fillToTheBrim(cache);
        late = await new Visitor(t.http, 'acme.test').post('/login', { user: 'late' });
        if (late.status !== 201 || !fillerOom || attempt === 3) break;
      }
      const loginWhenFull = late.status;
      if (loginWhenFull !== 201) expect(late.headers['set-cookie']).toBeUndefined();

      const evictedKeys = Number(/evicted_keys:(\d+)/.exec(await cache.info('stats'))?.[1]);
      // EXISTS does not touch keys (no LRU/LFU update).
      let indexKeysEvicted = 0;
      for (const key of indexKeys) indexKeysEvicted += 1 - (await cache.exists(key));
      let sessionsEvicted = 0;
      for (const { key } of sessions) sessionsEvicted += 1 - (await cache.exists(key));
      // OBJECT FREQ does not touch either; a fresh cache entry starts at 5 and gains on access.
      const frequencies: number[] = [];
      if (policy.endsWith('-lfu')) {
        for (const key of indexKeys) {
          if (await cache.exists(key)) frequencies.push(Number(await cache.object('FREQ', key)));
        }
      }
      const indexFrequency = frequencies.length
        ? `${Math.min(...frequencies)}–${Math.max(...frequencies)}`
        : '–';

      // A session whose index is gone must not serve: nothing could revoke it any more.
      let orphaned = 0;
      let orphansServing = 0;
      for (const { user, visitor, key } of sessions) {
        const indexGone = (await cache.exists(`sessions-index:acme:${APP}:${user}`)) === 0;
        if (!indexGone || (await cache.exists(key)) === 0) continue;
        orphaned++;
        if ((await visitor.get('/me')).status === 200) orphansServing++;
      }

      let revoked = 0;
      let revokeAllFailed = 0;
      for (const user of users) {
        try {
          revoked += await t.sessions.revokeAll('acme', user);
        } catch {
          revokeAllFailed++;
        }
      }
      const survivors = new Set<string>();
      let aliveAfterRevokeAll = 0;
      for (const { user, visitor } of sessions) {
        if ((await visitor.get('/me')).status !== 200) continue;
        aliveAfterRevokeAll++;
        survivors.add(user);
      }
      return {
        policy,
        evictedKeys,
        indexKeysEvicted,
        sessionsEvicted,
        fillerOom,
        readableWhenFull,
        loginWhenFull,
        orphaned,
        orphansServing,
        revoked,
        revokeAllFailed,
        aliveAfterRevokeAll,
        usersWithSurvivors: survivors.size,
        indexFrequency,
      };
    }

    it('noeviction keeps every session and revocation; other policies evict indexes, which logs their users out but never lets a revoked session serve', async () => {
      const results = await Promise.all(['noeviction', ...UNSAFE_POLICIES].map(measure));

      const columns: [string, (r: Measurement) => string | number][] = [
        ['policy', (r) => r.policy],
        ['keys evicted', (r) => r.evictedKeys],
        [`index keys evicted (of ${USERS})`, (r) => r.indexKeysEvicted],
        [`sessions evicted (of ${sessionCount})`, (r) => r.sessionsEvicted],
        ['sessions left without their index: serving', (r) => `${r.orphaned}: ${r.orphansServing}`],
        [
          'revokeAll: revoked',
          (r) => r.revoked + (r.revokeAllFailed ? ` (${r.revokeAllFailed} failed)` : ''),
        ],
        [`sessions alive after revokeAll (of ${sessionCount})`, (r) => r.aliveAfterRevokeAll],
        [`users with a survivor (of ${USERS})`, (r) => r.usersWithSurvivors],
        ['cache writes refused (OOM)', (r) => (r.fillerOom ? 'yes' : 'no')],
        ['a login when full', (r) => r.loginWhenFull],
        ["index keys' LFU counter", (r) => r.indexFrequency],
      ];
      const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
      console.log(
        [
          `maxmemory ${MAXMEMORY}, ${USERS} users × ${SESSIONS_PER_USER} sessions, reads plus ` +
            'cache entries (1 in 8 without TTL) written to about 3× the limit, then revokeAll ' +
            'for every user:',
          row(columns.map(([name]) => name)),
          row(columns.map(() => '---')),
          ...results.map((r) => row(columns.map(([, cell]) => cell(r)))),
        ].join('\n'),
      );

      const noeviction = results[0];
      // The premise: memory really was full (Redis refused the filler writes).
      expect(noeviction).toMatchObject({
        fillerOom: true,
        // Full, it still serves reads and refuses new logins (503, no cookie).
        readableWhenFull: sessionCount,
        loginWhenFull: 503,
        evictedKeys: 0,
        indexKeysEvicted: 0,
        sessionsEvicted: 0,
        revokeAllFailed: 0,
        revoked: sessionCount,
        aliveAfterRevokeAll: 0,
        usersWithSurvivors: 0,
      });
      // Why start-up refuses these: they evict indexes, and a session whose index is gone no longer
      // serves (its user is logged out); an index's not-before goes with it too. Revocation itself
      // stays exact: a session serves only while its index admits it.
      expect(results.some((r) => r.indexKeysEvicted > 0)).toBe(true);
      for (const r of results) expect([r.orphansServing, r.aliveAfterRevokeAll]).toEqual([0, 0]);
    }, 60_000);
  });
});
