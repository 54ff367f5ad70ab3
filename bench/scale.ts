/**
 * Scale figures for docs/performance.md: what one session costs in Redis memory (its key, its index
 * entry), how many fit in a GiB, and how many commands each kind of request sends on one node
 * and on a three-master Cluster. Sessions are made through the real login route (so the stored
 * JSON, owner seal and index entry are what production writes); memory is `used_memory` deltas
 * on a server nobody else uses, commands are `INFO commandstats` deltas summed over masters.
 */
import { Cluster, Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import { SessionRevocationService } from 'nestjs-tenant-session';
import { BENCH_APP_NAME } from './apps/bench-app.js';
import { createTenantSessionApp } from './apps/tenant-session-app.js';
import { httpRequest, logIn } from './http-load.js';
import { redisWorkSince, resetRedisStats } from './redis-commands.js';
import { startRedisCluster } from '../test/support/redis-cluster.mjs';

const TENANT = 'acme';
const HOST = 'acme.bench.test';
const CONCURRENCY = 16;
const SESSIONS_PER_USER_MANY = 10;

export interface ScaleFigures {
  sessions: number;
  memory: {
    /** A logged-in session: its key plus its entry in the user's index (one session per user). */
    bytesPerLoggedInSession: number;
    bytesPerSessionKey: number;
    /** The index key of a user with one session, all of it. */
    bytesPerIndexOneSessionPerUser: number;
    /** One entry of an index holding SESSIONS_PER_USER_MANY sessions. */
    bytesPerIndexEntryManyPerUser: number;
    sessionsPerUser: number;
    loggedInSessionsPerGiB: number;
  };
  commands: { topology: 'single node' | 'cluster, 3 masters'; perRequest: RequestCommands[] }[];
}

interface RequestCommands {
  request: string;
  total: number;
  byName: Record<string, number>;
}

export async function runScale(o: {
  redis: Redis;
  redisUrl: string;
  sessions: number;
  log: (line: string) => void;
}): Promise<ScaleFigures> {
  const memory = await measureMemory(o.redis, o.redisUrl, o.sessions, o.log);
  const single = await countCommands(o.redisUrl, [o.redis]);
  o.log(`  single node: ${single.map((r) => `${r.request} ${r.total}`).join(', ')}`);
  const cluster = await startRedisCluster();
  try {
    const client = new Cluster(cluster.nodes);
    const masters = cluster.nodes.map((n) => new Redis(n.port, n.host));
    try {
      const onCluster = await countCommands(client, masters);
      o.log(`  cluster: ${onCluster.map((r) => `${r.request} ${r.total}`).join(', ')}`);
      return {
        sessions: o.sessions,
        memory,
        commands: [
          { topology: 'single node', perRequest: single },
          { topology: 'cluster, 3 masters', perRequest: onCluster },
        ],
      };
    } finally {
      client.disconnect();
      for (const master of masters) master.disconnect();
    }
  } finally {
    await cluster.stop();
  }
}

async function measureMemory(
  redis: Redis,
  redisUrl: string,
  sessions: number,
  log: (line: string) => void,
): Promise<ScaleFigures['memory']> {
  const { port, close } = await startApp(redisUrl);
  try {
    const oneEach = await fill(redis, port, sessions, 1);
    const many = await fill(redis, port, sessions, SESSIONS_PER_USER_MANY);
    const perGiB = Math.floor(2 ** 30 / oneEach.total);
    log(
      `  ${sessions} sessions: ${oneEach.total.toFixed(0)} B per logged-in session ` +
        `(key ${oneEach.sessionKey.toFixed(0)} B, index ${oneEach.index.toFixed(0)} B); ` +
        `${many.index.toFixed(0)} B per entry with ${SESSIONS_PER_USER_MANY} per user`,
    );
    return {
      bytesPerLoggedInSession: Math.round(oneEach.total),
      bytesPerSessionKey: Math.round(oneEach.sessionKey),
      bytesPerIndexOneSessionPerUser: Math.round(oneEach.index),
      bytesPerIndexEntryManyPerUser: Math.round(many.index),
      sessionsPerUser: SESSIONS_PER_USER_MANY,
      loggedInSessionsPerGiB: perGiB,
    };
  } finally {
    await close();
  }
}

/**
 * Logs `sessions` sessions in (`perUser` per user) on an empty server, then deletes the index
 * keys: the two `used_memory` deltas split the cost between session keys and index entries.
 */
async function fill(redis: Redis, port: number, sessions: number, perUser: number) {
  await redis.flushall();
  const before = await usedMemory(redis);
  for (let done = 0; done < sessions; done += CONCURRENCY) {
    const batch = Array.from(
      { length: Math.min(CONCURRENCY, sessions - done) },
      (_, k) => done + k,
    );
    await Promise.all(
      batch.map((i) => logIn(port, `user-${Math.floor(i / perUser)}`, { host: HOST })),
    );
  }
  const filled = await usedMemory(redis);
  const indexes = await redis.keys(`sessions-index:${TENANT}:${BENCH_APP_NAME}:*`);
  for (let i = 0; i < indexes.length; i += 1000) await redis.del(...indexes.slice(i, i + 1000));
  const withoutIndexes = await usedMemory(redis);
  await redis.flushall();
  return {
    total: (filled - before) / sessions,
    sessionKey: (withoutIndexes - before) / sessions,
    index: (filled - withoutIndexes) / sessions,
  };
}

/** Commands Redis ran for one request of each kind, in the order a user's day goes. */
async function countCommands(
  redisOption: string | Cluster,
  masters: Redis[],
): Promise<RequestCommands[]> {
  const { port, app, close } = await startApp(redisOption);
  try {
    const host = { host: HOST };
    // Warm up: connections, script loading (EVALSHA misses), the tenant's store.
    await logIn(port, 'warm-up', host);
    const others = [await logIn(port, 'alice', host), await logIn(port, 'alice', host)];
    const counted: RequestCommands[] = [];
    const count = async (request: string, work: () => Promise<unknown>) => {
      const cpu = await Promise.all(masters.map((m) => resetRedisStats(m)));
      await work();
      const works = await Promise.all(masters.map((m, i) => redisWorkSince(m, cpu[i])));
      const byName: Record<string, number> = {};
      for (const work of works) {
        for (const [name, n] of Object.entries(work.commands))
          byName[name] = (byName[name] ?? 0) + n;
      }
      const total = Object.values(byName).reduce((sum, n) => sum + n, 0);
      counted.push({ request, total, byName });
    };
    let cookie = '';
    await count('login', async () => (cookie = await logIn(port, 'alice', host)));
    const as = { ...host, cookie };
    await count('read (GET /me)', () =>
      httpRequest(port, { method: 'GET', path: '/me', headers: as }),
    );
    await count('write (POST /increment)', () =>
      httpRequest(port, { method: 'POST', path: '/increment', headers: as }),
    );
    const service = app.get(SessionRevocationService);
    await count(`revokeAll (${others.length + 1} sessions)`, () =>
      service.revokeAll(TENANT, 'alice'),
    );
    return counted;
  } finally {
    await close();
  }
}

async function startApp(redis: string | Cluster) {
  const app = await createTenantSessionApp({ tenant: { byHost: { [HOST]: TENANT } }, redis });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, port, close: () => app.close() };
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))![1]);
}
