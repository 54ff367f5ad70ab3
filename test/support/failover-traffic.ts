// Traffic for failover suites and the failover benchmark: a few virtual users logging in,
// writing and reading their sessions, and a loop revoking other users' devices, all through HTTP
// on the test app's routes (test-app.ts: /login, /increment, /me, /sessions/revoke-others).
// Every answer is tallied; afterwards `audit` checks what was acknowledged against what is left.
import type { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import type request from 'supertest';
import { askRedis } from './redis-server.mjs';
import { Visitor } from './visitor.js';

type App = ConstructorParameters<typeof Visitor>[0];

/** A login that answered 2xx, and the last counter value a 2xx /increment acknowledged. */
export interface AcknowledgedLogin {
  visitor: Visitor;
  user: string;
  count: number;
}

export interface TrafficTally {
  requests: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
  /** Answers other than 2xx, 401 and 503 (a 500 would be one), as "<route> <status>". */
  unexpected: string[];
  /** 503 answers, and when the first and last came (performance.now()). */
  unavailable: { count: number; first?: number; last?: number };
  /** The longest any request took, in ms. */
  slowestMs: number;
  logins: AcknowledgedLogin[];
  /** Browsers whose session a 2xx revocation ended. */
  revoked: Visitor[];
  /** Every user that logged in (or tried to). */
  users: string[];
}

export interface TrafficAudit {
  /** Acknowledged logins whose session is gone. */
  lostLogins: number;
  /** Acknowledged logins whose session holds less than the last acknowledged counter value. */
  lostWrites: number;
  /** Revoked sessions that work again. */
  undoneRevocations: number;
}

export interface Traffic {
  readonly tally: TrafficTally;
  /** Stops the loops and resolves once every request in flight has answered. */
  stop(): Promise<TrafficTally>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `workers` users (each: log in, then three increments each followed by a read, again
 * and again) and `revokers` loops (three devices of a fresh user log in, one revokes the other
 * two), until stopped or `limitMs` has passed. Users are named `<prefix>-...`.
 */
export function startTraffic({
  http,
  prefix,
  host = 'acme.test',
  workers = 4,
  revokers = 1,
  limitMs = 120_000,
}: {
  http: App;
  prefix: string;
  host?: string;
  workers?: number;
  revokers?: number;
  limitMs?: number;
}): Traffic {
  const tally: TrafficTally = {
    requests: 0,
    statuses: {},
    unexpected: [],
    unavailable: { count: 0 },
    slowestMs: 0,
    logins: [],
    revoked: [],
    users: [],
  };
  const until = performance.now() + limitMs;
  let stopped = false;
  const running = () => !stopped && performance.now() < until;

  const send = async (route: string, call: () => Promise<request.Response>) => {
    const started = performance.now();
    const res = await call();
    const ended = performance.now();
    tally.requests++;
    tally.slowestMs = Math.max(tally.slowestMs, ended - started);
    tally.statuses[res.status] = (tally.statuses[res.status] ?? 0) + 1;
    if (res.status === 503) {
      tally.unavailable.count++;
      tally.unavailable.first ??= started;
      tally.unavailable.last = ended;
    } else if (!(res.status < 300 || res.status === 401)) {
      tally.unexpected.push(`${route} ${res.status}`);
    }
    // A store failing answers at once; don't spin on it.
    if (res.status >= 500) await sleep(20);
    return res;
  };

  const login = async (user: string, agent: string) => {
    const visitor = new Visitor(http, host, agent);
    const res = await send('login', () => visitor.post('/login', { user }));
    return res.status === 201 ? visitor : undefined;
  };

  const worker = async (i: number) => {
    const user = `${prefix}-w${i}`;
    tally.users.push(user);
    for (let round = 0; running(); round++) {
      const visitor = await login(user, `${user}-${round}`);
      if (!visitor) continue;
      const acknowledged: AcknowledgedLogin = { visitor, user, count: 0 };
      tally.logins.push(acknowledged);
      for (let k = 0; k < 3 && running(); k++) {
        const written = await send('increment', () => visitor.post('/increment'));
        if (written.status === 201) acknowledged.count = written.body.count;
        if (written.status === 401) break;
        await send('me', () => visitor.get('/me'));
      }
    }
  };

  const revoker = async (j: number) => {
    for (let round = 0; running(); round++) {
      const user = `${prefix}-r${j}-${round}`;
      tally.users.push(user);
      const devices: Visitor[] = [];
      for (let d = 0; d < 3 && running(); d++) {
        const device = await login(user, `${user}-${d}`);
        if (device) devices.push(device);
      }
      if (devices.length < 2) continue;
      const [keeper, ...others] = devices;
      const res = await send('revoke-others', () => keeper.post('/sessions/revoke-others'));
      if (res.status === 201) tally.revoked.push(...others);
    }
  };

  const loops = [
    ...Array.from({ length: workers }, (_, i) => worker(i)),
    ...Array.from({ length: revokers }, (_, j) => revoker(j)),
  ];
  return {
    tally,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return tally;
    },
  };
}

/**
 * Resolves once a fresh login and a write on it both answer 2xx (the store serves again), or
 * fails after `limitMs`. Goes through the same app: nothing is restarted.
 */
export async function serviceResumed(http: App, { host = 'acme.test', limitMs = 60_000 } = {}) {
  const deadline = performance.now() + limitMs;
  let last = '';
  while (performance.now() < deadline) {
    const probe = new Visitor(http, host, 'resume-probe');
    const login = await probe.post('/login', { user: 'resume-probe' });
    const write = login.status === 201 ? await probe.post('/increment') : login;
    if (write.status === 201) return;
    last = `${write === login ? 'login' : 'write'} ${write.status} ${JSON.stringify(write.body)}`;
    await sleep(100);
  }
  throw new Error(`the app did not serve again within ${limitMs} ms (last answer: ${last})`);
}

/**
 * What is left of what the traffic was told: every acknowledged login still a session holding
 * at least its acknowledged count, every revoked session still refused. Reads retry past 503s
 * (the store may still be settling) up to `limitMs`.
 */
export async function audit(tally: TrafficTally, { limitMs = 30_000 } = {}): Promise<TrafficAudit> {
  const deadline = performance.now() + limitMs;
  const read = async (visitor: Visitor) => {
    for (;;) {
      const res = await visitor.get('/me');
      if (res.status !== 503 || performance.now() > deadline) return res;
      await sleep(100);
    }
  };
  const result: TrafficAudit = { lostLogins: 0, lostWrites: 0, undoneRevocations: 0 };
  for (const login of tally.logins) {
    const res = await read(login.visitor);
    if (res.status !== 200) result.lostLogins++;
    else if ((res.body.count as number) < login.count) result.lostWrites++;
  }
  for (const visitor of tally.revoked) {
    if ((await read(visitor)).status !== 401) result.undoneRevocations++;
  }
  return result;
}

/** What revokeAll is asked of: a test app's revocation service. */
type Revoker = { sessions: { revokeAll(tenant: string, userId: string): Promise<number> } };

/**
 * revokeAll of one acme user, asked again every 200 ms (for up to 10 s) past the 503s a store
 * that settles after a failover answers, as an application would; its count.
 */
export async function revokeAllPast503s(app: Revoker, user: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await app.sessions.revokeAll('acme', user);
    } catch (error) {
      if (attempt === 50) throw error;
      await sleep(200);
    }
  }
}

/** revokeAll for every user (and the resume probe), retried past 503s while the store settles. */
export async function revokeEveryone(app: Revoker, users: string[]): Promise<void> {
  for (const user of [...users, 'resume-probe']) await revokeAllPast503s(app, user);
}

/** A session key left in Redis: its session id, and the user its owner names (if any). */
export interface StoredSession {
  sid: string;
  userId: string | undefined;
}

/** Each session key of `app` (tenant acme) on the servers at `ports`, a SCAN of each. */
async function eachSessionKey(
  ports: number[],
  app: string,
  visit: (client: Redis, key: string) => Promise<void> | void,
): Promise<void> {
  for (const port of ports) {
    await askRedis(port, async (client) => {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `sessions:acme:${app}:*`);
        cursor = next;
        for (const key of keys) await visit(client, key);
      } while (cursor !== '0');
    });
  }
}

/** Sessions of `app` (tenant acme) on the servers at `ports`, with the user each belongs to. */
export async function storedSessions(ports: number[], app: string): Promise<StoredSession[]> {
  const sessions: StoredSession[] = [];
  await eachSessionKey(ports, app, async (client, key) => {
    const value = await client.get(key);
    const owner = value === null ? undefined : JSON.parse(value)._owner;
    sessions.push({ sid: key.slice(key.lastIndexOf(':') + 1), userId: owner?.userId });
  });
  return sessions;
}

/** How many session keys of `app` (tenant acme) the servers at `ports` hold. */
export async function storedSessionKeys(ports: number[], app: string): Promise<number> {
  let count = 0;
  await eachSessionKey(ports, app, () => {
    count++;
  });
  return count;
}
