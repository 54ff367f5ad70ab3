/** Summaries of the benchmark results, written as bench/results/latest.{json,md}. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import type { Redis } from 'ioredis';
import {
  APPS,
  SCENARIOS,
  type AppId,
  type PhaseResult,
  type ScenarioId,
} from './http-comparison.js';
import type { FailoverBench } from './failover.js';
import { median } from './median.js';
import type { ManyTenantsRun } from './many-tenants.js';
import type { RevocationAtScale } from './revocation-at-scale.js';

export interface HttpSummary {
  scenario: ScenarioId;
  apps: Partial<
    Record<
      AppId,
      {
        requestsPerSecond: number;
        p50Ms: number;
        p99Ms: number;
        redisCommandsPerRequest: number;
        redisCommandsByName: Record<string, number>;
        redisCpuMicrosPerRequest: number;
        appCpuMicrosPerRequest: number;
      }
    >
  >;
  /** (c) ÷ (a) and (c) ÷ (b): requests/s, and Redis commands per request against (a). */
  ratios: { rpsCOverA?: number; rpsCOverB?: number; redisCommandsCOverA?: number };
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
  manyTenants?: ManyTenantsRun[];
  revocation?: RevocationAtScale;
  failover?: FailoverBench;
  /** Parts not run this time, whose figures are those of an earlier run (see writeReport). */
  keptFromEarlierRuns?: string[];
}

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
  return (Object.keys(SCENARIOS) as ScenarioId[]).map((scenario) => {
    const apps: HttpSummary['apps'] = {};
    for (const app of Object.keys(APPS) as AppId[]) {
      const runs = phases.filter((p) => p.app === app && p.scenario === scenario);
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
        redisCpuMicrosPerRequest: median(runs.map((r) => r.redisCpuMicrosPerRequest)),
        appCpuMicrosPerRequest: median(runs.map((r) => r.appCpuMicrosPerRequest)),
      };
    }
    const { a, b, c } = apps;
    return {
      scenario,
      apps,
      ratios: {
        rpsCOverA: a && c ? c.requestsPerSecond / a.requestsPerSecond : undefined,
        rpsCOverB: b && c ? c.requestsPerSecond / b.requestsPerSecond : undefined,
        redisCommandsCOverA:
          a && c ? c.redisCommandsPerRequest / a.redisCommandsPerRequest : undefined,
      },
    };
  });
}

export function toMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    '# Benchmark results',
    '',
    `${report.generatedAt} · ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB · Node ${m.node} · ` +
      `Redis ${m.redis} (loopback) · load average at start ${m.loadAverageAtStart} · ` +
      'reproduce: `npm run bench`',
    '',
    ...(report.keptFromEarlierRuns?.length
      ? [`(${report.keptFromEarlierRuns.join(', ')}: kept from an earlier run.)`, '']
      : []),
  ];
  if (report.http) {
    const s = report.settings;
    lines.push(
      '## Requests: one logged-in user per tenant, autocannon',
      '',
      `${s.connections} connections, ${s.warmupSeconds} s warm-up then ${s.measureSeconds} s measured, ` +
        `${s.rounds} interleaved rounds (medians shown); every server in its own process ` +
        '(NODE_ENV=production, no logger). Server CPU from `process.cpuUsage()` of the server ' +
        'process; Redis figures from `INFO commandstats` / `INFO cpu` deltas.',
      '',
    );
    for (const summary of report.http.summary) {
      lines.push(
        `### ${SCENARIOS[summary.scenario].label}`,
        '',
        '| server | req/s | p50 ms | p99 ms | server CPU µs/req | Redis cmd/req | by command | Redis CPU µs/req |',
        '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
      );
      for (const [app, r] of Object.entries(summary.apps)) {
        const byName = Object.entries(r.redisCommandsByName)
          .filter(([, n]) => n >= 0.005)
          .map(([name, n]) => `${name} ${n.toFixed(2)}`)
          .join(', ');
        lines.push(
          `| (${app}) ${APPS[app as AppId].label} | ${r.requestsPerSecond.toFixed(0)} | ` +
            `${r.p50Ms} | ${r.p99Ms} | ${r.appCpuMicrosPerRequest.toFixed(0)} | ` +
            `${r.redisCommandsPerRequest.toFixed(2)} | ${byName || '–'} | ` +
            `${r.redisCpuMicrosPerRequest.toFixed(1)} |`,
        );
      }
      const q = summary.ratios;
      lines.push(
        '',
        `(c)/(a): ${ratio(q.rpsCOverA)} requests/s, ${ratio(q.redisCommandsCOverA)} Redis commands ` +
          `per request · (c)/(b): ${ratio(q.rpsCOverB)} requests/s`,
        '',
      );
    }
  }
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
  if (report.failover) lines.push(...failoverMarkdown(report.failover));
  return lines.join('\n');
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

/**
 * Writes this run's parts over the last results: a run of some parts (`--only`) keeps the
 * others' figures as they were.
 */
export async function writeReport(report: BenchReport, dir: URL): Promise<string> {
  await mkdir(dir, { recursive: true });
  const previous = await readFile(new URL('latest.json', dir), 'utf8').then(
    (text) => JSON.parse(text) as BenchReport,
    () => undefined,
  );
  const parts = ['http', 'manyTenants', 'revocation', 'failover'] as const;
  const kept = parts.filter((part) => report[part] === undefined && previous?.[part]);
  const merged: BenchReport = { ...report, keptFromEarlierRuns: kept };
  for (const part of kept) Object.assign(merged, { [part]: previous![part] });
  const markdown = toMarkdown(merged);
  await writeFile(new URL('latest.json', dir), JSON.stringify(merged, null, 2) + '\n');
  await writeFile(new URL('latest.md', dir), markdown);
  return toMarkdown(report);
}

function commandList(commands: Record<string, number>): string {
  return Object.entries(commands)
    .sort((x, y) => y[1] - x[1])
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
}

function ratio(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${value.toFixed(2)}×`;
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

function kb(bytes: number): string {
  return (bytes / 1024).toFixed(2);
}
