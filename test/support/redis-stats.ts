import type { Redis } from 'ioredis';
import { CommandMonitor } from './monitor.js';

/** Calls per command since the last CONFIG RESETSTAT, from INFO commandstats. */
export async function commandCounts(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    counts[match[1]] = Number(match[2]);
  }
  return counts;
}

/** The module's upkeep, at most every few seconds whatever the traffic (clock, memory policy). */
const UPKEEP = new Set(['info', 'time', 'script']);

/**
 * Counts the commands `action` makes clients send to the server (MONITOR: a script is one
 * command, whatever it calls), upkeep left out. Only meaningful on a server nobody else uses
 * meanwhile.
 */
export async function countCommands(
  redis: Redis,
  action: () => Promise<unknown>,
): Promise<Record<string, number>> {
  const { host, port } = redis.options;
  const monitor = await CommandMonitor.open(`redis://${host ?? '127.0.0.1'}:${port ?? 6379}`);
  try {
    // The monitor's own connection has said hello by then; only the action's commands count.
    await monitor.barrier();
    monitor.reset();
    await action();
    await monitor.barrier();
    const counts = monitor.counts();
    for (const name of UPKEEP) delete counts[name];
    return counts;
  } finally {
    monitor.close();
  }
}
