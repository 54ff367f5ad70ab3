/**
 * Target 4: "sign out everywhere" for a user with 1,000 sessions, among 1,000,000 other keys
 * (990,000 unrelated ones and 10,000 sessions of 1,000 other users of the same tenant),
 * `revokeAll` against what people fall back to without an index: SCAN MATCH over the tenant's
 * session prefix, read each batch (MGET) to find the user's sessions, DEL them.
 * Sessions are made through the real login route every time, so both approaches remove the
 * same 1,000 sessions in the real layout. Timings are medians over several repetitions.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { SessionRevocationService } from 'nestjs-tenant-session';
import { BENCH_APP_NAME } from './apps/bench-app.js';
import { createTenantSessionApp } from './apps/tenant-session-app.js';
import { logIn } from './http-load.js';
import { median } from './median.js';
import { redisWorkSince, resetRedisStats } from './redis-commands.js';
import { freePort } from '../test/support/redis-server.mjs';

const TENANT = 'acme';
const HOST = 'acme.bench.test';
const TARGET_USER = 'target-user';
const SESSION_PREFIX = `sessions:${TENANT}:${BENCH_APP_NAME}:`;
const SCAN_COUNT = 1000;
/** The benchmark's own probes, seen by MONITOR but no part of either approach. */
const PROBE = new Set(['info', 'config', 'ping']);

export interface RevocationAtScale {
  otherKeys: number;
  sessionsRevoked: number;
  repetitions: number;
  revokeAll: Approach;
  scan: Approach;
  /** scan median time / revokeAll median time. */
  speedup: number;
}

interface Approach {
  medianMs: number;
  timesMs: number[];
  /** Commands the client sent (each awaited in turn, so also round trips). */
  roundTrips: number;
  /** Every command Redis ran, by name, those inside Lua scripts included. */
  commands: Record<string, number>;
}

export async function runRevocationAtScale(o: {
  redis: Redis;
  redisUrl: string;
  otherKeys: number;
  sessions: number;
  repetitions: number;
  log: (line: string) => void;
}): Promise<RevocationAtScale> {
  const { redis, log } = o;
  await redis.flushall();
  const port = await freePort();
  const app = await createTenantSessionApp({
    tenant: { byHost: { [HOST]: TENANT } },
    redis: o.redisUrl,
    // 1,000 sessions of one user: far past the default cap, which would revoke all but 100.
    maxSessionsPerUser: false,
  });
  await app.listen(port, '127.0.0.1');
  try {
    const started = performance.now();
    await seedOtherKeys(redis, port, o.otherKeys);
    log(`  seeded ${await redis.dbsize()} other keys in ${seconds(performance.now() - started)} s`);
    const service = app.get(SessionRevocationService);

    const revokeAll: Approach = { medianMs: 0, timesMs: [], roundTrips: 0, commands: {} };
    const scan: Approach = { medianMs: 0, timesMs: [], roundTrips: 0, commands: {} };
    for (let rep = 0; rep <= o.repetitions; rep++) {
      // Repetition 0 counts commands under MONITOR (which slows Redis) and is not timed.
      const counting = rep === 0;

      await createSessions(port, o.sessions);
      const byLibrary = await measure(redis, counting, async () => {
        const revoked = await service.revokeAll(TENANT, TARGET_USER);
        return { revoked, roundTrips: 0 };
      });
      // The user's index key stays, holding only the revocation's not-before (kept 10 minutes).
      await expectRemaining(redis, o.otherKeys + 1, byLibrary.revoked, o.sessions);

      await createSessions(port, o.sessions);
      const byScan = await measure(redis, counting, () => revokeByScan(redis, TARGET_USER));
      // Without an index nobody knows about the user's index key; drop it for the next round.
      await redis.del(`sessions-index:${TENANT}:${BENCH_APP_NAME}:${TARGET_USER}`);
      await expectRemaining(redis, o.otherKeys, byScan.revoked, o.sessions);

      if (counting) {
        if (byScan.topLevelCommands !== byScan.roundTrips) {
          throw new Error(
            `MONITOR saw ${byScan.topLevelCommands} commands, the SCAN approach sent ${byScan.roundTrips}`,
          );
        }
        revokeAll.roundTrips = byLibrary.topLevelCommands;
        revokeAll.commands = byLibrary.commands;
        scan.roundTrips = byScan.roundTrips;
        scan.commands = byScan.commands;
      } else {
        revokeAll.timesMs.push(byLibrary.ms);
        scan.timesMs.push(byScan.ms);
        log(
          `  repetition ${rep}: revokeAll ${byLibrary.ms.toFixed(1)} ms, ` +
            `SCAN approach ${byScan.ms.toFixed(1)} ms`,
        );
      }
    }
    revokeAll.medianMs = median(revokeAll.timesMs);
    scan.medianMs = median(scan.timesMs);
    return {
      otherKeys: o.otherKeys,
      sessionsRevoked: o.sessions,
      repetitions: o.repetitions,
      revokeAll,
      scan,
      speedup: scan.medianMs / revokeAll.medianMs,
    };
  } finally {
    await app.close();
  }
}

/**
 * 99% unrelated keys in pipelined MSET batches; 1% sessions of other users of the same tenant,
 * copies of a real session with another owner, so the SCAN approach has to read and skip them.
 */
async function seedOtherKeys(redis: Redis, port: number, total: number): Promise<void> {
  const otherSessions = Math.floor(total / 100);
  const unrelated = total - otherSessions;
  const batch = 1000;
  for (let start = 0; start < unrelated; start += 100 * batch) {
    const pipeline = redis.pipeline();
    for (let from = start; from < Math.min(start + 100 * batch, unrelated); from += batch) {
      const args: string[] = [];
      for (let i = from; i < Math.min(from + batch, unrelated); i++) {
        args.push(`cache:${i}`, `{"value":${i},"payload":"0123456789abcdef"}`);
      }
      pipeline.mset(...args);
    }
    await pipeline.exec();
  }

  await logIn(port, 'template-user', { host: HOST });
  const [templateKey] = await redis.keys(`${SESSION_PREFIX}*`);
  const template = JSON.parse((await redis.get(templateKey))!) as {
    user: string;
    _owner: { userId: string };
  };
  await redis.del(templateKey, `sessions-index:${TENANT}:${BENCH_APP_NAME}:template-user`);
  for (let start = 0; start < otherSessions; start += batch) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(start + batch, otherSessions); i++) {
      const user = `other-user-${i % 1000}`;
      const data = { ...template, user, _owner: { ...template._owner, userId: user } };
      pipeline.set(
        SESSION_PREFIX + randomBytes(24).toString('base64url'),
        JSON.stringify(data),
        'EX',
        3600,
      );
    }
    await pipeline.exec();
  }
}

/** The target user's sessions, each through POST /login (new session, indexed). */
async function createSessions(port: number, count: number): Promise<void> {
  const concurrency = 16;
  for (let done = 0; done < count; done += concurrency) {
    const n = Math.min(concurrency, count - done);
    await Promise.all(Array.from({ length: n }, () => logIn(port, TARGET_USER, { host: HOST })));
  }
}

/** The fallback without an index: scan the tenant's sessions, read them, delete the user's. */
async function revokeByScan(
  redis: Redis,
  userId: string,
): Promise<{ revoked: number; roundTrips: number }> {
  let cursor = '0';
  let revoked = 0;
  let roundTrips = 0;
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `${SESSION_PREFIX}*`,
      'COUNT',
      SCAN_COUNT,
    );
    roundTrips++;
    cursor = next;
    if (keys.length === 0) continue;
    const values = await redis.mget(...keys);
    roundTrips++;
    const mine = keys.filter((_, i) => {
      const value = values[i];
      return value !== null && (JSON.parse(value) as { user?: string }).user === userId;
    });
    if (mine.length > 0) {
      revoked += await redis.del(...mine);
      roundTrips++;
    }
  } while (cursor !== '0');
  return { revoked, roundTrips };
}

interface Measured {
  revoked: number;
  ms: number;
  roundTrips: number;
  topLevelCommands: number;
  commands: Record<string, number>;
}

async function measure(
  redis: Redis,
  counting: boolean,
  action: () => Promise<{ revoked: number; roundTrips: number }>,
): Promise<Measured> {
  const monitor = counting ? await redis.monitor() : undefined;
  let topLevelCommands = 0;
  monitor?.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== 'lua' && !PROBE.has(args[0].toLowerCase())) topLevelCommands++;
  });
  const cpuAtReset = await resetRedisStats(redis);
  const started = performance.now();
  const { revoked, roundTrips } = await action();
  const ms = performance.now() - started;
  const { commands } = await redisWorkSince(redis, cpuAtReset);
  if (monitor) {
    // MONITOR streams what ran; give it a moment to deliver the last lines.
    await new Promise((resolve) => setTimeout(resolve, 200));
    monitor.disconnect();
  }
  return { revoked, ms, roundTrips, topLevelCommands, commands };
}

async function expectRemaining(
  redis: Redis,
  otherKeys: number,
  revoked: number,
  expected: number,
): Promise<void> {
  const left = await redis.dbsize();
  if (revoked !== expected || left !== otherKeys) {
    throw new Error(`revoked ${revoked} of ${expected}; ${left} keys left, ${otherKeys} expected`);
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
