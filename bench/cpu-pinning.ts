/**
 * `BENCH_PIN=1`: the HTTP part's servers get the last core to themselves, while the benchmark
 * process and everything it starts (Redis, the delay proxy, the load generator) share the
 * others. Unpinned, Redis and autocannon compete with the server for the same cores, so a
 * server that makes Redis work harder loses CPU to it, and the scheduler's choices move the
 * ratios between runs; pinned, requests/s follow the server's own CPU per request, as they would
 * with Redis and the clients on other machines. Linux only (`taskset`, from util-linux).
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface CpuPinning {
  /** The cores of the benchmark process and its helpers, as taskset takes them (`0-2`). */
  helpers: string;
  /** The core of each benchmarked server. */
  server: string;
  /** Every core: where the helpers go back to afterwards. */
  all: string;
}

/** The pinning BENCH_PIN asks for, or undefined; refused on a machine with one core. */
export function cpuPinning(env: NodeJS.ProcessEnv = process.env): CpuPinning | undefined {
  if (!env.BENCH_PIN || env.BENCH_PIN === '0') return undefined;
  const cores = availableParallelism();
  if (cores < 2) throw new Error(`BENCH_PIN needs at least 2 cores, this machine has ${cores}`);
  const last = cores - 1;
  return {
    helpers: last === 1 ? '0' : `0-${last - 1}`,
    server: String(last),
    all: `0-${last}`,
  };
}

/** Pins every thread of process `pid` to `cores`; processes it starts later inherit them. */
export function pinProcess(pid: number, cores: string): void {
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cores, String(pid)], {
    stdio: 'ignore',
  });
}

/**
 * Runs `work` with processes `pids` (the benchmark's own, its Redis) on the helper cores, then
 * gives them every core again, so the other parts run as they always do.
 */
export async function onHelperCores<T>(
  pinning: CpuPinning,
  pids: number[],
  work: () => Promise<T>,
): Promise<T> {
  for (const pid of pids) pinProcess(pid, pinning.helpers);
  try {
    return await work();
  } finally {
    for (const pid of pids) pinProcess(pid, pinning.all);
  }
}
