import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { SessionRevocationService } from 'nestjs-tenant-session';
import { startRedisServer, type RedisServer } from '../support/redis-server.mjs';
import { startSample, type RunningSample } from '../support/sample.js';
import { Visitor } from '../support/visitor.js';

const HOST = 'acme.localhost';
const ATTACKERS = 4;
/** The attackers keep logging in this long after the password change answered. */
const AFTERMATH_MS = 300;
/** Bounds of every attacker loop, whatever happens. */
const MAX_LOGINS_PER_ATTACKER = 300;
const MAX_LOOP_MS = 20_000;
const NOT_BEFORE_MEMBER = '!not-before';
/**
 * Not-before decisions compare whole milliseconds of the Redis clock with a login's age rounded
 * up, so a login that began less than 2 ms after a revocation may still count as before it
 * (refused, the safe side). Logins meant to begin after one wait this long first.
 */
const CLOCK_RESOLUTION_MS = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Attempt {
  browser: Visitor;
  sentAt: number;
  answeredAt: number;
  status: number;
  code?: string;
}

/** What one password change met, for the assertions and the report. */
interface Race {
  victim: Visitor;
  attempts: Attempt[];
  changeSentAt: number;
  changeAnsweredAt: number;
}

describe('a password change beats logins in flight (not-before, real Redis)', () => {
  let server: RedisServer;
  let redis: Redis;
  let sample: RunningSample;
  let url: string;
  const report: string[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
    if (process.env.TEST_REPORT) process.stdout.write(`${report.join('\n')}\n`);
  });
  // A sample of its own per test: its own app name, so its own keys and its own user passwords.
  // These races log one user in from one address far more often than the sample's password
  // attempt limit allows (sample-hardening.e2e-spec.ts tests the limit).
  beforeEach(async () => {
    sample = await startSample(
      { REDIS_URL: server.url, LOGIN_ATTEMPTS_PER_MINUTE: '10000' },
      { listen: true },
    );
    url = await sample.app.getUrl();
  });
  afterEach(() => sample.close());

  const browser = (agent: string) => new Visitor(url, HOST, agent);
  const login = (visitor: Visitor, password: string) =>
    visitor.post('/auth/login', { username: 'alice', password });

  /**
   * The victim logs in, then changes the password while ATTACKERS clients loop logins with the
   * old one (each from a fresh browser), until AFTERMATH_MS after the change answered.
   */
  async function passwordChangeDuringLogins(oldPassword: string, newPassword: string) {
    const victim = browser('victim');
    expect((await login(victim, oldPassword)).status).toBe(200);
    const attempts: Attempt[] = [];
    const loopStarted = performance.now();
    let stopAt = loopStarted + MAX_LOOP_MS;
    const attack = async (n: number) => {
      for (let i = 0; i < MAX_LOGINS_PER_ATTACKER && performance.now() < stopAt; i++) {
        const attacker = browser(`attacker-${n}`);
        const sentAt = performance.now();
        const res = await login(attacker, oldPassword);
        const code = (res.body as { code?: string } | undefined)?.code;
        attempts.push({
          browser: attacker,
          sentAt,
          answeredAt: performance.now(),
          status: res.status,
          code,
        });
      }
    };
    const attackers = Array.from({ length: ATTACKERS }, (_, n) => attack(n));
    // Let every attacker log in once first (bounded wait), so there is something to revoke.
    const admitted = () => attempts.filter((a) => a.status === 200).length;
    while (admitted() < ATTACKERS && performance.now() < loopStarted + 5_000) {
      await sleep(10);
    }
    const changeSentAt = performance.now();
    const change = await victim.post('/auth/password', {
      currentPassword: oldPassword,
      newPassword,
    });
    const changeAnsweredAt = performance.now();
    stopAt = Math.min(stopAt, changeAnsweredAt + AFTERMATH_MS);
    await Promise.all(attackers);
    expect(change.status).toBe(200);
    return { victim, attempts, changeSentAt, changeAnsweredAt } satisfies Race;
  }

  /** alice's live sessions, found through her index (entries whose session key still exists). */
  async function indexedLiveSessions(): Promise<string[]> {
    const members = await redis.zrange(`sessions-index:acme:${sample.appName}:alice`, '0', '-1');
    const sids = members.filter((m) => m !== NOT_BEFORE_MEMBER);
    const alive = await Promise.all(
      sids.map((sid) => redis.exists(`sessions:acme:${sample.appName}:${sid}`)),
    );
    return sids.filter((_, i) => alive[i] === 1).sort();
  }

  /** alice's sessions found without the index: SCAN the tenant's session keys, read the owner. */
  async function scannedSessions(): Promise<string[]> {
    const prefix = `sessions:acme:${sample.appName}:`;
    const sids: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const raw = await redis.get(key);
        const owner = raw
          ? (JSON.parse(raw) as { _owner?: { userId?: string } })._owner
          : undefined;
        if (owner?.userId === 'alice') sids.push(key.slice(prefix.length));
      }
    } while (cursor !== '0');
    return sids.sort();
  }

  /** Checks that only the victim's session is left, from every angle; returns the counts. */
  async function expectOnlyTheVictimLeft(race: Race, round: string) {
    const { victim, attempts, changeSentAt, changeAnsweredAt } = race;
    const victimSid = victim.sessionId()!;

    // Every attempt was either a login (200) or refused (401): never an error.
    expect(attempts.filter((a) => a.status !== 200 && a.status !== 401)).toEqual([]);
    // Logins sent after the change answered used a password that no longer works.
    const after = attempts.filter((a) => a.sentAt >= changeAnsweredAt);
    expect(after.filter((a) => a.status !== 401)).toEqual([]);

    expect(await indexedLiveSessions()).toEqual([victimSid]);
    expect(await scannedSessions()).toEqual([victimSid]);
    const listed = (await sample.app.get(SessionRevocationService).list('acme', 'alice')).sessions;
    expect(listed).toHaveLength(1);
    const meStatuses = await Promise.all(
      attempts.map(async (a) => (await a.browser.get('/me')).status),
    );
    expect(meStatuses.filter((status) => status !== 401)).toEqual([]);
    expect((await victim.get('/me')).status).toBe(200);

    const admitted = attempts.filter((a) => a.status === 200);
    const counts = {
      attempts: attempts.length,
      admitted: admitted.length,
      admittedBeforeChange: admitted.filter((a) => a.answeredAt < changeSentAt).length,
      inFlightDuringChange: attempts.filter(
        (a) => a.sentAt < changeAnsweredAt && a.answeredAt > changeSentAt,
      ).length,
      admittedDuringChange: admitted.filter((a) => a.answeredAt >= changeSentAt).length,
      refusedLoginRevoked: attempts.filter((a) => a.code === 'LOGIN_REVOKED').length,
      refusedWrongPassword: attempts.filter((a) => a.status === 401 && !a.code).length,
      survivors: meStatuses.filter((status) => status === 200).length,
    };
    report.push(`${round}: ${JSON.stringify(counts)}`);
    return counts;
  }

  it.each([1, 2])(
    'round %i: no old-password session survives a password change raced by 4 login loops',
    async (round) => {
      const race = await passwordChangeDuringLogins('alice-pass', `new-password-${round}`);

      const counts = await expectOnlyTheVictimLeft(race, `round ${round}`);

      // The race did happen: old-password logins had succeeded before the change, and logins
      // were in flight while it ran.
      expect(counts.admittedBeforeChange).toBeGreaterThan(0);
      expect(counts.inFlightDuringChange).toBeGreaterThanOrEqual(ATTACKERS);
      expect(counts.survivors).toBe(0);
    },
    60_000,
  );

  it('a second password change right after the first holds as well (same user, same app)', async () => {
    const first = await passwordChangeDuringLogins('alice-pass', 'new-password-1');
    await expectOnlyTheVictimLeft(first, 'two changes, first');

    const second = await passwordChangeDuringLogins('new-password-1', 'new-password-2');
    const counts = await expectOnlyTheVictimLeft(second, 'two changes, second');

    expect(counts.admittedBeforeChange).toBeGreaterThan(0);
    expect((await first.victim.get('/me')).status).toBe(401);
  }, 60_000);

  it('admits a login that began after the revocation (no false refusal)', async () => {
    let password = 'alice-pass';
    let kept: Visitor[] = [];
    for (let i = 1; i <= 10; i++) {
      const victim = browser('victim');
      expect((await login(victim, password)).status).toBe(200);
      const next = `new-password-${i}`;
      expect(
        (await victim.post('/auth/password', { currentPassword: password, newPassword: next }))
          .status,
      ).toBe(200);
      password = next;

      // Sent once the change answered: it began after the revocation, so it stands.
      await sleep(CLOCK_RESOLUTION_MS);
      const fresh = browser('fresh');
      const res = await login(fresh, password);
      expect(res.status).toBe(200);
      expect((await fresh.get('/me')).status).toBe(200);
      kept = [victim, fresh];
    }
    // Each change signed out everything but its own victim; the last victim and login remain.
    expect(await scannedSessions()).toEqual(kept.map((v) => v.sessionId()).sort());
  }, 30_000);

  it('admits every login that began after the revocation (no false refusal)', async () => {
    const revocation = sample.app.get(SessionRevocationService);
    const sessions: Visitor[] = [];
    for (let i = 0; i < 20; i++) {
      await revocation.revokeAll('acme', 'alice');
      await sleep(CLOCK_RESOLUTION_MS);
      const fresh = browser('fresh');
      expect((await login(fresh, 'alice-pass')).status).toBe(200);
      sessions.push(fresh);
    }
    // Each revokeAll took the previous login; the last one stands, listed and working.
    expect(await indexedLiveSessions()).toEqual([sessions.at(-1)!.sessionId()]);
    expect((await sessions.at(-1)!.get('/me')).status).toBe(200);
    expect((await sessions[0].get('/me')).status).toBe(401);
  }, 30_000);

  it('a login refused in the millisecond of a revocation (LOGIN_REVOKED) succeeds when retried', async () => {
    const revocation = sample.app.get(SessionRevocationService);
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      await revocation.revokeAll('acme', 'alice');
      const fresh = browser('fresh');
      const first = await login(fresh, 'alice-pass');
      if (first.status !== 200) {
        refused++;
        expect(first.status).toBe(401);
        expect(first.body).toMatchObject({ code: 'LOGIN_REVOKED' });
        expect(fresh.sessionId()).toBeUndefined();
        expect((await login(fresh, 'alice-pass')).status).toBe(200);
      }
      expect((await fresh.get('/me')).status).toBe(200);
    }
    report.push(
      `logins sent the moment revokeAll answered: ${refused} of 20 refused, all admitted on retry`,
    );
  }, 30_000);
});
