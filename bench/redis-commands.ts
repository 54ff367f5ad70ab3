/**
 * What Redis did during a phase, from server counters (CONFIG RESETSTAT, then INFO):
 * commands by name from `commandstats` and the server's CPU time from `cpu`.
 * Commands run inside a Lua script are counted under their own names as well as the EVAL.
 * Only meaningful on a server nobody else uses meanwhile. Round trips, what a client waits for,
 * come from MONITOR instead, which names the commands a script ran as its own (source "lua").
 */
import type { Redis } from 'ioredis';
import { CommandMonitor } from '../test/support/monitor.js';

export interface RedisWork {
  /** Calls per command, the probe's own INFO / CONFIG left out. */
  commands: Record<string, number>;
  totalCommands: number;
  /** Redis server CPU time (user + system), microseconds. */
  cpuMicros: number;
}

const PROBE_COMMANDS = /^(info|config\|.*)$/;

export async function resetRedisStats(redis: Redis): Promise<number> {
  await redis.config('RESETSTAT');
  return cpuMicros(await redis.info('cpu'));
}

/** The work since `resetRedisStats`, which returned `cpuAtReset`. */
export async function redisWorkSince(redis: Redis, cpuAtReset: number): Promise<RedisWork> {
  const [stats, cpu] = [await redis.info('commandstats'), await redis.info('cpu')];
  const commands: Record<string, number> = {};
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!PROBE_COMMANDS.test(match[1])) commands[match[1]] = Number(match[2]);
  }
  const totalCommands = Object.values(commands).reduce((sum, n) => sum + n, 0);
  return { commands, totalCommands, cpuMicros: cpuMicros(cpu) - cpuAtReset };
}

function cpuMicros(info: string): number {
  const field = (name: string) =>
    Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return Math.round((field('used_cpu_user') + field('used_cpu_sys')) * 1e6);
}

/**
 * Commands clients sent while `send` ran `requests` times one after another, per request: MONITOR
 * lines, those from inside Lua scripts left out. MONITOR slows Redis, so this runs apart from the
 * timed load. Read through the tests' CommandMonitor (a plain socket): an ioredis MONITOR client
 * crashed the run with "Command queue state error" when a line came in with a reply.
 */
export async function roundTripsPerRequest(
  redisUrl: string,
  requests: number,
  send: (i: number) => Promise<void>,
): Promise<number> {
  const commands = await commandsDuring(redisUrl, async () => {
    for (let i = 0; i < requests; i++) await send(i);
  });
  return Object.values(commands).reduce((sum, n) => sum + n, 0) / requests;
}

/** The top-level commands Redis ran while `run` ran, by name (MONITOR, scripts' own left out). */
export async function commandsDuring(
  redisUrl: string,
  run: () => Promise<void>,
): Promise<Record<string, number>> {
  const monitor = await CommandMonitor.open(redisUrl);
  try {
    // The monitor's own connection's start-up commands are not the run's.
    await monitor.barrier();
    monitor.reset();
    await run();
    // Every line of what ran before the barrier has been read once it resolves.
    await monitor.barrier();
    return monitor.counts();
  } finally {
    monitor.close();
  }
}
