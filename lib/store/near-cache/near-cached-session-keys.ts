import { performance } from 'node:perf_hooks';
import type { OperationBudget } from '../operation-budget.js';
import type {
  ScanPage,
  ScanPosition,
  EntryCheck,
  Expiry,
  OwnerRef,
  SessionKeyStore,
  SessionRead,
  SessionWrite,
  StoredSession,
  TtlRestart,
} from '../session-key-store.interface.js';
import type { NearCache, NearCacheEntry } from './near-cache.js';
import type { NearCacheTelemetry } from './near-cache-settings.js';

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

/**
 * A key store with a near cache of session reads (near-cache.ts), kept exact by Redis
 * server-assisted invalidation (invalidation-listener.ts). A read served from the cache costs no
 * round trip; a read that must go to Redis restarts the TTL only when it ran down by more than
 * 1 %, so instances reading the same session do not keep invalidating each other. Every write
 * this process makes invalidates its own entry before it is sent and again once it is done, so
 * no read racing it keeps what it replaced; a session it wrote with a TTL it keeps, as written.
 * An entry never outlives the instant its key expires at (Expiry), by the store clock's estimate
 * (`storeNow`, never behind Redis's): a cached session ends no later than its key.
 */
export class NearCachedSessionKeys implements SessionKeyStore {
  constructor(
    private readonly inner: SessionKeyStore,
    private readonly cache: NearCache,
    private readonly observed: NearCacheTelemetry,
    private readonly storeNow: () => number,
  ) {}

  /** How many sessions are cached now (for tests and metrics). */
  get cachedSessions(): number {
    return this.cache.size;
  }

  /**
   * A request's read (`always` restarting the TTL), served from the cache when fresh; other reads
   * (sockets, listings) go to Redis as they are.
   */
  async read(
    key: string,
    restart: TtlRestart,
    check: EntryCheck | undefined,
    budget: OperationBudget,
  ): Promise<SessionRead> {
    if (restart.mode !== 'always') return this.inner.read(key, restart, check, budget);
    const { ttlMs, expiresAt } = restart;
    const slackMs = ttlMs * TTL_REFRESH_SHARE;
    // A hit is answered once this turn's I/O callbacks have run, together with the other
    // requests that arrived in the turn, as a batch of Redis replies would be: their responses
    // then leave together, which costs less CPU per request under load. It is looked up again
    // then, so an invalidation that arrived meanwhile is obeyed.
    if (this.fresh(key, ttlMs, slackMs)) await endOfTurn();
    // A miss while this process writes the session (one begun in this turn, too) waits for that
    // write, which keeps what it wrote.
    let now = performance.now();
    let cached = this.fresh(key, ttlMs, slackMs, now);
    const writing = cached ? undefined : this.cache.writeEnded(key);
    if (writing) {
      await writing;
      // The wait counts against the request's deadline, as the round trip it replaces would.
      const waitedMs = performance.now() - now;
      budget.spend(waitedMs);
      now += waitedMs;
      cached = this.fresh(key, ttlMs, slackMs, now);
    }
    const { telemetry, deployment } = this.observed;
    telemetry.nearCacheRead(cached !== undefined, deployment, budget.tenant);
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
      const ranDown: TtlRestart = { mode: 'ran-down', ttlMs, slackMs: slackMs / 2, expiresAt };
      const read = await this.inner.read(key, ranDown, check, budget);
      const owner = ownerOfRead(read, check);
      if (owner) this.cache.keepLease(owner, read.entry!.lease, pending);
      // From when it was sent: Redis ran it later, so the key lives at least this long.
      const until = now + Math.min(read.ttlMs, this.leftUntil(expiresAt));
      const entry =
        read.value === null ? undefined : { value: read.value, expiresAt: until, owner };
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

  /** How long until `expiresAt` (the store's clock) at most, by this process's clock. */
  private leftUntil(expiresAt: number | undefined): number {
    return expiresAt === undefined ? Infinity : expiresAt - this.storeNow();
  }

  inspect(keys: string[], budget: OperationBudget): Promise<StoredSession[]> {
    return this.inner.inspect(keys, budget);
  }

  scan(pattern: string, budget: OperationBudget, from?: ScanPosition): AsyncIterable<ScanPage> {
    return this.inner.scan(pattern, budget, from);
  }

  expire(key: string, expiry: Expiry, budget: OperationBudget): Promise<void> {
    return this.cache.around([key], () => this.inner.expire(key, expiry, budget));
  }

  /**
   * Keeps what it wrote (with a TTL), and the owner it names: the next read of the session needs
   * no round trip when its owner's lease is cached too.
   */
  write(write: SessionWrite, budget: OperationBudget): Promise<boolean> {
    const { key, value, ttlMs, owner } = write;
    const sent = performance.now();
    const leftMs = Math.min(ttlMs ?? Infinity, this.leftUntil(write.expiresAt));
    return this.cache.around(
      [key],
      () => this.inner.write(write, budget),
      (written) =>
        written && leftMs !== Infinity ? { value, expiresAt: sent + leftMs, owner } : undefined,
    );
  }

  removeIfHolds(
    key: string,
    value: string,
    budget: OperationBudget,
  ): Promise<true | string | null> {
    return this.cache.around([key], () => this.inner.removeIfHolds(key, value, budget));
  }

  remove(keys: string[], budget: OperationBudget, revoking = false): Promise<number> {
    return this.cache.around(keys, () => this.inner.remove(keys, budget, revoking));
  }

  async removeMatching(
    patterns: string[],
    budget: OperationBudget,
    revoking = false,
  ): Promise<number> {
    this.cache.clear();
    try {
      return await this.inner.removeMatching(patterns, budget, revoking);
    } finally {
      this.cache.clear();
    }
  }
}
