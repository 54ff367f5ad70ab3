/**
 * Ratios that hold on a machine whose speed drifts: on a shared VM the same server, measured a
 * few minutes apart in one run, served half the requests/s, which moves every ratio of the HTTP
 * part (its servers run one after another). Here both servers of a pair run at once, each on a
 * Redis of its own (and a delay proxy of its own on the delayed link), and take turns in short
 * slices, A B B A …; a ratio is the median, over the slice pairs, of A's figure over B's in the
 * pair, so drift slower than two slices cancels out.
 */
import { startRedisServer } from '../test/support/redis-server.mjs';
import { startChildServer, type ChildServer } from './child-server.js';
import { pinProcess } from './cpu-pinning.js';
import {
  APPS,
  logInEveryHost,
  SCENARIOS,
  type AppId,
  type LinkId,
  type ScenarioId,
} from './http-comparison.js';
import { runLoad, type LoadRequest } from './http-load.js';
import { median } from './median.js';

export interface PairedRatio {
  /** A over B. */
  pair: [AppId, AppId];
  scenario: ScenarioId;
  link: LinkId;
  /** Slice pairs measured. */
  slices: number;
  /** Median over the slice pairs of A's requests/s over B's, and the lowest and highest. */
  requestsPerSecond: { median: number; min: number; max: number };
  /** The same for server CPU per request (A's over B's: below 1 is cheaper). */
  cpuPerRequest: number;
}

export interface PairedRatiosOptions {
  pairs: [AppId, AppId][];
  links: LinkId[];
  /** Slice pairs per scenario (each A and B once). */
  slices: number;
  sliceSeconds: number;
  warmupSeconds: number;
  connections: number;
  delayMs: number;
  /** The cores each server is pinned to (BENCH_PIN), if any. */
  serverCores?: string;
  log: (line: string) => void;
}

/** One side of a pair: its server, its Redis, and the requests of its logged-in visitors. */
interface Side {
  app: AppId;
  server: ChildServer;
  requestsFor: (scenario: ScenarioId) => LoadRequest[];
  stop: () => Promise<void>;
}

export async function runPairedRatios(o: PairedRatiosOptions): Promise<PairedRatio[]> {
  const results: PairedRatio[] = [];
  for (const link of o.links) {
    for (const [a, b] of o.pairs) {
      const sideA = await startSide(a, link, o);
      let sideB: Side | undefined;
      try {
        sideB = await startSide(b, link, o);
        for (const scenario of Object.keys(SCENARIOS) as ScenarioId[]) {
          const result = await measurePair(sideA, sideB, scenario, link, o);
          results.push(result);
          o.log(
            `  paired ${link.padEnd(8)} (${a})/(${b}) ${scenario.padEnd(10)} ` +
              `${result.requestsPerSecond.median.toFixed(2)}× requests/s ` +
              `(${result.requestsPerSecond.min.toFixed(2)}–${result.requestsPerSecond.max.toFixed(2)}), ` +
              `${result.cpuPerRequest.toFixed(2)}× server CPU per request`,
          );
        }
      } finally {
        await Promise.all([sideA.stop(), sideB?.stop()]);
      }
    }
  }
  return results;
}

async function startSide(app: AppId, link: LinkId, o: PairedRatiosOptions): Promise<Side> {
  const redis = await startRedisServer();
  const stops: (() => Promise<void>)[] = [() => redis.stop()];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
  };
  try {
    let url = redis.url;
    if (link === 'delayed') {
      const proxy = await startChildServer('apps/delay-proxy.js', redis.url, {
        env: { BENCH_DELAY_MS: String(o.delayMs) },
      });
      stops.push(() => proxy.stop());
      url = `redis://127.0.0.1:${proxy.port}`;
    }
    const server = await startChildServer(APPS[app].script, url, { env: APPS[app].env });
    stops.push(() => server.stop());
    if (o.serverCores !== undefined) pinProcess(server.pid, o.serverCores);
    return { app, server, requestsFor: await logInEveryHost(server.port, app), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function measurePair(
  a: Side,
  b: Side,
  scenario: ScenarioId,
  link: LinkId,
  o: PairedRatiosOptions,
): Promise<PairedRatio> {
  const connections = SCENARIOS[scenario].connections ?? o.connections;
  const slice = async (side: Side, seconds: number) => {
    const cpuBefore = await side.server.cpuMicros();
    const load = await runLoad(side.server.port, side.requestsFor(scenario), {
      connections,
      seconds,
    });
    if (load.errors > 0 || load.non2xx > 0)
      throw new Error(`(${side.app}) ${scenario}: ${load.errors} errors, ${load.non2xx} non-2xx`);
    const cpu = (await side.server.cpuMicros()) - cpuBefore;
    return { rps: load.requestsPerSecond, cpuPerRequest: cpu / load.requests };
  };
  await slice(a, o.warmupSeconds);
  await slice(b, o.warmupSeconds);
  const rps: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < o.slices; i++) {
    // A B, then B A: a drift within the pair weighs on both sides alike.
    const [first, second] = i % 2 === 0 ? [a, b] : [b, a];
    const one = await slice(first, o.sliceSeconds);
    const other = await slice(second, o.sliceSeconds);
    const [ofA, ofB] = first === a ? [one, other] : [other, one];
    rps.push(ofA.rps / ofB.rps);
    cpu.push(ofA.cpuPerRequest / ofB.cpuPerRequest);
  }
  return {
    pair: [a.app, b.app],
    scenario,
    link,
    slices: o.slices,
    requestsPerSecond: { median: median(rps), min: Math.min(...rps), max: Math.max(...rps) },
    cpuPerRequest: median(cpu),
  };
}

/** The pairs `BENCH_PAIRS` names (`n/m,p/m`), checked against the HTTP part's servers. */
export function parsePairs(given: string): [AppId, AppId][] {
  return given.split(',').map((text) => {
    const pair = text.split('/');
    if (pair.length !== 2 || !pair.every((app) => app in APPS))
      throw new Error(`BENCH_PAIRS: "${text}" is not two of ${Object.keys(APPS)} as a/b`);
    return pair as [AppId, AppId];
  });
}
