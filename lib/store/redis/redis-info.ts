import type { Redis } from 'ioredis';
import type { ServerMemory } from '../session-backend.interface.js';

/**
 * Fields of Redis's `INFO` answer, which managed Redis services give even where CONFIG is
 * disabled.
 */

/** One `name:value` line of an INFO section, trimmed; undefined when absent. */
export function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** One server's memory use, limit and eviction policy (`INFO memory`). */
export async function serverMemory(node: Redis): Promise<ServerMemory> {
  const info = await node.info('memory');
  return {
    server: `${node.options.host}:${node.options.port}`,
    usedBytes: Number(infoField(info, 'used_memory') ?? 0),
    maxBytes: Number(infoField(info, 'maxmemory') ?? 0),
    policy: infoField(info, 'maxmemory_policy') ?? 'noeviction',
  };
}
