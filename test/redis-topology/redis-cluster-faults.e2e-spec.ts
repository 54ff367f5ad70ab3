import { Cluster } from 'ioredis';
import { SessionStoreUnavailableException } from 'nestjs-tenant-session';
import type request from 'supertest';
import { CommandMonitor, script } from '../support/monitor.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.mjs';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

const APP = 'cluster-faults';
const OPERATION_TIMEOUT_MS = 400;
/** Not a performance figure: the line between "fails at its deadline" and "hangs on the shard". */
const HANG_LIMIT_MS = OPERATION_TIMEOUT_MS * 5;
/** Every loop of logins against a frozen shard stops here, well inside cluster-node-timeout. */
const FROZEN_LIMIT_MS = 8_000;

const sessionKey = (sid: string) => `sessions:acme:${APP}:${sid}`;
const indexKey = (user: string) => `sessions-index:acme:${APP}:${user}`;

interface Attempt {
  browser: Visitor;
  res: request.Response;
}

interface StoredSession {
  sid: string;
  port: number;
  ttlMs: number;
}

describe('on a Redis Cluster with one shard frozen (SIGSTOP)', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let t: TestApp;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = new Cluster(cluster.nodes);
    t = await createTestApp({
      appName: APP,
      redis: client,
      operationTimeoutMs: OPERATION_TIMEOUT_MS,
    });
  }, 30_000);
  afterAll(async () => {
    for (const { port } of cluster?.nodes ?? []) cluster.resume(port);
    await t?.close();
    await client?.quit();
    await cluster?.stop();
  });

  /** Logs `user` in from a new browser; setup logins must succeed. */
  async function loggedIn(user: string, device: string) {
    const browser = new Visitor(t.http, 'acme.test', device);
    expect((await browser.post('/login', { user })).status).toBe(201);
    const sid = browser.sessionId()!;
    return { browser, sid, port: await cluster.portOf(sessionKey(sid)) };
  }

  /**
   * Several sessions of one user, logged in until `count` exist and `spread` holds (bounded),
   * so they sit on more than one shard.
   */
  async function sessionsOf(
    user: string,
    count: number,
    spread: (ports: number[]) => boolean = (ports) => new Set(ports).size > 1,
  ) {
    const sessions: Awaited<ReturnType<typeof loggedIn>>[] = [];
    while (sessions.length < count || !spread(sessions.map((s) => s.port))) {
      if (sessions.length >= 4 * count) throw new Error('sessions did not spread over the shards');
      sessions.push(await loggedIn(user, `${user}-device-${sessions.length}`));
    }
    return sessions;
  }

  /** Resumes a frozen master and waits until every command queued on it meanwhile has run. */
  async function resume(port: number): Promise<void> {
    cluster.resume(port);
    // The app's own connections: a PING answers only after what was queued before it.
    await Promise.all(client.nodes('master').map((node) => node.ping()));
  }

  /** Every session key of `user` stored on any master (scanned, owner decoded from the JSON). */
  async function storedSessions(user: string): Promise<StoredSession[]> {
    const found: StoredSession[] = [];
    for (const node of client.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', sessionKey('*'), 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const [raw, ttlMs] = await Promise.all([node.get(key), node.pttl(key)]);
          const owner = raw === null ? undefined : JSON.parse(raw)._owner;
          if (owner?.userId !== user) continue;
          found.push({ sid: key.slice(sessionKey('').length), port: node.options.port!, ttlMs });
        }
      } while (cursor !== '0');
    }
    return found;
  }

  /** The invariant: every stored session of `user` has an index entry that outlives it. */
  async function expectEveryStoredSessionIndexed(user: string): Promise<StoredSession[]> {
    const stored = await storedSessions(user);
    const [seconds, micros] = await client.time();
    const redisNowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    for (const { sid, ttlMs } of stored) {
      const lease = await client.zscore(indexKey(user), sid);
      expect({ sid, indexed: lease !== null }).toEqual({ sid, indexed: true });
      expect(Number(lease)).toBeGreaterThan(redisNowMs + ttlMs);
    }
    return stored;
  }

  /** The sids still in the user's index (the not-before member left out). */
  async function indexedSids(user: string): Promise<string[]> {
    const members = await client.zrange(indexKey(user), '0', '-1');
    return members.filter((member) => !member.startsWith('!'));
  }

  /** Runs `operation`, returning what it threw (or undefined) and how long it took. */
  async function outcomeOf(operation: () => Promise<unknown>) {
    const started = Date.now();
    const error = await operation().then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    return { error, elapsedMs: Date.now() - started };
  }

  /** The last word: after everything resumed, one revokeAll leaves the user nothing anywhere. */
  async function expectRevokeAllLeavesNothing(user: string, browsers: Visitor[]): Promise<void> {
    await t.sessions.revokeAll('acme', user);
    expect(await storedSessions(user)).toEqual([]);
    expect(await indexedSids(user)).toEqual([]);
    for (const browser of browsers) expect((await browser.get('/me')).status).toBe(401);
  }

  it('revokeAll with a frozen shard holding some sessions answers 503, leaves every live session indexed, and a retry removes them all', async () => {
    const user = 'carol';
    const indexPort = await cluster.portOf(indexKey(user));
    const sessions = await sessionsOf(user, 6, (ports) => ports.some((p) => p !== indexPort));
    const frozen = sessions.find((s) => s.port !== indexPort)!.port;
    const onFrozenShard = sessions.filter((s) => s.port === frozen);

    cluster.pause(frozen);
    let outcome: Awaited<ReturnType<typeof outcomeOf>>;
    let stillIndexedWhileFrozen: (string | null)[];
    try {
      outcome = await outcomeOf(() => t.sessions.revokeAll('acme', user));
      // Those sessions are certainly alive now (their shard has run nothing): still findable.
      stillIndexedWhileFrozen = await Promise.all(
        onFrozenShard.map((s) => client.zscore(indexKey(user), s.sid)),
      );
    } finally {
      await resume(frozen);
    }

    expect(outcome.error).toBeInstanceOf(SessionStoreUnavailableException);
    expect(outcome.elapsedMs).toBeLessThan(HANG_LIMIT_MS);
    expect(stillIndexedWhileFrozen).not.toContain(null);
    await expectEveryStoredSessionIndexed(user);
    expect(await indexedSids(user)).toEqual(
      expect.arrayContaining(onFrozenShard.map((s) => s.sid)),
    );

    await t.sessions.revokeAll('acme', user);
    expect(await storedSessions(user)).toEqual([]);
    expect(await indexedSids(user)).toEqual([]);
    for (const { browser } of sessions) expect((await browser.get('/me')).status).toBe(401);
  });

  it('revokeAll with the shard holding the user’s index frozen answers 503, leaves every session indexed, and a retry removes them all', async () => {
    const user = 'dan';
    const indexPort = await cluster.portOf(indexKey(user));
    const sessions = await sessionsOf(user, 6);

    cluster.pause(indexPort);
    let outcome: Awaited<ReturnType<typeof outcomeOf>>;
    try {
      outcome = await outcomeOf(() => t.sessions.revokeAll('acme', user));
    } finally {
      await resume(indexPort);
    }

    expect(outcome.error).toBeInstanceOf(SessionStoreUnavailableException);
    expect(outcome.elapsedMs).toBeLessThan(HANG_LIMIT_MS);
    const stored = await expectEveryStoredSessionIndexed(user);
    // Nothing was deleted blind: every session is still there, and findable.
    expect(stored.map((s) => s.sid).sort()).toEqual(sessions.map((s) => s.sid).sort());

    expect(await t.sessions.revokeAll('acme', user)).toBe(sessions.length);
    expect(await storedSessions(user)).toEqual([]);
    expect(await indexedSids(user)).toEqual([]);
    for (const { browser } of sessions) expect((await browser.get('/me')).status).toBe(401);
  });

  it('a login answered 503 while the user’s index shard is frozen (before indexing, or between indexing and confirming) leaves no working session, or an indexed one', async () => {
    const user = 'erin';
    const indexPort = await cluster.portOf(indexKey(user));
    const sessions = await sessionsOf(user, 3);
    const early: Attempt[] = [];
    const late: (Attempt & { sid: string })[] = [];

    // Frozen before the login starts: ADMIT (or the regenerate before it) never answers.
    for (let i = 0; i < 3; i++) {
      const browser = new Visitor(t.http, 'acme.test', `${user}-early-${i}`);
      cluster.pause(indexPort);
      try {
        early.push({ browser, res: await browser.post('/login', { user }) });
      } finally {
        await resume(indexPort);
      }
    }

    // Frozen the moment the shard ran this user's ADMIT: the session is stored (or queued for
    // the frozen shard) and CONFIRM never answers. On a loaded machine CONFIRM can rarely slip
    // in before the freeze; that login then simply succeeded, so try until three were caught.
    const monitor = await CommandMonitor.open(`redis://127.0.0.1:${indexPort}`);
    try {
      for (let i = 0; i < 6 && late.filter((a) => a.res.status !== 201).length < 3; i++) {
        const browser = new Visitor(t.http, 'acme.test', `${user}-late-${i}`);
        const admitted = monitor.when(
          (c) => script('admit')(c) && c.args[2] === indexKey(user),
          () => cluster.pause(indexPort),
          { label: 'the ADMIT of the login' },
        );
        try {
          const res = await browser.post('/login', { user });
          late.push({ browser, res, sid: (await admitted).args[3] });
        } finally {
          monitor.disarm();
          await resume(indexPort);
        }
      }
    } finally {
      monitor.close();
    }

    for (const { res } of early) expect(res.status).toBe(503);
    const caught = late.filter((a) => a.res.status !== 201);
    expect(caught).toHaveLength(3);
    for (const { browser, res } of [...early, ...caught]) {
      expect(res.status).toBe(503);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect((await browser.get('/me')).status).toBe(401);
    }
    const stored = await expectEveryStoredSessionIndexed(user);
    // Failed logins did leave their sessions stored, so the check above was not vacuous.
    expect(stored.map((s) => s.sid)).toEqual(expect.arrayContaining(caught.map((a) => a.sid)));
    const working = [...sessions, ...late.filter((a) => a.res.status === 201)];
    for (const { browser } of working) expect((await browser.get('/me')).status).toBe(200);

    await expectRevokeAllLeavesNothing(user, [
      ...sessions.map((s) => s.browser),
      ...early.map((a) => a.browser),
      ...late.map((a) => a.browser),
    ]);
  });

  it('logins answered 503 while another shard is frozen leave no working session, or an indexed one', async () => {
    const user = 'frank';
    const indexPort = await cluster.portOf(indexKey(user));
    const sessions = await sessionsOf(user, 3);
    const frozen = cluster.nodes.find((node) => node.port !== indexPort)!.port;
    const attempts: Attempt[] = [];

    cluster.pause(frozen);
    try {
      const deadline = Date.now() + FROZEN_LIMIT_MS;
      for (let i = 0; i < 20 && Date.now() < deadline; i++) {
        const browser = new Visitor(t.http, 'acme.test', `${user}-during-${i}`);
        attempts.push({ browser, res: await browser.post('/login', { user }) });
      }
    } finally {
      await resume(frozen);
    }

    const failed = attempts.filter((a) => a.res.status !== 201);
    const succeeded = attempts.filter((a) => a.res.status === 201);
    // Session keys are random, so some logins landed on the frozen shard and some did not.
    expect(failed.length).toBeGreaterThan(0);
    expect(succeeded.length).toBeGreaterThan(0);
    for (const { browser, res } of failed) {
      expect(res.status).toBe(503);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect((await browser.get('/me')).status).toBe(401);
    }
    for (const { browser } of succeeded) expect((await browser.get('/me')).status).toBe(200);
    const stored = await expectEveryStoredSessionIndexed(user);
    expect(stored.length).toBeGreaterThanOrEqual(sessions.length + succeeded.length);

    await expectRevokeAllLeavesNothing(user, [
      ...sessions.map((s) => s.browser),
      ...attempts.map((a) => a.browser),
    ]);
  });

  it('revokeAll whose index shard freezes right after reading the index answers 503, and a retry removes them all', async () => {
    const user = 'grace';
    const indexPort = await cluster.portOf(indexKey(user));
    const browsers: Visitor[] = [];
    const monitor = await CommandMonitor.open(`redis://127.0.0.1:${indexPort}`);
    let outcome: Awaited<ReturnType<typeof outcomeOf>> | undefined;
    try {
      // Two round trips follow ENTRIES; a freeze could only miss them on a starved machine,
      // and then that revocation simply completed: try again (bounded).
      for (let round = 0; round < 3 && !outcome?.error; round++) {
        browsers.push(...(await sessionsOf(user, 6)).map((s) => s.browser));
        const frozen = monitor.when(
          (c) => script('entries')(c) && c.args[2] === indexKey(user),
          () => cluster.pause(indexPort),
          { label: 'the ENTRIES of the revocation' },
        );
        try {
          outcome = await outcomeOf(() => t.sessions.revokeAll('acme', user));
          await frozen;
        } finally {
          monitor.disarm();
          await resume(indexPort);
        }
      }
    } finally {
      monitor.close();
    }

    // The deletes on that shard, or the unindexing after them, never answered.
    expect(outcome?.error).toBeInstanceOf(SessionStoreUnavailableException);
    expect(outcome?.elapsedMs).toBeLessThan(HANG_LIMIT_MS);
    await expectEveryStoredSessionIndexed(user);

    await expectRevokeAllLeavesNothing(user, browsers);
  });

  it('revokeOthers with a frozen shard holding other sessions answers 503, leaves them indexed, and a retry signs out every other device', async () => {
    const user = 'heidi';
    const indexPort = await cluster.portOf(indexKey(user));
    const sessions = await sessionsOf(user, 6, (ports) =>
      ports.slice(1).some((p) => p !== indexPort && p !== ports[0]),
    );
    const [current, ...others] = sessions;
    const frozen = others.find((s) => s.port !== indexPort && s.port !== current.port)!.port;
    const onFrozenShard = others.filter((s) => s.port === frozen);

    cluster.pause(frozen);
    let res: request.Response;
    let stillIndexedWhileFrozen: (string | null)[];
    try {
      res = await current.browser.post('/sessions/revoke-others');
      stillIndexedWhileFrozen = await Promise.all(
        onFrozenShard.map((s) => client.zscore(indexKey(user), s.sid)),
      );
    } finally {
      await resume(frozen);
    }

    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'SESSION_STORE_UNAVAILABLE',
      message: 'Session store unavailable',
    });
    expect(stillIndexedWhileFrozen).not.toContain(null);
    await expectEveryStoredSessionIndexed(user);

    const retry = await current.browser.post('/sessions/revoke-others');
    expect(retry.status).toBe(201);
    expect((await current.browser.get('/me')).status).toBe(200);
    for (const { browser } of others) expect((await browser.get('/me')).status).toBe(401);
    expect((await storedSessions(user)).map((s) => s.sid)).toEqual([current.sid]);

    await expectRevokeAllLeavesNothing(user, [current.browser]);
  });

  it('revoking one session whose shard is frozen answers 503, keeps it indexed, and a retry revokes it', async () => {
    const user = 'ivan';
    const indexPort = await cluster.portOf(indexKey(user));
    const sessions = await sessionsOf(user, 4, (ports) =>
      ports.slice(1).some((p) => p !== indexPort && p !== ports[0]),
    );
    const [current, ...others] = sessions;
    const target = others.find((s) => s.port !== indexPort && s.port !== current.port)!;
    const listed = (await target.browser.get('/sessions')).body as {
      id: string;
      current: boolean;
    }[];
    const handle = listed.find((s) => s.current)!.id;

    cluster.pause(target.port);
    let res: request.Response;
    let stillIndexedWhileFrozen: string | null;
    try {
      res = await current.browser.delete(`/sessions/${handle}`);
      stillIndexedWhileFrozen = await client.zscore(indexKey(user), target.sid);
    } finally {
      await resume(target.port);
    }

    expect(res.status).toBe(503);
    expect(stillIndexedWhileFrozen).not.toBeNull();
    await expectEveryStoredSessionIndexed(user);

    expect((await current.browser.delete(`/sessions/${handle}`)).status).toBe(200);
    expect((await target.browser.get('/me')).status).toBe(401);
    for (const { browser } of sessions.filter((s) => s !== target)) {
      expect((await browser.get('/me')).status).toBe(200);
    }
    expect(await client.exists(sessionKey(target.sid))).toBe(0);

    await expectRevokeAllLeavesNothing(
      user,
      sessions.map((s) => s.browser),
    );
  });

  it('logins racing a revokeAll that a frozen shard interrupted answer 201, 401 or 503, stay indexed, and none survives the retry', async () => {
    const user = 'judy';
    const indexPort = await cluster.portOf(indexKey(user));
    const sessions = await sessionsOf(user, 4, (ports) => ports.some((p) => p !== indexPort));
    const frozen = sessions.find((s) => s.port !== indexPort)!.port;
    const attempts: Attempt[] = [];
    let stop = false;
    const loop = async (racer: number) => {
      for (let i = 0; i < 8 && !stop; i++) {
        const browser = new Visitor(t.http, 'acme.test', `${user}-racer-${racer}-${i}`);
        attempts.push({ browser, res: await browser.post('/login', { user }) });
      }
    };

    cluster.pause(frozen);
    let outcome: Awaited<ReturnType<typeof outcomeOf>>;
    try {
      const racers = [0, 1, 2, 3].map(loop);
      await new Promise((resolve) => setTimeout(resolve, 200));
      outcome = await outcomeOf(() => t.sessions.revokeAll('acme', user));
      stop = true;
      await Promise.all(racers);
    } finally {
      stop = true;
      await resume(frozen);
    }

    expect(outcome.error).toBeInstanceOf(SessionStoreUnavailableException);
    expect(attempts.length).toBeGreaterThan(0);
    for (const { res } of attempts) expect([201, 401, 503]).toContain(res.status);
    for (const { browser, res } of attempts.filter((a) => a.res.status !== 201)) {
      expect(res.headers['set-cookie']).toBeUndefined();
      expect((await browser.get('/me')).status).toBe(401);
    }
    await expectEveryStoredSessionIndexed(user);

    await expectRevokeAllLeavesNothing(user, [
      ...sessions.map((s) => s.browser),
      ...attempts.map((a) => a.browser),
    ]);
  });

  // Last: it off-boards the whole tenant the other tests use.
  it('revokeTenant with a frozen shard answers 503, leaves every live session indexed, and a retry off-boards the tenant', async () => {
    // A user whose index sits on the master scanned first, with sessions on a later one.
    const scanOrder = client.nodes('master').map((node) => node.options.port!);
    let user: string | undefined;
    for (let i = 0; i < 30 && !user; i++) {
      if ((await cluster.portOf(indexKey(`kate-${i}`))) === scanOrder[0]) user = `kate-${i}`;
    }
    const sessions = await sessionsOf(user!, 6, (ports) => ports.some((p) => p !== scanOrder[0]));
    const frozen = sessions.find((s) => s.port !== scanOrder[0])!.port;
    const onFrozenShard = sessions.filter((s) => s.port === frozen);

    cluster.pause(frozen);
    let outcome: Awaited<ReturnType<typeof outcomeOf>>;
    let stillIndexedWhileFrozen: (string | null)[];
    try {
      outcome = await outcomeOf(() => t.sessions.revokeTenant('acme'));
      stillIndexedWhileFrozen = await Promise.all(
        onFrozenShard.map((s) => client.zscore(indexKey(user!), s.sid)),
      );
    } finally {
      await resume(frozen);
    }

    expect(outcome.error).toBeInstanceOf(SessionStoreUnavailableException);
    expect(outcome.elapsedMs).toBeLessThan(HANG_LIMIT_MS);
    expect(stillIndexedWhileFrozen).not.toContain(null);
    await expectEveryStoredSessionIndexed(user!);

    await t.sessions.revokeTenant('acme');
    expect(await storedSessions(user!)).toEqual([]);
    expect(await client.exists(indexKey(user!))).toBe(0);
    for (const { browser } of sessions) expect((await browser.get('/me')).status).toBe(401);
  });
});
