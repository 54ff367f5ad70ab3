/** Summaries of the benchmark results, written as bench/results/latest.{json,md}. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import type { Redis } from 'ioredis';
import {
  APPS,
  ROUND_TRIP_SAMPLE,
  SCENARIOS,
  type AppId,
  type LinkId,
  type PhaseResult,
  type ScenarioId,
} from './http-comparison.js';
import type { FailoverBench } from './failover.js';
import { median } from './median.js';
import type { ListingUnderLoad } from './listing-under-load.js';
import type { ManyTenantsRun } from './many-tenants.js';
import type { PairedRatio } from './paired-ratios.js';
import type { RevocationAtScale } from './revocation-at-scale.js';
import type { RevocationVisibility, VisibilityFigures } from './revocation-visibility.js';
import type { ScaleFigures } from './scale.js';

export interface HttpSummary {
  scenario: ScenarioId;
  link: LinkId;
  apps: Partial<
    Record<
      AppId,
      {
        requestsPerSecond: number;
        p50Ms: number;
        p99Ms: number;
        redisCommandsPerRequest: number;
        redisCommandsByName: Record<string, number>;
        /** Absent from reports written before these columns (kept by `--only`). */
        redisRoundTripsPerRequest?: number;
        redisCpuMicrosPerRequest: number;
        appCpuMicrosPerRequest: number;
        allocatedBytesPerRequest?: number;
      }
    >
  >;
  /**
   * (c) ÷ (a), (c) ÷ (b) and (c) ÷ (d): requests/s; Redis commands per request against (a);
   * server CPU per request and p99 against (d), what Nest users have today.
   */
  ratios: {
    rpsCOverA?: number;
    rpsCOverB?: number;
    rpsCOverD?: number;
    redisCommandsCOverA?: number;
    cpuCOverD?: number;
    p99COverD?: number;
    /** (e), the near cache: requests/s against (b) and (d), and reads served without Redis. */
    rpsEOverB?: number;
    rpsEOverD?: number;
    nearCacheHitRatio?: number;
    /** (f), express-session's in-process MemoryStore: what sessions cost with no Redis at all. */
    rpsFOverB?: number;
    rpsEOverF?: number;
    /** (g), the OpenTelemetry SDK recording: requests/s and server CPU per request against (c). */
    rpsGOverC?: number;
    cpuGOverC?: number;
    /** (e) ÷ (c): the near cache on against off, requests/s. */
    rpsEOverC?: number;
    /** The like-for-like pair, (m) ÷ (d): requests/s, server CPU per request, round trips. */
    rpsMOverD?: number;
    cpuMOverD?: number;
    allocationMOverD?: number;
    roundTripsMOverD?: number;
    /** (n) ÷ (m): the near cache on against off on the minimal app, requests/s. */
    rpsNOverM?: number;
    nearCacheHitRatioN?: number;
    /** On Fastify, (p) ÷ (q): the module against @fastify/session + connect-redis. */
    rpsPOverQ?: number;
    cpuPOverQ?: number;
    allocationPOverQ?: number;
    roundTripsPOverQ?: number;
    /** (p) ÷ (m): the module's Fastify binding against its Express binding, same routes. */
    rpsPOverM?: number;
    cpuPOverM?: number;
    /** (p) ÷ (r): the module on Fastify against Nest on Fastify with no sessions, requests/s. */
    rpsPOverR?: number;
  };
}

export interface BenchReport {
  generatedAt: string;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    redis: string;
    /** 1-minute load average when the run started: above the core count, other work competed. */
    loadAverageAtStart: number;
  };
  settings: Record<string, number | string>;
  http?: { summary: HttpSummary[]; phases: PhaseResult[] };
  pairs?: PairedRatio[];
  manyTenants?: ManyTenantsRun[];
  revocation?: RevocationAtScale;
  scale?: ScaleFigures;
  visibility?: RevocationVisibility;
  listing?: ListingUnderLoad;
  /** When each part was measured, when not all in this run (`--only`). */
  measuredAt?: Partial<Record<BenchPart, string>>;
  failover?: FailoverBench;
}

/** The report's parts: what `--only=` names, and the field each one fills. */
export const BENCH_PARTS = {
  http: 'http',
  pairs: 'pairs',
  tenants: 'manyTenants',
  revocation: 'revocation',
  listing: 'listing',
  scale: 'scale',
  visibility: 'visibility',
  failover: 'failover',
} as const;
export type BenchPart = keyof typeof BENCH_PARTS;

export async function machineInfo(redis: Redis): Promise<BenchReport['machine']> {
  const server = await redis.info('server');
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis: /^redis_version:(\S+)/m.exec(server)?.[1] ?? 'unknown',
    loadAverageAtStart: Number(loadavg()[0].toFixed(2)),
  };
}

/** Medians over rounds, per scenario and app. */
export function summarizeHttp(phases: PhaseResult[]): HttpSummary[] {
  const links = [...new Set(phases.map((p) => p.link))];
  const pairs = links.flatMap((link) =>
    (Object.keys(SCENARIOS) as ScenarioId[]).map((scenario) => ({ link, scenario })),
  );
  return pairs.map(({ link, scenario }) => {
    const apps: HttpSummary['apps'] = {};
    for (const app of Object.keys(APPS) as AppId[]) {
      const runs = phases.filter(
        (p) => p.app === app && p.scenario === scenario && p.link === link,
      );
      if (runs.length === 0) continue;
      const names = [...new Set(runs.flatMap((r) => Object.keys(r.redisCommandsByName)))];
      apps[app] = {
        requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
        p50Ms: median(runs.map((r) => r.p50Ms)),
        p99Ms: median(runs.map((r) => r.p99Ms)),
        redisCommandsPerRequest: median(runs.map((r) => r.redisCommandsPerRequest)),
        redisCommandsByName: Object.fromEntries(
          names.map((n) => [n, median(runs.map((r) => r.redisCommandsByName[n] ?? 0))]),
        ),
        redisRoundTripsPerRequest: median(runs.map((r) => r.redisRoundTripsPerRequest)),
        redisCpuMicrosPerRequest: median(runs.map((r) => r.redisCpuMicrosPerRequest)),
        appCpuMicrosPerRequest: median(runs.map((r) => r.appCpuMicrosPerRequest)),
        allocatedBytesPerRequest: median(runs.map((r) => r.allocatedBytesPerRequest)),
      };
    }
    const { a, b, c, d, e, f, g, m, n, p, q, r } = apps;
    return {
      scenario,
      link,
      apps,
      ratios: {
        rpsCOverA: a && c ? c.requestsPerSecond / a.requestsPerSecond : undefined,
        rpsCOverB: b && c ? c.requestsPerSecond / b.requestsPerSecond : undefined,
        rpsCOverD: d && c ? c.requestsPerSecond / d.requestsPerSecond : undefined,
        redisCommandsCOverA:
          a && c ? c.redisCommandsPerRequest / a.redisCommandsPerRequest : undefined,
        cpuCOverD: d && c ? c.appCpuMicrosPerRequest / d.appCpuMicrosPerRequest : undefined,
        p99COverD: d && c ? c.p99Ms / d.p99Ms : undefined,
        rpsEOverB: b && e ? e.requestsPerSecond / b.requestsPerSecond : undefined,
        rpsEOverD: d && e ? e.requestsPerSecond / d.requestsPerSecond : undefined,
        nearCacheHitRatio: e && hitRatio(e),
        rpsFOverB: b && f ? f.requestsPerSecond / b.requestsPerSecond : undefined,
        rpsEOverF: e && f ? e.requestsPerSecond / f.requestsPerSecond : undefined,
        rpsGOverC: c && g ? g.requestsPerSecond / c.requestsPerSecond : undefined,
        cpuGOverC: c && g ? g.appCpuMicrosPerRequest / c.appCpuMicrosPerRequest : undefined,
        rpsEOverC: c && e ? e.requestsPerSecond / c.requestsPerSecond : undefined,
        rpsMOverD: d && m ? m.requestsPerSecond / d.requestsPerSecond : undefined,
        cpuMOverD: d && m ? m.appCpuMicrosPerRequest / d.appCpuMicrosPerRequest : undefined,
        allocationMOverD:
          d && m ? quotient(m.allocatedBytesPerRequest, d.allocatedBytesPerRequest) : undefined,
        roundTripsMOverD:
          d && m ? quotient(m.redisRoundTripsPerRequest, d.redisRoundTripsPerRequest) : undefined,
        rpsNOverM: m && n ? n.requestsPerSecond / m.requestsPerSecond : undefined,
        nearCacheHitRatioN: n && hitRatio(n),
        rpsPOverQ: p && q ? p.requestsPerSecond / q.requestsPerSecond : undefined,
        cpuPOverQ: p && q ? p.appCpuMicrosPerRequest / q.appCpuMicrosPerRequest : undefined,
        allocationPOverQ:
          p && q ? quotient(p.allocatedBytesPerRequest, q.allocatedBytesPerRequest) : undefined,
        roundTripsPOverQ:
          p && q ? quotient(p.redisRoundTripsPerRequest, q.redisRoundTripsPerRequest) : undefined,
        rpsPOverM: m && p ? p.requestsPerSecond / m.requestsPerSecond : undefined,
        cpuPOverM: m && p ? p.appCpuMicrosPerRequest / m.appCpuMicrosPerRequest : undefined,
        rpsPOverR: p && r ? p.requestsPerSecond / r.requestsPerSecond : undefined,
      },
    };
  });
}

export function toMarkdown(report: BenchReport): string {
  const m = report.machine;
  // Recorded since BENCH_PIN (cpu-pinning.ts); older reports have no such setting.
  const { pinning } = report.settings;
  const pinned = pinning !== undefined && pinning !== 'none';
  const lines = [
    '# Benchmark results',
    '',
    `${report.generatedAt} · ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB · Node ${m.node} · ` +
      `Redis ${m.redis} (loopback) · load average at start ${m.loadAverageAtStart} · ` +
      `reproduce: \`${pinned ? 'BENCH_PIN=1 ' : ''}npm run bench\``,
    '',
  ];
  if (report.http) {
    const s = report.settings;
    lines.push(
      '## Requests: one logged-in user per tenant, autocannon',
      '',
      `${s.connections} connections (unless a table says otherwise), ${s.warmupSeconds} s warm-up then ${s.measureSeconds} s measured, ` +
        `${s.rounds} interleaved rounds (medians shown); every server in its own process ` +
        '(NODE_ENV=production, no logger' +
        (pinned ? `; CPU pinning: ${pinning}` : '') +
        '). Server CPU from `process.cpuUsage()` of the server ' +
        "process; heap allocated from V8's GC records (`v8.GCProfiler`); Redis figures from `INFO commandstats` / `INFO cpu` deltas (commands run " +
        'inside Lua scripts counted under their own names), round trips from MONITOR over ' +
        `${ROUND_TRIP_SAMPLE} untimed requests after each phase (the scripts' own commands left out).`,
      '',
    );
    for (const summary of report.http.summary) {
      const where =
        summary.link === 'delayed'
          ? `Redis behind a ${s.delayMs} ms delay each way`
          : 'Redis on loopback';
      lines.push(
        `### ${SCENARIOS[summary.scenario].label}, ${where}`,
        '',
        '| server | req/s | p50 ms | p99 ms | server CPU µs/req | allocated KB/req | Redis round trips/req | Redis cmd/req | by command | Redis CPU µs/req |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
      );
      for (const [app, r] of Object.entries(summary.apps)) {
        const byName = Object.entries(r.redisCommandsByName)
          .filter(([, n]) => n >= 0.005)
          .map(([name, n]) => `${name} ${n.toFixed(2)}`)
          .join(', ');
        lines.push(
          `| (${app}) ${APPS[app as AppId].label} | ${r.requestsPerSecond.toFixed(0)} | ` +
            `${r.p50Ms} | ${r.p99Ms} | ${r.appCpuMicrosPerRequest.toFixed(0)} | ` +
            `${fixed(r.allocatedBytesPerRequest, 1024, 1)} | ` +
            `${fixed(r.redisRoundTripsPerRequest, 1, 2)} | ${r.redisCommandsPerRequest.toFixed(2)} | ${byName || '–'} | ` +
            `${r.redisCpuMicrosPerRequest.toFixed(1)} |`,
        );
      }
      const q = summary.ratios;
      lines.push(
        '',
        `Like for like, (m)/(d): ${ratio(q.rpsMOverD)} requests/s, ${ratio(q.cpuMOverD)} server ` +
          `CPU per request, ${ratio(q.allocationMOverD)} heap allocated per request, ` +
          `${ratio(q.roundTripsMOverD)} round trips per request · near cache ` +
          `on/off: (n)/(m) ${ratio(q.rpsNOverM)}, (e)/(c) ${ratio(q.rpsEOverC)} requests/s, ` +
          `(n)'s hit ratio ${percent(q.nearCacheHitRatioN)}`,
        '',
        `On Fastify, (p)/(q): ${ratio(q.rpsPOverQ)} requests/s, ${ratio(q.cpuPOverQ)} server CPU ` +
          `per request, ${ratio(q.allocationPOverQ)} heap allocated per request, ` +
          `${ratio(q.roundTripsPOverQ)} round trips per request · Fastify binding against ` +
          `Express binding, (p)/(m): ${ratio(q.rpsPOverM)} requests/s, ${ratio(q.cpuPOverM)} ` +
          `server CPU per request · against no sessions on Fastify, (p)/(r): ` +
          `${ratio(q.rpsPOverR)} requests/s`,
        '',
        `(c)/(d): ${ratio(q.rpsCOverD)} requests/s, ${ratio(q.cpuCOverD)} server CPU per request, ` +
          `${ratio(q.p99COverD)} p99 · (c)/(a): ${ratio(q.rpsCOverA)} requests/s, ` +
          `${ratio(q.redisCommandsCOverA)} Redis commands per request · (c)/(b): ` +
          `${ratio(q.rpsCOverB)} requests/s · (e)/(b): ${ratio(q.rpsEOverB)}, (e)/(d): ` +
          `${ratio(q.rpsEOverD)} requests/s, near-cache hit ratio ` +
          `${percent(q.nearCacheHitRatio)} · ` +
          `(f)/(b): ${ratio(q.rpsFOverB)}, (e)/(f): ${ratio(q.rpsEOverF)} requests/s · ` +
          `(g)/(c), OpenTelemetry SDK on: ${ratio(q.rpsGOverC)} requests/s, ` +
          `${ratio(q.cpuGOverC)} server CPU per request`,
        '',
      );
    }
  }
  if (report.pairs) lines.push(...pairsMarkdown(report.pairs, report.settings));
  if (report.manyTenants) {
    const runs = report.manyTenants;
    lines.push(
      '## Memory with many tenants',
      '',
      'One login in each tenant through HTTP (`x-tenant` header), heap used after GC ' +
        '(server process, `--expose-gc`).',
      '',
      `| tenants | ${runs.map((r) => `heap, maxCachedTenants ${r.maxCachedTenants} | cached`).join(' | ')} |`,
      `| ---: | ${runs.map(() => '---: | ---:').join(' | ')} |`,
    );
    runs[0].samples.forEach((sample, i) => {
      const cells = runs.map(
        (r) => `${mb(r.samples[i].heapUsedBytes)} MB | ${r.samples[i].cachedTenants}`,
      );
      lines.push(`| ${sample.tenants.toLocaleString('en')} | ${cells.join(' | ')} |`);
    });
    lines.push('');
    for (const r of runs) {
      lines.push(
        `- maxCachedTenants ${r.maxCachedTenants}: ${kb(r.bytesPerTenantBelowBound)} KB per tenant ` +
          `while the cache fills, ${kb(r.bytesPerTenantFrom2000To10000)} KB per tenant from 2,000 ` +
          `to 10,000 tenants; tenant 1 still served its session at the end: ` +
          `${r.firstTenantStillServed ? 'yes' : 'NO'}.`,
      );
    }
    lines.push('');
  }
  if (report.revocation) {
    const r = report.revocation;
    lines.push(
      `## Revoking ${r.sessionsRevoked.toLocaleString('en')} sessions of one user among ` +
        `${r.otherKeys.toLocaleString('en')} other keys`,
      '',
      `Median of ${r.repetitions} repetitions; sessions recreated through the login route before each ` +
        'run. Round trips counted with MONITOR (top-level commands); "commands run" includes those ' +
        'inside Lua scripts.',
      '',
      '| approach | median ms | round trips | commands run |',
      '| --- | ---: | ---: | --- |',
      `| \`revokeAll\` (per-user index) | ${r.revokeAll.medianMs.toFixed(1)} | ${r.revokeAll.roundTrips} | ${commandList(r.revokeAll.commands)} |`,
      `| SCAN MATCH + MGET + DEL | ${r.scan.medianMs.toFixed(1)} | ${r.scan.roundTrips} | ${commandList(r.scan.commands)} |`,
      '',
      `revokeAll is ${r.speedup.toFixed(0)}× faster.`,
      '',
    );
  }
  if (report.listing) {
    const r = report.listing;
    lines.push(
      `## Listing: one user with ${r.sessions.toLocaleString('en')} sessions, another tenant's latency`,
      '',
      `A user of tenant acme walks all ${r.pagesPerWalk} pages of their sessions (\`GET /sessions\`, ` +
        `${r.pageLimit} a page, one request at a time) again and again, while a user of tenant ` +
        `globex sends \`GET /me\` over ${r.connections} connections; ${r.measureSeconds} s phases, ` +
        `with and without the walker interleaved, medians of ${r.rounds} rounds. Sessions stored ` +
        `through the store's own \`set\` in ${r.seedSeconds.toFixed(1)} s.`,
      '',
      '| globex `GET /me` | req/s | p50 ms | p99 ms | max ms |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| alone | ${latencyCells(r.alone)} |`,
      `| while acme's user lists | ${latencyCells(r.whileListing)} |`,
      `| added | | ${signed(r.addedMs.p50)} | ${signed(r.addedMs.p99)} | ${signed(r.addedMs.max)} |`,
      '',
      `Pages: ${r.pages.count} (${r.pages.walks} whole walks), p50 ${r.pages.p50Ms} ms, ` +
        `p99 ${r.pages.p99Ms} ms, max ${r.pages.maxMs.toFixed(1)} ms. One page request: ` +
        `${commandList(r.perPage.commands)} (the session's own load included); the listing's ` +
        `round trips: ${r.perPage.listingRoundTrips}, whatever the user's session count.`,
      '',
    );
  }
  const when = Object.entries(report.measuredAt ?? {});
  if (when.length > 0) {
    lines.push(
      'Parts measured in other runs: ' +
        when.map(([part, at]) => `${part} ${at}`).join(', ') +
        ' (`--only` updates its parts and keeps the others).',
      '',
    );
  }
  if (report.scale) lines.push(...scaleMarkdown(report.scale));
  if (report.failover) lines.push(...failoverMarkdown(report.failover));
  if (report.visibility) {
    const { cluster } = report.visibility;
    const row = (label: string, f: VisibilityFigures) =>
      `| ${label} | ${f.p50Ms.toFixed(2)} | ${f.p99Ms.toFixed(2)} | ${f.maxMs.toFixed(2)} | ${f.staleAnswers} (${f.roundsWithStaleAnswers}) |`;
    lines.push(
      '## Revocation visibility across processes',
      '',
      `Two app processes on one Redis, ${report.visibility.nearCache.rounds} rounds: B serves a ` +
        "session, A revokes its user, B is asked again until it answers 401. Time from A's answer " +
        "to B's first 401:",
      '',
      '| | p50 ms | p99 ms | max ms | 200s after the revocation (rounds) |',
      '| --- | ---: | ---: | ---: | ---: |',
      row('near cache on', report.visibility.nearCache),
      row('near cache off', report.visibility.withoutNearCache),
      ...(cluster
        ? [
            row('Cluster (3 masters), near cache on', cluster.nearCache),
            row('Cluster (3 masters), near cache off', cluster.withoutNearCache),
          ]
        : []),
      '',
    );
  }
  return lines.join('\n');
}

function scaleMarkdown(s: ScaleFigures): string[] {
  const m = s.memory;
  const lines = [
    '## Scale: Redis memory and commands per request',
    '',
    `${s.sessions.toLocaleString('en')} sessions logged in through HTTP; \`used_memory\` deltas ` +
      '(index keys deleted afterwards to split the cost).',
    '',
    '| what | bytes |',
    '| --- | ---: |',
    `| a logged-in session, all in (one session per user) | ${m.bytesPerLoggedInSession} |`,
    `| its session key (JSON with the sealed owner) | ${m.bytesPerSessionKey} |`,
    `| its user's index key (one entry) | ${m.bytesPerIndexOneSessionPerUser} |`,
    `| one index entry, ${m.sessionsPerUser} sessions per user | ${m.bytesPerIndexEntryManyPerUser} |`,
    '',
    `About ${m.loggedInSessionsPerGiB.toLocaleString('en')} logged-in sessions per GiB of Redis memory.`,
    '',
    '| request | ' + s.commands.map((c) => c.topology).join(' | ') + ' |',
    '| --- | ' + s.commands.map(() => '---').join(' | ') + ' |',
  ];
  s.commands[0].perRequest.forEach((row, i) => {
    const cells = s.commands.map((c) => {
      const r = c.perRequest[i];
      return `${r.total}: ${commandList(r.byName)}`;
    });
    lines.push(`| ${row.request} | ${cells.join(' | ')} |`);
  });
  lines.push(
    '',
    'Commands inside Lua scripts are counted under their own names as well as the EVALSHA.',
    '',
  );
  return lines;
}

/**
 * The parts this run measured, over those of the last report for the parts it did not (a run
 * with `--only` keeps the other parts' figures), noting when those were measured.
 */
export async function mergeWithLatest(report: BenchReport, dir: URL): Promise<BenchReport> {
  let previous: BenchReport;
  try {
    previous = JSON.parse(await readFile(new URL('latest.json', dir), 'utf8')) as BenchReport;
  } catch {
    return report;
  }
  const merged: BenchReport = { ...report, measuredAt: {} };
  for (const [part, field] of Object.entries(BENCH_PARTS) as [BenchPart, string][]) {
    const key = field as keyof BenchReport;
    if (report[key] !== undefined || previous[key] === undefined) continue;
    Object.assign(merged, { [key]: previous[key] });
    merged.measuredAt![part] = previous.measuredAt?.[part] ?? previous.generatedAt;
  }
  merged.settings = { ...previous.settings, ...report.settings };
  return merged;
}

export async function writeReport(report: BenchReport, dir: URL): Promise<string> {
  await mkdir(dir, { recursive: true });
  const markdown = toMarkdown(report);
  await writeFile(new URL('latest.json', dir), JSON.stringify(report, null, 2) + '\n');
  await writeFile(new URL('latest.md', dir), markdown);
  return markdown;
}

function failoverMarkdown({ settings: s, runs, cost }: FailoverBench): string[] {
  const lines = [
    '## Failover under traffic',
    '',
    `4 virtual users (log in, then 3 × (write, read)) and a loop revoking other devices, ` +
      `through HTTP on one app; Sentinel: a primary, 2 replicas, 3 sentinels, down-after ` +
      `${s.downAfterMs} ms; Cluster: 3 masters + 3 replicas, cluster-node-timeout ` +
      `${s.clusterNodeTimeoutMs} ms; operationTimeoutMs ${s.operationTimeoutMs}; durability ` +
      `${JSON.stringify(s.sentinelDurability)} on Sentinel, ${JSON.stringify(s.clusterDurability)} ` +
      'on the Cluster. A killed server is restarted once its replacement is promoted (with ' +
      `durability on Sentinel, before writes can resume). ${s.rounds} round(s) each.`,
    '',
    '| topology | fault | durability | served again | requests | 503s | window (first to last 503) | 500s | slowest ms | lost logins | lost writes | revocations undone |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |',
  ];
  for (const r of runs) {
    lines.push(
      `| ${r.topology} | ${r.fault} | ${r.durability ? 'on' : 'off'} | ` +
        `${r.resumed ? 'yes' : 'NO'} | ${r.requests} | ` +
        `${r.unavailable} | ${(r.windowMs / 1000).toFixed(1)} s | ${r.unexpected} | ${r.slowestMs} | ` +
        `${r.audit.lostLogins} of ${r.acknowledgedLogins} | ${r.audit.lostWrites} | ` +
        `${r.audit.undoneRevocations} of ${r.revokedSessions} |`,
    );
  }
  const row = (mode: string, c: FailoverBench['cost']['off']) =>
    `| ${mode} | ${c.requestsPerSecond.toFixed(0)} | ${c.loginP50Ms.toFixed(1)} | ` +
    `${c.loginP99Ms.toFixed(1)} | ${c.writeP50Ms.toFixed(1)} | ${c.writeP99Ms.toFixed(1)} |`;
  lines.push(
    '',
    `### What durability costs (Sentinel, ${s.costUsers} closed-loop users, ${s.costSeconds} s, ` +
      'two interleaved rounds, medians; app and load in one process)',
    '',
    '| durability | req/s | login p50 ms | login p99 ms | write p50 ms | write p99 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row('off', cost.off),
    row(JSON.stringify(s.sentinelDurability), cost.on),
    '',
  );
  return lines;
}

export function commandList(commands: Record<string, number>): string {
  return Object.entries(commands)
    .sort((x, y) => y[1] - x[1])
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
}

function latencyCells(l: ListingUnderLoad['alone']): string {
  return `${l.requestsPerSecond.toFixed(0)} | ${l.p50Ms} | ${l.p99Ms} | ${l.maxMs}`;
}

function signed(ms: number): string {
  return `${ms >= 0 ? '+' : ''}${ms}`;
}

/** A read that meets Redis sends one GET (and a PTTL); one served from memory none. */
function hitRatio(app: { redisCommandsByName: Record<string, number> }): number {
  return 1 - (app.redisCommandsByName.get ?? 0);
}

function percent(share: number | undefined): string {
  return share === undefined ? 'n/a' : `${(100 * share).toFixed(1)} %`;
}

function quotient(x: number | undefined, y: number | undefined): number | undefined {
  return x === undefined || y === undefined ? undefined : x / y;
}

/** `value / unit` with `digits` decimals, or – when an older report lacks it. */
function fixed(value: number | undefined, unit: number, digits: number): string {
  return value === undefined ? '–' : (value / unit).toFixed(digits);
}

/** A ratio, or n/a: undefined, or null where JSON stored an infinite one (a p99 of 0). */
function ratio(value: number | undefined | null): string {
  return value === undefined || value === null ? 'n/a' : `${value.toFixed(2)}×`;
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

function kb(bytes: number): string {
  return (bytes / 1024).toFixed(2);
}

function pairsMarkdown(pairs: PairedRatio[], settings: BenchReport['settings']): string[] {
  const x = (n: number) => `${n.toFixed(2)}×`;
  return [
    '## Paired ratios: both servers up at once, taking turns',
    '',
    `Each pair's servers run at the same time, each on a Redis of its own (and a delay proxy of ` +
      `its own), and take turns in ${settings.pairSliceSeconds} s slices (A B, B A, …) after a ` +
      `${settings.warmupSeconds} s warm-up each; a ratio is the median over ` +
      `${settings.pairSlices} slice pairs of A's figure over B's, so a drift of the machine's ` +
      `speed slower than two slices cancels out (the HTTP part above runs its servers one after ` +
      `another). ${settings.connections} connections, 2 for the light load.`,
    '',
    '| A/B | Redis | request | requests/s: median (lowest–highest) | server CPU per request |',
    '| --- | --- | --- | ---: | ---: |',
    ...pairs.map(
      ({ pair: [a, b], link, scenario, requestsPerSecond: r, cpuPerRequest }) =>
        `| (${a})/(${b}) | ${link} | ${scenario} | ${x(r.median)} (${r.min.toFixed(2)}–` +
        `${r.max.toFixed(2)}) | ${x(cpuPerRequest)} |`,
    ),
    '',
  ];
}
