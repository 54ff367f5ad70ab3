import { Redis } from 'ioredis';
import request from 'supertest';
import {
  SessionStoreUnavailableException,
  type TenantSessionModuleOptions,
} from 'nestjs-tenant-session';
import { startAppProcess, type AppProcess } from '../support/fault-app-process.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { command, CommandMonitor, script, type CommandPredicate } from '../support/monitor.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { Visitor } from '../support/visitor.js';

/**
 * "Every multi-step operation is safe to interrupt at any point", tried at every point. The
 * redis-server is frozen (SIGSTOP) the moment MONITOR shows a step: the operation's next round
 * trip is stuck, the operation fails at its deadline, and what it had sent still runs once
 * Redis is resumed. Or the app process is killed there, and nothing more is sent. Afterwards no
 * live session of the user may be missing from their index (revocation could not find it), a
 * login that failed may leave no working session behind, and a retry must finish the job.
 */

const TENANT = 'acme';
const HOST = 'acme.test';
const APP = 'faults';
const USER = 'alice';
const SESSION_PREFIX = `sessions:${TENANT}:${APP}:`;
const INDEX_KEY = `sessions-index:${TENANT}:${APP}:${USER}`;
// Generous: every step also waits for the MONITOR barrier, and CI machines are busy (a budget
// spent by slowness alone would end an operation before the step under test).
const OPERATION_TIMEOUT_MS = 2500;
/** Not a performance figure: the line between "fails at its deadline" and "hangs". */
const HANG_LIMIT_MS = OPERATION_TIMEOUT_MS * 4;

type Http = Parameters<typeof request>[0];

/** A step of an operation: the command (or script) MONITOR shows for it. */
interface Step {
  step: string;
  match: CommandPredicate;
  /** The how-manieth command it matches is the step (default the first). */
  nth?: number;
}

const step = (name: string, match: CommandPredicate): Step => ({ step: name, match });
const READ = step('READ', script('read'));
/** A logout's (or a login's regeneration's) deletion, after the owner's entry went (ZREM). */
const DELETE_IF_UNCHANGED = step('delete-if-unchanged', script('delete-if-unchanged'));
const SET = step('SET', command('set', SESSION_PREFIX));
const DEL = step('DEL', command('del', SESSION_PREFIX));
const ZREM = step('ZREM', command('zrem', INDEX_KEY));
const ENTRIES = step('entries', script('entries'));
const ADMIT = step('admit', script('admit'));
const CONFIRM = step('confirm', script('confirm'));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Rig {
  server: RedisServer;
  redis: Redis;
  monitor: CommandMonitor;
  proxy: FaultProxy;
  t: TestApp;
}

/**
 * A redis-server of the describe's own (flushed before each test), watched, and an app on it
 * through a FaultProxy, so that a freeze after step k always lands before step k+1 runs.
 */
function useFaultRig(options: Partial<TenantSessionModuleOptions> = {}): Rig {
  const rig = {} as Rig;
  beforeAll(async () => {
    rig.server = await startRedisServer();
    rig.redis = new Redis(rig.server.url);
    rig.monitor = await CommandMonitor.open(rig.server.url);
    rig.proxy = await FaultProxy.start(rig.server.port, rig.monitor);
    rig.t = await createTestApp({
      appName: APP,
      redis: rig.proxy.url,
      operationTimeoutMs: OPERATION_TIMEOUT_MS,
      ...options,
    });
  });
  afterAll(async () => {
    await rig.t?.close();
    await rig.proxy?.close();
    rig.monitor?.close();
    rig.redis?.disconnect();
    await rig.server?.stop();
  });
  beforeEach(() => rig.redis.flushall());
  afterEach(() => {
    // A failed test must not leave the server frozen for the next one.
    rig.server.resume();
    rig.monitor.disarm();
  });
  return rig;
}

/** Browsers `browser-1` … `browser-n`, each logged in as USER. */
async function logInBrowsers(http: Http, n = 3): Promise<Visitor[]> {
  const browsers: Visitor[] = [];
  for (let i = 1; i <= n; i++) {
    const browser = new Visitor(http, HOST, `browser-${i}`);
    expect((await browser.post('/login', { user: USER })).status).toBe(201);
    browsers.push(browser);
  }
  return browsers;
}

const sessionKey = (browser: Visitor) => SESSION_PREFIX + browser.sessionId();

async function status(browser: Visitor): Promise<number> {
  return (await browser.get('/me')).status;
}

/**
 * Arms a freeze of the server right after `match` runs; `frozen` resolves once it did. MONITOR's
 * lines for earlier commands are read first, so a late line of an earlier request's step cannot
 * fire it (seen under load: the freeze landed on the previous login's confirm, before the
 * operation under test had begun).
 */
async function freezeAfter(
  rig: Rig,
  { step, match, nth }: Step,
): Promise<{ frozen: Promise<unknown> }> {
  await rig.monitor.barrier();
  const frozen = rig.monitor.when(
    match,
    () => {
      rig.server.pause();
      rig.monitor.reset();
    },
    { label: `step '${step}'`, nth },
  );
  return { frozen };
}

/**
 * Resumes the server, waits until what was queued meanwhile has run; returns what ran since,
 * but for the PUBLISH of session events (lib/realtime): it tells the app's other instances what
 * happened, and is no step of the operation.
 */
async function thaw(rig: Rig): Promise<string[]> {
  rig.server.resume();
  await rig.monitor.quiet();
  return rig.monitor.commands().filter((command) => !command.startsWith('publish tenant-session:'));
}

interface Outcome {
  status: number;
  elapsedMs: number;
  body?: unknown;
}

/** A service call's outcome: 200 with its value, or 503 when it threw the store's exception. */
async function call(operation: () => Promise<unknown>): Promise<Outcome> {
  const started = Date.now();
  try {
    const body = await operation();
    return { status: 200, elapsedMs: Date.now() - started, body };
  } catch (error) {
    if (!(error instanceof SessionStoreUnavailableException)) throw error;
    return { status: 503, elapsedMs: Date.now() - started };
  }
}

async function send(operation: () => Promise<request.Response>): Promise<Outcome> {
  const started = Date.now();
  const res = await operation();
  return { status: res.status, elapsedMs: Date.now() - started, body: res.body };
}

/** The 503 an interrupted operation answers, at its deadline rather than later. */
/**
 * After a freeze at an operation's last step nothing more was sent. The freeze can land after
 * Redis ran that step but before it wrote the reply (MONITOR's line can go out first): the
 * operation then answers its 503 although everything was done; otherwise it answered success.
 */
function lastStepAnswered(outcome: Outcome, after: unknown[]): boolean {
  expect(after).toEqual([]);
  if (outcome.status !== 503) return true;
  expectUnavailable(outcome);
  return false;
}

/** Whether a command of this name ran (MONITOR's lines, as `thaw` returns them). */
const ran = (commands: string[], name: string) =>
  commands.some((line) => line.startsWith(`${name} `));

function expectUnavailable(outcome: Outcome): void {
  expect(outcome.status).toBe(503);
  expect(outcome.elapsedMs).toBeLessThan(HANG_LIMIT_MS);
}

async function redisNow(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** Every session key stored now, with its owner, remaining TTL and index lease (null: unindexed). */
async function storedSessions(redis: Redis) {
  const keys = (await redis.keys(`${SESSION_PREFIX}*`)).sort();
  return Promise.all(
    keys.map(async (key) => {
      const sid = key.slice(SESSION_PREFIX.length);
      const [raw, ttlMs, lease] = await Promise.all([
        redis.get(key),
        redis.pttl(key),
        redis.zscore(INDEX_KEY, sid),
      ]);
      const stored = JSON.parse(raw ?? '{}') as { _owner?: { userId?: string } };
      return { sid, owner: stored._owner?.userId, ttlMs, lease: lease === null ? null : +lease };
    }),
  );
}

/**
 * The invariant: every session that still exists belongs to USER and is in USER's index, with a
 * lease that outlives it (so revocation finds it for as long as it can be used). `ending`: the
 * session an interrupted logout (or a login's regeneration) was ending, which may be left
 * unindexed between its two steps (its entry goes first): a key that never serves again.
 */
async function expectEveryLiveSessionIndexed(redis: Redis, ending?: string): Promise<void> {
  const now = await redisNow(redis);
  const sessions = await storedSessions(redis);
  expect(
    sessions.map(({ sid, owner, ttlMs, lease }) => ({
      sid,
      owner,
      indexed:
        lease === null
          ? sid === ending
            ? 'ended'
            : 'no'
          : ttlMs > 0 && lease >= now + ttlMs
            ? 'yes'
            : 'too short',
    })),
  ).toEqual(
    sessions.map(({ sid, lease }) => ({
      sid,
      owner: USER,
      indexed: sid === ending && lease === null ? 'ended' : 'yes',
    })),
  );
}

/** Nothing of USER is left in Redis, and none of the browsers gets in. */
async function expectSignedOut(redis: Redis, browsers: Visitor[]): Promise<void> {
  expect(await storedSessions(redis)).toEqual([]);
  for (const browser of browsers) expect(await status(browser)).toBe(401);
}

describe('revokeAll interrupted by a Redis freeze', () => {
  const rig = useFaultRig();

  const scenario = async (step: Step, last: boolean) => {
    const browsers = await logInBrowsers(rig.t.http);
    const { frozen } = await freezeAfter(rig, step);

    const outcome = await call(() => rig.t.sessions.revokeAll(TENANT, USER));
    await frozen;
    const after = await thaw(rig);

    if (last) {
      if (lastStepAnswered(outcome, after)) {
        expect(outcome).toMatchObject({ status: 200, body: 3 });
      }
    } else {
      expectUnavailable(outcome);
    }
    await expectEveryLiveSessionIndexed(rig.redis);

    await expect(rig.t.sessions.revokeAll(TENANT, USER)).resolves.toEqual(expect.any(Number));
    await expectSignedOut(rig.redis, browsers);
  };

  it.each([ENTRIES, DEL])(
    "revokeAll frozen after step '$step' fails at its deadline, leaves every live session indexed, and a retry removes them all",
    (step) => scenario(step, false),
  );

  it("revokeAll frozen after its last step 'ZREM' has finished and sent nothing more, and a retry finds nothing left", () =>
    scenario(ZREM, true));
});

describe('revokeOthers interrupted by a Redis freeze', () => {
  const rig = useFaultRig();

  const scenario = async (step: Step, last: boolean) => {
    const browsers = await logInBrowsers(rig.t.http);
    const [caller, ...others] = browsers;
    const { frozen } = await freezeAfter(rig, step);

    const outcome = await send(() => caller.post('/sessions/revoke-others'));
    await frozen;
    const after = await thaw(rig);

    if (last) {
      if (lastStepAnswered(outcome, after)) {
        expect(outcome).toMatchObject({ status: 201, body: { revoked: 2 } });
      }
    } else {
      expectUnavailable(outcome);
    }
    await expectEveryLiveSessionIndexed(rig.redis);
    expect(await status(caller)).toBe(200);

    expect((await caller.post('/sessions/revoke-others')).status).toBe(201);
    expect(await status(caller)).toBe(200);
    for (const other of others) expect(await status(other)).toBe(401);
    expect((await storedSessions(rig.redis)).map((s) => s.sid)).toEqual([caller.sessionId()]);
    await expectEveryLiveSessionIndexed(rig.redis);

    await rig.t.sessions.revokeAll(TENANT, USER);
    await expectSignedOut(rig.redis, browsers);
  };

  it.each([READ, ENTRIES, DEL])(
    "POST /sessions/revoke-others frozen after step '$step' answers 503 at its deadline, keeps the caller, leaves every live session indexed, and a retry removes the others",
    (step) => scenario(step, false),
  );

  it("POST /sessions/revoke-others frozen after its last step 'ZREM' has answered and sent nothing more, and a retry removes the others", () =>
    scenario(ZREM, true));
});

describe('revoking one session interrupted by a Redis freeze', () => {
  const rig = useFaultRig();

  const scenario = async (step: Step, last: boolean) => {
    const browsers = await logInBrowsers(rig.t.http);
    const [first, target, third] = browsers;
    const listed = (await rig.t.sessions.list(TENANT, USER)).sessions;
    const handle = listed.find((s) => s.userAgent === 'browser-2')!.id;
    const { frozen } = await freezeAfter(rig, step);

    const outcome = await call(() => rig.t.sessions.revoke(TENANT, USER, handle));
    await frozen;
    const after = await thaw(rig);

    if (last) {
      if (lastStepAnswered(outcome, after)) {
        expect(outcome).toMatchObject({ status: 200, body: 1 });
      }
    } else {
      expectUnavailable(outcome);
    }
    await expectEveryLiveSessionIndexed(rig.redis);
    expect([await status(first), await status(third)]).toEqual([200, 200]);

    await expect(rig.t.sessions.revoke(TENANT, USER, handle)).resolves.toEqual(expect.any(Number));
    expect(await status(target)).toBe(401);
    expect(await rig.redis.exists(sessionKey(target))).toBe(0);
    expect(await rig.redis.zscore(INDEX_KEY, target.sessionId()!)).toBeNull();
    expect([await status(first), await status(third)]).toEqual([200, 200]);

    await rig.t.sessions.revokeAll(TENANT, USER);
    await expectSignedOut(rig.redis, browsers);
  };

  it.each([ENTRIES, DEL])(
    "revoke(handle) frozen after step '$step' fails at its deadline, touches no other session, leaves every live session indexed, and a retry removes it",
    (step) => scenario(step, false),
  );

  it("revoke(handle) frozen after its last step 'ZREM' has finished and sent nothing more, and a retry finds nothing left to remove", () =>
    scenario(ZREM, true));
});

describe('logging in again interrupted by a Redis freeze', () => {
  const rig = useFaultRig();

  const scenario = async (step: Step, last: boolean) => {
    const browsers = await logInBrowsers(rig.t.http);
    const [again, ...others] = browsers;
    const before = again.sessionId();
    const { frozen } = await freezeAfter(rig, step);

    const outcome = await send(() => again.post('/login', { user: USER }));
    await frozen;
    const after = await thaw(rig);

    if (last) {
      if (lastStepAnswered(outcome, after)) {
        expect(outcome.status).toBe(201);
        expect(again.sessionId()).not.toBe(before);
        expect(await status(again)).toBe(200);
      }
    } else {
      expectUnavailable(outcome);
      // No new session id was handed out. The old session went with the regeneration (its entry
      // first, then its key: a freeze between them leaves its key unindexed), unless the freeze
      // came before its ZREM: the browser works exactly when its old session is still indexed.
      expect([undefined, before]).toContain(again.sessionId());
      await expectEveryLiveSessionIndexed(rig.redis, before);
      // Frozen at its read, its ZREM may still have been sent (and run once Redis resumed).
      const oldSessionIndexed = (await rig.redis.zscore(INDEX_KEY, before!)) !== null;
      expect(oldSessionIndexed).toBe(step === READ && !ran(after, 'zrem'));
      expect(await status(again)).toBe(oldSessionIndexed ? 200 : 401);
    }
    await expectEveryLiveSessionIndexed(rig.redis);
    for (const other of others) expect(await status(other)).toBe(200);

    expect((await again.post('/login', { user: USER })).status).toBe(201);
    expect(await status(again)).toBe(200);
    await expectEveryLiveSessionIndexed(rig.redis);

    await rig.t.sessions.revokeAll(TENANT, USER);
    await expectSignedOut(rig.redis, browsers);
  };

  it.each([READ, ZREM, DELETE_IF_UNCHANGED, ADMIT, SET])(
    "POST /login frozen after step '$step' answers 503 at its deadline, leaves that browser logged out (unless frozen at its read) and every live session indexed, and a retry logs in",
    (step) => scenario(step, false),
  );

  it("POST /login frozen after its last step 'confirm' has logged in and sent nothing more, and every live session is indexed", () =>
    scenario(CONFIRM, true));
});

describe('a login past maxSessionsPerUser interrupted by a Redis freeze', () => {
  const CAP = 3;
  const rig = useFaultRig({ maxSessionsPerUser: CAP });

  const scenario = async (step: Step, last: boolean) => {
    const browsers = await logInBrowsers(rig.t.http, CAP);
    const newcomer = new Visitor(rig.t.http, HOST, 'browser-new');
    const { frozen } = await freezeAfter(rig, step);

    const outcome = await send(() => newcomer.post('/login', { user: USER }));
    await frozen;
    const after = await thaw(rig);

    if (last) {
      if (lastStepAnswered(outcome, after)) {
        expect(outcome.status).toBe(201);
        expect(await status(newcomer)).toBe(200);
        expect(await status(browsers[0])).toBe(401); // the oldest, past the cap
      }
    } else {
      expectUnavailable(outcome);
      expect(newcomer.sessionId()).toBeUndefined();
      expect(await status(newcomer)).toBe(401);
    }
    await expectEveryLiveSessionIndexed(rig.redis);

    expect((await newcomer.post('/login', { user: USER })).status).toBe(201);
    expect(await status(newcomer)).toBe(200);
    await expectEveryLiveSessionIndexed(rig.redis);
    expect((await storedSessions(rig.redis)).length).toBeLessThanOrEqual(CAP);

    await rig.t.sessions.revokeAll(TENANT, USER);
    await expectSignedOut(rig.redis, [...browsers, newcomer]);
  };

  it.each([
    // The newcomer's session was never stored: its regeneration reads it, finds nothing.
    step('GET', command('get', SESSION_PREFIX)),
    ADMIT,
    SET,
    CONFIRM,
    { ...ENTRIES, step: 'cap entries' },
    { ...step('cap GET', command('get', SESSION_PREFIX)), nth: 2 },
    { ...DEL, step: 'cap DEL' },
  ])(
    "POST /login frozen after step '$step' answers 503 at its deadline with no cookie, leaves every live session indexed, and a retry logs in within the cap",
    (step) => scenario(step, false),
  );

  it("POST /login frozen after its last step 'cap ZREM' has logged in and sent nothing more, the oldest session is gone, and every live session is indexed", () =>
    scenario({ ...ZREM, step: 'cap ZREM' }, true));
});

describe('logout interrupted by a Redis freeze', () => {
  const rig = useFaultRig();

  const scenario = async (step: Step, last: boolean) => {
    const browsers = await logInBrowsers(rig.t.http);
    const [leaving, ...others] = browsers;
    const sid = leaving.sessionId()!;
    const { frozen } = await freezeAfter(rig, step);

    const outcome = await send(() => leaving.post('/logout'));
    await frozen;
    const after = await thaw(rig);

    if (last) {
      if (lastStepAnswered(outcome, after)) {
        expect(outcome.status).toBe(201);
      }
    } else {
      expectUnavailable(outcome);
    }
    // The entry goes before the key: once the logout's ZREM ran, the session never serves again,
    // whatever failed after it (a key left behind is unindexed; the next read deletes it).
    // Frozen at its read, the logout ended nothing unless it still sent its ZREM (which ran once
    // Redis resumed; the budget was spent by then: nothing after it).
    await expectEveryLiveSessionIndexed(rig.redis, sid);
    if (step === READ && !ran(after, 'zrem')) {
      expect(after).toEqual([]);
      expect(await status(leaving)).toBe(200);
    } else {
      expect(await rig.redis.zscore(INDEX_KEY, sid)).toBeNull();
      expect(await status(leaving)).toBe(401);
      expect(await rig.redis.exists(SESSION_PREFIX + sid)).toBe(0);
    }
    await expectEveryLiveSessionIndexed(rig.redis);
    for (const other of others) expect(await status(other)).toBe(200);

    expect((await leaving.post('/logout')).status).toBe(201);
    expect(await status(leaving)).toBe(401);
    for (const other of others) expect(await status(other)).toBe(200);

    await rig.t.sessions.revokeAll(TENANT, USER);
    await expectSignedOut(rig.redis, browsers);
  };

  it("POST /logout frozen after step 'READ' answers 503 at its deadline, ends that session only if its ZREM still ran, and a retry succeeds", () =>
    scenario(READ, false));

  it("POST /logout frozen after step 'ZREM' (the entry, before the key) answers 503 at its deadline, and the session no longer serves, no other ends, and a retry succeeds", () =>
    scenario(ZREM, false));

  it("POST /logout frozen after its last step 'delete-if-unchanged' has logged out and sent nothing more", () =>
    scenario(DELETE_IF_UNCHANGED, true));
});

describe('lease renewal on read interrupted by a Redis freeze', () => {
  const IDLE_TTL_S = 3;
  const rig = useFaultRig({ idleTtl: IDLE_TTL_S });

  const scenario = async (step: Step, last: boolean) => {
    const browsers = await logInBrowsers(rig.t.http);
    const [reader, ...others] = browsers;
    // Leases last 3 idle TTLs and are renewed below 2: a read more than one TTL after the
    // login renews, and a read within each TTL keeps every session alive until then.
    await sleep(IDLE_TTL_S * 500);
    for (const browser of browsers) expect(await status(browser)).toBe(200);
    await sleep(IDLE_TTL_S * 600);
    for (const other of others) expect(await status(other)).toBe(200);
    const { frozen } = await freezeAfter(rig, {
      ...step,
      match: (c) => step.match(c) && c.args.includes(sessionKey(reader)),
    });

    const outcome = await send(() => reader.get('/me'));
    await frozen;
    const after = await thaw(rig);

    if (last) {
      if (lastStepAnswered(outcome, after)) {
        expect(outcome.status).toBe(200);
      }
    } else {
      expectUnavailable(outcome);
    }
    await expectEveryLiveSessionIndexed(rig.redis);

    expect(await status(reader)).toBe(200);
    const lease = Number(await rig.redis.zscore(INDEX_KEY, reader.sessionId()!));
    expect(lease).toBeGreaterThanOrEqual((await redisNow(rig.redis)) + 2 * IDLE_TTL_S * 1000);
    await expectEveryLiveSessionIndexed(rig.redis);

    await rig.t.sessions.revokeAll(TENANT, USER);
    await expectSignedOut(rig.redis, browsers);
  };

  // A single Redis renews the lease inside the read itself: one step, the last.
  it("GET /me renewing its lease, frozen after its only step 'READ', has answered or not, and the session stays working and indexed, its lease renewed", () =>
    scenario(READ, true));
});

describe('an app process killed between two steps', () => {
  let server: RedisServer;
  let redis: Redis;
  let monitor: CommandMonitor;
  let proxy: FaultProxy;
  let child: AppProcess | undefined;
  let fresh: TestApp | undefined;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
    monitor = await CommandMonitor.open(server.url);
    proxy = await FaultProxy.start(server.port, monitor);
  });
  afterAll(async () => {
    await proxy?.close();
    monitor?.close();
    redis?.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    await redis.flushall();
    child = await startAppProcess({ redis: proxy.url, appName: APP });
  });
  afterEach(async () => {
    monitor.disarm();
    await child?.stop();
    await fresh?.close();
    fresh = undefined;
  });

  /**
   * Arms a kill of the app process right after `match` runs, before anything more it sends gets
   * out; MONITOR's lines for earlier commands are read first (see freezeAfter).
   */
  const killAfter = async ({ step, match }: Step) => {
    await monitor.barrier();
    const killed = monitor.when(
      match,
      () => {
        child!.kill();
        proxy.sever();
      },
      { label: `step '${step}'` },
    );
    return { killed };
  };

  /** After the crash: the same browsers on an app in this process, on the same Redis. */
  const restart = async (browsers: Visitor[]) => {
    fresh = await createTestApp({ appName: APP, redis: server.url });
    return browsers.map((browser) => browser.on(fresh!.http));
  };

  /** POSTs to the app process; undefined when it died before answering. */
  const post = (browser: Visitor, path: string, body: object) =>
    browser.post(path, body).then(
      (res) => res.status,
      () => undefined,
    );

  it.each([
    { ...ENTRIES, last: false },
    { ...DEL, last: false },
    { ...ZREM, last: true },
  ])(
    "revokeAll in a process killed after step '$step' leaves every live session indexed, and a retry from another app removes them all",
    async ({ last, ...step }) => {
      const browsers = await logInBrowsers(child!.url);
      const { killed } = await killAfter(step);

      const answered = await post(browsers[0], '/revoke-all', { user: USER });
      await killed;
      await monitor.quiet();

      if (!last) expect(answered).toBeUndefined();
      await expectEveryLiveSessionIndexed(redis);
      const restarted = await restart(browsers);
      await expect(fresh!.sessions.revokeAll(TENANT, USER)).resolves.toEqual(expect.any(Number));
      await expectSignedOut(redis, restarted);
    },
  );

  it.each([
    { ...ZREM, last: false },
    { ...DELETE_IF_UNCHANGED, last: false },
    { ...ADMIT, last: false },
    { ...SET, last: false },
    { ...CONFIRM, last: true },
  ])(
    "POST /login in a process killed after step '$step' leaves that browser logged out unless it answered, every live session indexed, and a retry from another app logs in",
    async ({ last, ...step }) => {
      const browsers = await logInBrowsers(child!.url);
      const before = browsers[0].sessionId();
      const { killed } = await killAfter(step);

      const answered = await post(browsers[0], '/login', { user: USER });
      await killed;
      await monitor.quiet();

      // Killed before its last step, the login cannot have answered; after it, it may have.
      expect(last ? [undefined, 201] : [undefined]).toContain(answered);
      await expectEveryLiveSessionIndexed(redis, before);
      const [again, ...others] = await restart(browsers);
      // The old session went with the regeneration; only a login that answered may work.
      expect(await status(again)).toBe(answered === 201 ? 200 : 401);
      for (const other of others) expect(await status(other)).toBe(200);

      expect((await again.post('/login', { user: USER })).status).toBe(201);
      expect(await status(again)).toBe(200);
      await expectEveryLiveSessionIndexed(redis);
      await fresh!.sessions.revokeAll(TENANT, USER);
      await expectSignedOut(redis, [again, ...others]);
    },
  );

  it("POST /logout in a process killed after step 'ZREM' (the entry, before the key) leaves that session never serving again, and a retry from another app logs out", async () => {
    const [leaving, ...others] = await logInBrowsers(child!.url);
    const sid = leaving.sessionId()!;
    const { killed } = await killAfter(ZREM);

    const answered = await post(leaving, '/logout', {});
    await killed;
    await monitor.quiet();

    expect(answered).toBeUndefined();
    // Its key is left, unindexed: it never serves, and the next read deletes it.
    expect(await redis.exists(SESSION_PREFIX + sid)).toBe(1);
    await expectEveryLiveSessionIndexed(redis, sid);
    const [again, ...rest] = await restart([leaving, ...others]);
    expect(await status(again)).toBe(401);
    expect(await redis.exists(SESSION_PREFIX + sid)).toBe(0);
    for (const other of rest) expect(await status(other)).toBe(200);

    expect((await again.post('/logout')).status).toBe(201);
    await fresh!.sessions.revokeAll(TENANT, USER);
    await expectSignedOut(redis, [again, ...rest]);
  });
});
