import { Redis } from 'ioredis';
import { MemoryBackend } from '../../lib/store/memory/memory-backend.js';
import { RedisBackend } from '../../lib/store/redis/redis-backend.js';
import { SessionTelemetry } from '../../lib/telemetry/session-telemetry.js';
import { NOT_BEFORE_MEMBER, NOT_BEFORE_RETENTION_MS } from '../../lib/store/scripts.js';
import type { SessionBackend } from '../../lib/store/session-backend.interface.js';

/**
 * What the contract suite reads and plants beside the backend under test, the way a second
 * Redis client would: the raw state of an index key, which the backend's own API only shows
 * filtered (entries hide the not-before and passed leases).
 */
export interface IndexProbe {
  /** Every member of the index key, the not-before included; [] when the key is gone. */
  members(indexKey: string): Promise<string[]>;
  /** The index key's remaining TTL in ms; negative when the key is gone. */
  ttlMs(indexKey: string): Promise<number>;
  /** The recorded not-before (ms, store clock), or null. */
  notBefore(indexKey: string): Promise<number | null>;
  /** Records a not-before directly, as a revocation on a store whose clock ran ahead would. */
  plantNotBefore(indexKey: string, at: number): Promise<void>;
  /**
   * Writes an entry with exactly this lease, as logins admitted in the same millisecond get;
   * the key lives at least until then.
   */
  plantEntry(indexKey: string, sid: string, until: number): Promise<void>;
}

export interface ContractBackend {
  backend: SessionBackend;
  probe: IndexProbe;
  close(): Promise<void>;
}

/** Each backend the contract suite runs against, by name. */
export const CONTRACT_BACKENDS: [name: string, create: () => Promise<ContractBackend>][] = [
  ['Redis', () => redisBackend(process.env.TEST_REDIS_URL!)],
  ['in-process memory', async () => memoryBackend()],
];

/** The production backend on `url`, as the module builds it (owns its client, no unsafe eviction). */
export async function redisBackend(url: string): Promise<ContractBackend & { redis: Redis }> {
  const backend = new RedisBackend(new Redis(url), {
    ownsClient: true,
    allowUnsafeEviction: false,
    deployment: 'default',
    telemetry: SessionTelemetry.off,
  });
  if (!(await backend.lifecycle.ready(5000)))
    throw new Error(`Redis at ${url} did not become ready`);
  const redis = new Redis(url);
  return {
    backend,
    redis,
    probe: {
      members: (key) => redis.zrange(key, '0', '-1'),
      ttlMs: (key) => redis.pttl(key),
      notBefore: async (key) => {
        const score = await redis.zscore(key, NOT_BEFORE_MEMBER);
        return score === null ? null : Number(score);
      },
      plantNotBefore: async (key, at) => {
        await redis.zadd(key, String(at), NOT_BEFORE_MEMBER);
      },
      plantEntry: async (key, sid, until) => {
        await redis.zadd(key, String(until), sid);
        if ((await redis.pexpiretime(key)) < until) await redis.pexpireat(key, until);
      },
    },
    close: async () => {
      await backend.lifecycle.close();
      redis.disconnect();
    },
  };
}

/** The state MemoryBackend keeps for one index (private; read here as a second client would). */
interface MemoryIndexEntry {
  value: { leases: Map<string, number>; notBefore?: number };
  expiresAt: number;
}

function memoryBackend(): ContractBackend {
  const backend = new MemoryBackend();
  return { backend, probe: memoryProbe(backend), close: () => backend.lifecycle.close() };
}

/** Reads and plants an in-process backend's index state, as a second Redis client would. */
export function memoryProbe(backend: MemoryBackend): IndexProbe {
  const indexes = backend.tables.indexes as Map<string, MemoryIndexEntry>;
  const live = (key: string) => {
    const entry = indexes.get(key);
    return entry && entry.expiresAt > backend.now() ? entry : undefined;
  };
  return {
    members: async (key) => {
      const index = live(key)?.value;
      if (!index) return [];
      const members = [...index.leases.keys()];
      return index.notBefore === undefined ? members : [...members, NOT_BEFORE_MEMBER];
    },
    ttlMs: async (key) => {
      const entry = live(key);
      if (!entry) return -2;
      return entry.expiresAt === Infinity ? -1 : entry.expiresAt - backend.now();
    },
    notBefore: async (key) => live(key)?.value.notBefore ?? null,
    plantNotBefore: async (key, at) => {
      const entry: MemoryIndexEntry = live(key) ?? { value: { leases: new Map() }, expiresAt: 0 };
      entry.value.notBefore = at;
      entry.expiresAt = Math.max(entry.expiresAt, at + NOT_BEFORE_RETENTION_MS);
      indexes.set(key, entry);
    },
    plantEntry: async (key, sid, until) => {
      const entry: MemoryIndexEntry = live(key) ?? { value: { leases: new Map() }, expiresAt: 0 };
      entry.value.leases.set(sid, until);
      entry.expiresAt = Math.max(entry.expiresAt, until);
      indexes.set(key, entry);
    },
  };
}
