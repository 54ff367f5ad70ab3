import type { Redis } from 'ioredis';
import type { TenantSessionDurability } from '../options/tenant-session-options.interface.js';
import { performance } from 'node:perf_hooks';
import { InvalidationListener } from './invalidation-listener.js';
import { NearCache, type NearCacheEntry } from './near-cache.js';
import type { OperationBudget } from './operation-budget.js';
import { RedisSessionBackend } from './redis-session.backend.js';
import type {
  Admission,
  EntryCheck,
  IndexEntry,
  LoginStart,
  OwnerRef,
  SessionRead,
  SessionWrite,
  TtlRestart,
} from './session-backend.interface.js';

/**
 * A session's TTL is restarted at most once per this share of it: a read that finds more left
 * is served as it is (from the near cache, or from Redis without modifying the key). A session
 * may so end up to this much earlier than its cookie says, as with `touch` (36 s of an hour).
 */
const TTL_REFRESH_SHARE = 0.01;

/** The owner a read's reply names, and where its entry lies. */
function ownerOfRead(read: SessionRead, check: EntryCheck | undefined): OwnerRef | undefined {
  if (!read.entry || !check) return undefined;
  const { userId } = read.entry;
  return { userId, indexKey: check.indexPrefix + userId, sid: check.sid };
}

/** Resolves once the I/O callbacks of this turn of the event loop have run. */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Settings of the near cache (the module's `nearCache` option, checked). */
export interface NearCacheSettings {
  maxEntries: number;
  /** How often the invalidation connection must answer PING, and how long it may take. */
  heartbeatMs: number;
}

/**
 * The Redis backend with a near cache of session reads (near-cache.ts), kept exact by Redis
 * server-assisted invalidation (invalidation-listener.ts). A read served from the cache costs no
 * round trip; a read that must go to Redis reads the value and TTL (one round trip) and restarts
 * the TTL (one more) only when it ran down by more than 1 %, so instances reading the same
 * session do not keep invalidating each other. Every write this process makes invalidates its own entry before
 * it is sent and again once it is done, so no read racing it keeps what it replaced; a session
 * it wrote with a TTL it keeps, as written.
 * Leases are cached too, by index key: a read served from the cache also needs its owner's lease
 * (a session serves only while its user's index admits it), and a revocation or a logout reaches
 * the cache as an invalidation of that user's index key.
 */
export class NearCachedRedisBackend extends RedisSessionBackend {
  private readonly cache: NearCache;
  private readonly listener: InvalidationListener;

  constructor(
    client: Redis,
    ownsClient: boolean,
    allowUnsafeEviction: boolean,
    durability: TenantSessionDurability | undefined,
    sessionPrefixes: string[],
    settings: NearCacheSettings,
  ) {
    super(client, ownsClient, allowUnsafeEviction, durability);
    this.cache = new NearCache(settings.maxEntries);
    this.listener = new InvalidationListener(
      client,
      sessionPrefixes,
      this.cache,
      settings.heartbeatMs,
    );
    this.listener.start();
  }

  /** How many sessions are cached now (for tests and metrics). */
  get cachedSessions(): number {
    return this.cache.size;
  }

  /**
   * A request's read (`always` restarting the TTL), served from the cache when fresh; other reads
   * (sockets, listings) go to Redis as they are.
   */
  override async read(
    key: string,
    restart: TtlRestart,
    check: EntryCheck | undefined,
    budget: OperationBudget,
  ): Promise<SessionRead> {
    if (restart.mode !== 'always') return super.read(key, restart, check, budget);
    const { ttlMs } = restart;
    const slackMs = ttlMs * TTL_REFRESH_SHARE;
    // A hit is answered once this turn's I/O callbacks have run, together with the other
    // requests that arrived in the turn, as a batch of Redis replies would be: their responses
    // then leave together, which costs less CPU per request under load. It is looked up again
    // then, so an invalidation that arrived meanwhile is obeyed.
    if (this.fresh(key, ttlMs, slackMs)) await endOfTurn();
    const now = performance.now();
    const cached = this.fresh(key, ttlMs, slackMs, now);
    if (cached) {
      const hit: SessionRead = { value: cached.value, ttlMs: cached.expiresAt - now };
      const known = cached.owner && this.cache.leaseOf(cached.owner);
      if (known) hit.entry = { userId: cached.owner!.userId, lease: known.lease };
      return hit;
    }
    const pending = this.cache.beginRead(key);
    try {
      // Half the slack in Redis: a read here comes once the cached TTL ran down by the slack,
      // so it restarts the TTL; another instance's read just after a restart does not.
      const ranDown: TtlRestart = { mode: 'ran-down', ttlMs, slackMs: slackMs / 2 };
      const read = await super.read(key, ranDown, check, budget);
      const owner = ownerOfRead(read, check);
      if (owner) this.cache.keepLease(owner, read.entry!.lease, pending);
      // From when it was sent: Redis ran it later, so the key lives at least this long.
      const entry =
        read.value === null ? undefined : { value: read.value, expiresAt: now + read.ttlMs, owner };
      this.cache.endRead(pending, entry);
      return read;
    } catch (error) {
      this.cache.endRead(pending, undefined);
      throw error;
    }
  }

  /** The cached session, unless its TTL ran down by more than the slack since it was read. */
  private fresh(
    key: string,
    ttlMs: number,
    slackMs: number,
    now = performance.now(),
  ): NearCacheEntry | undefined {
    const cached = this.cache.get(key);
    return cached && cached.expiresAt - now >= ttlMs - slackMs ? cached : undefined;
  }

  override expire(key: string, ttlMs: number, budget: OperationBudget): Promise<void> {
    return this.changing([key], () => super.expire(key, ttlMs, budget));
  }

  /**
   * Keeps what it wrote (with a TTL), and the owner it names: the next read of the session needs
   * no round trip when its owner's lease is cached too.
   */
  override write(write: SessionWrite, budget: OperationBudget): Promise<boolean> {
    const { key, value, ttlMs, owner } = write;
    const sent = performance.now();
    return this.changing(
      [key],
      () => super.write(write, budget),
      (written) =>
        written && ttlMs !== undefined ? { value, expiresAt: sent + ttlMs, owner } : undefined,
    );
  }

  override take(key: string, budget: OperationBudget): Promise<string | null> {
    return this.changing([key], () => super.take(key, budget));
  }

  override remove(keys: string[], budget: OperationBudget, revoking = false): Promise<number> {
    return this.changing(keys, () => super.remove(keys, budget, revoking));
  }

  override async removeMatching(
    patterns: string[],
    budget: OperationBudget,
    revoking = false,
  ): Promise<number> {
    this.cache.clear();
    try {
      return await super.removeMatching(patterns, budget, revoking);
    } finally {
      this.cache.clear();
    }
  }

  override admit(
    indexKey: string,
    sid: string,
    leaseMs: number,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<Admission> {
    return this.changing([indexKey], () => super.admit(indexKey, sid, leaseMs, began, budget));
  }

  /**
   * Keeps the lease it learns. A renewal is this process's own change of the index, which Redis
   * does not echo: it changes that one session's lease, which is what is kept.
   */
  override async lease(
    indexKey: string,
    sid: string,
    leaseMs: number,
    renewBelowMs: number,
    budget: OperationBudget,
  ): Promise<number | undefined> {
    const before = this.cache.mark();
    const lease = await super.lease(indexKey, sid, leaseMs, renewBelowMs, budget);
    this.cache.keepLease({ indexKey, sid }, lease, before);
    return lease;
  }

  override entries(
    indexKey: string,
    revoking: boolean,
    budget: OperationBudget,
  ): Promise<IndexEntry[]> {
    if (!revoking) return super.entries(indexKey, revoking, budget);
    return this.changing([indexKey], () => super.entries(indexKey, revoking, budget));
  }

  override unindex(
    indexKey: string,
    sids: string[],
    budget: OperationBudget,
    revoking = false,
  ): Promise<void> {
    return this.changing([indexKey], () => super.unindex(indexKey, sids, budget, revoking));
  }

  override async close(): Promise<void> {
    await this.listener.close();
    await super.close();
  }

  /**
   * This process's own writes are not echoed back (NOLOOP): it forgets the keys itself, before
   * the write is sent (reads in flight then are not kept) and once it is done (nor are reads
   * begun meanwhile); `kept` names what to cache as written, unless Redis reported another
   * change of the key during the write.
   */
  private async changing<T>(
    keys: string[],
    write: () => Promise<T>,
    kept?: (result: T) => NearCacheEntry | undefined,
  ): Promise<T> {
    for (const key of keys) this.cache.invalidate(key);
    const pending = keys.map((key) => this.cache.beginRead(key));
    let entry: NearCacheEntry | undefined;
    try {
      const result = await write();
      entry = kept?.(result);
      return result;
    } finally {
      for (const read of pending) this.cache.endWrite(read, entry);
    }
  }
}
