import { LruCache } from '../tenancy/lru-cache.js';

/** A session as this process last read it from Redis. */
export interface NearCacheEntry {
  value: string;
  /** When Redis will expire the key, as of that read (ms, this process's performance clock). */
  expiresAt: number;
}

/** A read in flight: what it started under, to tell whether its reply may be kept. */
export interface NearCacheRead {
  key: string;
  generation: number;
  version: number;
}

/**
 * Session JSON recently read from Redis, kept only while Redis can tell this process about every
 * change (the invalidation listener enables it, and disables it the moment it cannot): never
 * a value Redis said changed or went, never one read before the cache was (re-)enabled, never
 * a reply that raced an invalidation of its key. Bounded (one not used lately dropped first).
 * Pure bookkeeping: the backend decorator and the listener drive it.
 */
export class NearCache {
  private readonly entries: LruCache<string, NearCacheEntry>;
  /** Invalidations seen per key while reads of it were in flight, and how many are in flight. */
  private readonly inFlight = new Map<string, { reads: number; version: number }>();
  /** Bumped on every enable and disable: reads begun before then are not kept. */
  private generation = 0;
  private on = false;

  constructor(maxEntries: number) {
    this.entries = new LruCache(maxEntries);
  }

  get enabled(): boolean {
    return this.on;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Redis will tell us about changes from now on (tracking and its listener are in place). */
  enable(): void {
    this.clear();
    this.on = true;
  }

  /** Redis may no longer tell us (a connection dropped, a heartbeat went unanswered). */
  disable(): void {
    this.clear();
    this.on = false;
  }

  get(key: string): NearCacheEntry | undefined {
    return this.on ? this.entries.get(key) : undefined;
  }

  beginRead(key: string): NearCacheRead {
    const flight = this.inFlight.get(key) ?? { reads: 0, version: 0 };
    flight.reads++;
    this.inFlight.set(key, flight);
    return { key, generation: this.generation, version: flight.version };
  }

  /** The read's reply: kept when nothing invalidated its key or the cache meanwhile. */
  endRead(read: NearCacheRead, entry: NearCacheEntry | undefined): void {
    const flight = this.inFlight.get(read.key);
    const raced = flight !== undefined && flight.version !== read.version;
    if (flight && --flight.reads === 0) this.inFlight.delete(read.key);
    if (entry && this.on && !raced && read.generation === this.generation) {
      this.entries.set(read.key, entry);
    }
  }

  /**
   * This process wrote the key (`write` begun with `beginRead` before it was sent): reads in
   * flight from before it are not kept, and the written value is, unless Redis reported another
   * change of the key while the write was on its way.
   */
  endWrite(write: NearCacheRead, entry: NearCacheEntry | undefined): void {
    const flight = this.inFlight.get(write.key);
    const raced = flight !== undefined && flight.version !== write.version;
    if (flight) {
      flight.version++;
      if (--flight.reads === 0) this.inFlight.delete(write.key);
    }
    this.entries.delete(write.key);
    if (entry && this.on && !raced && write.generation === this.generation) {
      this.entries.set(write.key, entry);
    }
  }

  /** Redis said the key changed or went (or this process is about to change it). */
  invalidate(key: string): void {
    this.entries.delete(key);
    const flight = this.inFlight.get(key);
    if (flight) flight.version++;
  }

  /** Forget everything (a FLUSHALL, a reconnect): reads in flight are not kept either. */
  clear(): void {
    this.entries.clear();
    this.generation++;
  }
}
