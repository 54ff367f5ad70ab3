/**
 * What Redis did during a phase, from server counters (CONFIG RESETSTAT, then INFO):
 * commands by name from `commandstats` and the server's CPU time from `cpu`.
 * Commands run inside a Lua script are counted under their own names as well as the EVAL.
 * Only meaningful on a server nobody else uses meanwhile. Round trips, what a client waits for,
 * come from MONITOR instead, which names the commands a script ran as its own (source "lua").
 */
import type { Redis } from 'ioredis';

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
 * lines, those from inside Lua scripts left out. MONITOR slows Redis, so
 * this runs apart from the timed load.
 */
export async function roundTripsPerRequest(
  redis: Redis,
  requests: number,
  send: (i: number) => Promise<void>,
): Promise<number> {
  const monitor = await redis.monitor();
  let roundTrips = 0;
  monitor.on('monitor', (_time: string, _args: string[], source: string) => {
    if (source !== 'lua') roundTrips++;
  });
  try {
    for (let i = 0; i < requests; i++) await send(i);
    // MONITOR streams what ran; give it a moment to deliver the last lines.
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    monitor.disconnect();
  }
  return roundTrips / requests;
}
