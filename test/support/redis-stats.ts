import type { Redis } from 'ioredis';

/** Calls per command since the last CONFIG RESETSTAT, from INFO commandstats. */
export async function commandCounts(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    counts[match[1]] = Number(match[2]);
  }
  return counts;
}

/**
 * Counts the commands `action` makes the server run, leaving out the probe's own INFO/RESETSTAT.
 * Only meaningful on a server nobody else uses meanwhile.
 */
export async function countCommands(
  redis: Redis,
  action: () => Promise<unknown>,
): Promise<Record<string, number>> {
  await redis.config('RESETSTAT');
  await action();
  const counts = await commandCounts(redis);
  delete counts.info;
  delete counts['config|resetstat'];
  return counts;
}
