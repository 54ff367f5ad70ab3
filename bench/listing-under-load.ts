/**
 * Issue 10, item 6: one user of tenant acme holds 30,000 sessions and walks through all of them,
 * page after page, with `GET /sessions`, again and again. Meanwhile a logged-in user of tenant
 * globex sends `GET /me` at a fixed concurrency. Measured: globex's latency with the walker
 * running and without it (phases interleaved, medians over rounds), the walker's page latency,
 * and what one page costs Redis (top-level commands under MONITOR, untimed).
 *
 * The sessions are stored through the store's own `set` (admitted into the user's index, sealed
 * owner, TTL) by an in-process app on the same Redis, many at a time: the real data layout,
 * faster than 30,000 logins. The server under test runs in its own process, cap off
 * (`maxSessionsPerUser: false`, as an app that allows this many would configure it).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { SessionData } from 'express-session';
import type { Redis } from 'ioredis';
import { TenantSessionRegistry } from 'nestjs-tenant-session';
import { BENCH_HOSTS, IDLE_TTL_SECONDS } from './apps/bench-app.js';
import { createTenantSessionApp } from './apps/tenant-session-app.js';
import { startChildServer } from './child-server.js';
import { httpRequest, logIn, runLoad, type LoadResult } from './http-load.js';
import { median } from './median.js';
import { commandsDuring } from './redis-commands.js';
import { commandList } from './report.js';

const BUSY_HOST = 'acme.bench.test';
const QUIET_HOST = 'globex.bench.test';
const BUSY_USER = 'many-sessions';
const SEED_CONCURRENCY = 500;

export interface LatencyFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requestsPerSecond: number;
}

export interface ListingUnderLoad {
  sessions: number;
  connections: number;
  rounds: number;
  measureSeconds: number;
  pageLimit: number;
  pagesPerWalk: number;
  seedSeconds: number;
  /** The other tenant's GET /me, medians over rounds. */
  alone: LatencyFigures;
  whileListing: LatencyFigures;
  /** whileListing − alone. */
  addedMs: { p50: number; p99: number; max: number };
  /** The walker's GET /sessions pages while the other tenant was loaded, all rounds together. */
  pages: { count: number; walks: number; p50Ms: number; p99Ms: number; maxMs: number };
  /**
   * One `GET /sessions` request for a full page: the top-level commands Redis saw (MONITOR), the
   * session's own load included, and the listing's round trips as the code makes them (the PAGE
   * script, then one pipeline of GET + PTTL; test/revocation/bounded-listing.e2e-spec.ts checks them).
   */
  perPage: { commands: Record<string, number>; listingRoundTrips: number };
  phases: { round: number; phase: 'alone' | 'whileListing'; load: LoadResult }[];
}

export async function runListingUnderLoad(o: {
  redis: Redis;
  redisUrl: string;
  sessions: number;
  connections: number;
  rounds: number;
  warmupSeconds: number;
  measureSeconds: number;
  log: (line: string) => void;
}): Promise<ListingUnderLoad> {
  const { redis, log } = o;
  await redis.flushall();
  const seedStarted = performance.now();
  await seedSessions(o.redisUrl, o.sessions - 1);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  log(`  stored ${o.sessions - 1} sessions of one user in ${seedSeconds.toFixed(1)} s`);

  const server = await startChildServer('apps/nest-tenant-session.js', o.redisUrl, {
    env: { BENCH_SESSION_CAP: 'off' },
  });
  try {
    const busy = await logIn(server.port, BUSY_USER, { host: BUSY_HOST });
    const quiet = await logIn(server.port, 'quiet-user', { host: QUIET_HOST });
    const walker = new PageWalker(server.port, busy);
    const first = await walker.page(undefined);
    if (first.total !== o.sessions) {
      throw new Error(`the busy user has ${first.total} sessions, ${o.sessions} expected`);
    }
    const perPage = await pageCost(o.redisUrl, walker, first.next);
    log(`  one page request: ${commandList(perPage.commands)}`);

    const load = (seconds: number) =>
      runLoad(
        server.port,
        [{ method: 'GET', path: '/me', headers: { host: QUIET_HOST, cookie: quiet } }],
        {
          connections: o.connections,
          seconds,
        },
      );
    await load(o.warmupSeconds);
    await walker.walk();

    const phases: ListingUnderLoad['phases'] = [];
    const pageTimes: number[] = [];
    let walks = 0;
    for (let round = 1; round <= o.rounds; round++) {
      const alone = await load(o.measureSeconds);
      phases.push({ round, phase: 'alone', load: alone });

      const running = walker.walkUntilStopped();
      const whileListing = await load(o.measureSeconds);
      const walked = await walker.stop(running);
      phases.push({ round, phase: 'whileListing', load: whileListing });
      pageTimes.push(...walked.pageTimesMs);
      walks += walked.walks;
      log(
        `  round ${round}: GET /me alone p50 ${alone.p50Ms} p99 ${alone.p99Ms} max ${alone.maxMs} ms; ` +
          `while listing p50 ${whileListing.p50Ms} p99 ${whileListing.p99Ms} max ${whileListing.maxMs} ms; ` +
          `${walked.pageTimesMs.length} pages (${walked.walks} whole walks)`,
      );
    }
    for (const { load: result } of phases) {
      if (result.errors + result.non2xx > 0) {
        throw new Error(`GET /me: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
      }
    }
    const alone = figures(phases.filter((p) => p.phase === 'alone').map((p) => p.load));
    const whileListing = figures(
      phases.filter((p) => p.phase === 'whileListing').map((p) => p.load),
    );
    return {
      sessions: o.sessions,
      connections: o.connections,
      rounds: o.rounds,
      measureSeconds: o.measureSeconds,
      pageLimit: first.sessions,
      pagesPerWalk: Math.ceil(o.sessions / first.sessions),
      seedSeconds,
      alone,
      whileListing,
      addedMs: {
        p50: whileListing.p50Ms - alone.p50Ms,
        p99: whileListing.p99Ms - alone.p99Ms,
        max: whileListing.maxMs - alone.maxMs,
      },
      pages: {
        count: pageTimes.length,
        walks,
        p50Ms: percentile(pageTimes, 0.5),
        p99Ms: percentile(pageTimes, 0.99),
        maxMs: Math.max(...pageTimes),
      },
      perPage,
      phases,
    };
  } finally {
    await server.stop();
    await redis.flushall();
  }
}

/** Stores `count` sessions of BUSY_USER through the tenant store's `set`, many at a time. */
async function seedSessions(redisUrl: string, count: number): Promise<void> {
  const app = await createTenantSessionApp({
    tenant: { byHost: BENCH_HOSTS },
    redis: redisUrl,
    maxSessionsPerUser: false,
  });
  await app.init();
  try {
    const store = await app.get(TenantSessionRegistry).store(BENCH_HOSTS[BUSY_HOST]);
    const maxAge = IDLE_TTL_SECONDS * 1000;
    for (let done = 0; done < count; done += SEED_CONCURRENCY) {
      const batch = Math.min(SEED_CONCURRENCY, count - done);
      await Promise.all(
        Array.from({ length: batch }, () =>
          store.set(randomBytes(24).toString('base64url'), {
            cookie: { originalMaxAge: maxAge, httpOnly: true, path: '/' },
            passport: { user: BUSY_USER },
            user: BUSY_USER,
          } as unknown as SessionData),
        ),
      );
    }
  } finally {
    await app.close();
  }
}

interface Page {
  sessions: number;
  total: number;
  next?: string;
}

/** The busy user's browser: GET /sessions, then again with the `next` it got, to the end. */
class PageWalker {
  private stopping = false;

  constructor(
    private readonly port: number,
    private readonly cookie: string,
  ) {}

  async page(cursor: string | undefined): Promise<Page> {
    const path = cursor ? `/sessions?cursor=${encodeURIComponent(cursor)}` : '/sessions';
    const reply = await httpRequest(this.port, {
      method: 'GET',
      path,
      headers: { host: BUSY_HOST, cookie: this.cookie },
    });
    if (reply.status !== 200) throw new Error(`GET ${path}: ${reply.status}`);
    const body = JSON.parse(reply.body) as { sessions: unknown[]; total: number; next?: string };
    return { sessions: body.sessions.length, total: body.total, next: body.next };
  }

  /** One walk through every page; the time each page took. */
  async walk(): Promise<number[]> {
    const times: number[] = [];
    let cursor: string | undefined;
    do {
      const started = performance.now();
      cursor = (await this.page(cursor)).next;
      times.push(performance.now() - started);
    } while (cursor && !this.stopping);
    return times;
  }

  /** Walks again and again until `stop`. */
  async walkUntilStopped(): Promise<{ pageTimesMs: number[]; walks: number }> {
    this.stopping = false;
    const pageTimesMs: number[] = [];
    let walks = 0;
    while (!this.stopping) {
      pageTimesMs.push(...(await this.walk()));
      if (!this.stopping) walks++;
    }
    return { pageTimesMs, walks };
  }

  async stop(
    running: Promise<{ pageTimesMs: number[]; walks: number }>,
  ): Promise<{ pageTimesMs: number[]; walks: number }> {
    this.stopping = true;
    return running;
  }
}

/** The top-level commands a request for the second page sends (MONITOR; scripts' inner ones left out). */
async function pageCost(
  redisUrl: string,
  walker: PageWalker,
  cursor: string | undefined,
): Promise<ListingUnderLoad['perPage']> {
  const commands = await commandsDuring(redisUrl, () => walker.page(cursor).then(() => undefined));
  return { commands, listingRoundTrips: 2 };
}

function figures(loads: LoadResult[]): LatencyFigures {
  return {
    p50Ms: median(loads.map((l) => l.p50Ms)),
    p99Ms: median(loads.map((l) => l.p99Ms)),
    maxMs: median(loads.map((l) => l.maxMs)),
    requestsPerSecond: median(loads.map((l) => l.requestsPerSecond)),
  };
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? 0;
  return Number(value.toFixed(1));
}
