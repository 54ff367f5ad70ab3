import { LruCache } from '../../util/lru-cache.js';
import type { OwnerRef } from '../session-key-store.interface.js';

/** A session as this process last read or wrote it. */
export interface NearCacheEntry {
  value: string;
  /** When Redis will expire the key, as of that read (ms, this process's performance clock). */
  expiresAt: number;
  /** The owner its value names, when the read (or the write) said. */
  owner?: OwnerRef;
}

/** A read in flight: what it started under, to tell whether its reply may be kept. */
export interface NearCacheRead {
  key: string;
  generation: number;
  version: number;
  /** Changes of its key other than this process's session writes when it began. */
  spoiled: number;
  /** The count of invalidations when it began (see `ChangeLog`). */
  seen: number;
}

/** A write of this process in flight (`around`). */
interface NearCacheWrite extends NearCacheRead {
  /** A session write's place among this process's session writes of the key, as sent. */
  order?: number;
}

/** Reads and writes of one key in flight, and what happened to the key meanwhile. */
interface Flight {
  reads: number;
  /** Bumped by every change: Redis's reports and this process's own writes. */
  version: number;
  /** Bumped by every change but this process's session writes (see `endWrite`). */
  spoiled: number;
  /** Session writes of this process sent, and the latest (by that order) that ended. */
  sentWrites: number;
  lastEndedWrite: number;
}

/**
 * When each key was last invalidated, as a count of invalidations: a reply that names a key
 * the read did not know beforehand (an owner's index key) is checked against it. Bounded: a key
 * forgotten to make room counts as changed just then, so the answer is exact or errs towards
 * "changed".
 */
class ChangeLog {
  private readonly changed: LruCache<string, number>;
  private count = 0;
  private floor = 0;

  constructor(maxKeys: number) {
    this.changed = new LruCache(maxKeys, (_, at) => (this.floor = Math.max(this.floor, at)));
  }

  get now(): number {
    return this.count;
  }

  record(key: string): void {
    this.changed.set(key, ++this.count);
  }

  changedSince(key: string, seen: number): boolean {
    return (this.changed.peek(key) ?? this.floor) > seen;
  }

  /** Everything counts as changed before now (a reconnect). */
  reset(): void {
    this.changed.clear();
    this.floor = ++this.count;
  }
}

/**
 * Sessions and index entries recently read from Redis, kept only while Redis can tell this
 * process about every change (the invalidation listener enables it, and disables it the moment it
 * cannot): never a value Redis said changed or went, never one read before the cache was
 * (re-)enabled, never a reply that raced an invalidation of its key. Two kinds of fact, each
 * kept under the key it comes from, so a change of one key drops only what it could change:
 * - session JSON, by session key, with the owner it names;
 * - leases, by index key and session id: whether a user's index admits a session, which a
 *   revocation or a logout changes by writing that index key.
 * Bounded (one not used lately dropped first). Pure bookkeeping: the backend decorator and the
 * listener drive it.
 */
export class NearCache {
  private readonly entries: LruCache<string, NearCacheEntry>;
  private readonly leases: LruCache<string, Map<string, number | undefined>>;
  /** Invalidations seen per key while reads of it were in flight, and how many are in flight. */
  private readonly inFlight = new Map<string, Flight>();
  private readonly changes: ChangeLog;
  /** This process's session writes in flight, by key: when the latest one begun has ended. */
  private readonly writing = new Map<string, Promise<void>>();
  /** Bumped on every enable and disable: reads begun before then are not kept. */
  private generation = 0;
  private on = false;

  constructor(maxEntries: number) {
    this.entries = new LruCache(maxEntries);
    this.leases = new LruCache(maxEntries);
    this.changes = new ChangeLog(maxEntries);
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

  /** The cached lease of an owner's entry: a number, undefined (not admitted), or unknown. */
  leaseOf(owner: Omit<OwnerRef, 'userId'>): { lease: number | undefined } | undefined {
    const leases = this.on ? this.leases.get(owner.indexKey) : undefined;
    return leases?.has(owner.sid) ? { lease: leases.get(owner.sid) } : undefined;
  }

  /**
   * When this process's latest session write of the key ends (its value kept, unless something
   * spoiled it), if one is in flight: a read begun meanwhile waits for it instead of sending a
   * round trip of its own, whose reply, sent after the write on the same connection, would come
   * no earlier, and which would not be kept (it raced the write).
   */
  writeEnded(key: string): Promise<void> | undefined {
    return this.writing.get(key);
  }

  beginRead(key: string): NearCacheRead {
    const flight = this.flight(key);
    flight.reads++;
    const { version, spoiled } = flight;
    return { key, generation: this.generation, version, spoiled, seen: this.changes.now };
  }

  private flight(key: string): Flight {
    let flight = this.inFlight.get(key);
    if (!flight) {
      flight = { reads: 0, version: 0, spoiled: 0, sentWrites: 0, lastEndedWrite: 0 };
      this.inFlight.set(key, flight);
    }
    return flight;
  }

  /** The read's reply: kept when nothing invalidated its key or the cache meanwhile. */
  endRead(read: NearCacheRead, entry: NearCacheEntry | undefined): void {
    if (this.end(read, false) || !entry) return;
    this.entries.set(read.key, entry);
  }

  /**
   * A lease Redis reported (read with a session, or on its own) as the count of invalidations
   * stood at `seen`: kept unless its index key changed since.
   */
  keepLease(
    { indexKey, sid }: Omit<OwnerRef, 'userId'>,
    lease: number | undefined,
    { seen, generation }: { seen: number; generation: number },
  ): void {
    if (!this.on || generation !== this.generation) return;
    if (this.changes.changedSince(indexKey, seen)) return;
    let leases = this.leases.get(indexKey);
    if (!leases) this.leases.set(indexKey, (leases = new Map()));
    leases.set(sid, lease);
  }

  /**
   * This process wrote the key (`write` begun with `beginRead`, or by `around`, before it was
   * sent): reads in flight from before it are not kept, and the written value is, unless
   * something else changed the key while the write was on its way. A session write by `around`
   * is not spoiled by this process's other session writes of the key: they are sent as they
   * begin (no wait before the command) on one connection, which Redis answers in the order it
   * ran them; one begun later that already ended supersedes it, one still in flight will
   * replace what it keeps. Any other change (Redis's report, a delete, take or expire of this
   * process, a reset) spoils it, as it spoils reads.
   */
  endWrite(write: NearCacheWrite, entry: NearCacheEntry | undefined): void {
    const raced = this.end(write, true);
    this.entries.delete(write.key);
    if (entry && !raced) this.entries.set(write.key, entry);
  }

  /**
   * Redis said the key changed or went (or this process is about to change it): a session's
   * JSON, or a user's index and so every lease read from it.
   */
  invalidate(key: string, bySessionWrite = false): void {
    this.entries.delete(key);
    this.leases.delete(key);
    this.changes.record(key);
    const flight = this.inFlight.get(key);
    if (flight) flight.version++;
    if (flight && !bySessionWrite) flight.spoiled++;
  }

  /** Forget everything (a FLUSHALL, a reconnect): reads in flight are not kept either. */
  clear(): void {
    this.entries.clear();
    this.leases.clear();
    this.changes.reset();
    this.generation++;
  }

  /** The generation and invalidation count now, for a read whose keys are not known yet. */
  mark(): { seen: number; generation: number } {
    return { seen: this.changes.now, generation: this.generation };
  }

  /**
   * Ends a read or a write (which spoils the reads of its key still in flight); whether its own
   * key changed, or the cache was reset, meanwhile.
   */
  private end(read: NearCacheWrite, wrote: boolean): boolean {
    const flight = this.flight(read.key);
    const { order } = read;
    const changed =
      order === undefined
        ? flight.version !== read.version
        : flight.spoiled !== read.spoiled || flight.lastEndedWrite > order;
    const raced = changed || read.generation !== this.generation || !this.on;
    if (wrote) flight.version++;
    if (wrote && order === undefined) flight.spoiled++;
    if (order !== undefined) flight.lastEndedWrite = Math.max(flight.lastEndedWrite, order);
    if (--flight.reads === 0) this.inFlight.delete(read.key);
    return raced;
  }

  /**
   * This process's own writes are not echoed back (NOLOOP): it forgets the keys itself, before
   * the write is sent (reads in flight then are not kept) and once it is done (nor are reads
   * begun meanwhile); `kept` names what to cache as written, unless Redis reported another
   * change of the key during the write.
   */
  async around<T>(
    keys: string[],
    write: () => Promise<T>,
    kept?: (result: T) => NearCacheEntry | undefined,
  ): Promise<T> {
    const sessionWrite = kept !== undefined;
    for (const key of keys) this.invalidate(key, sessionWrite);
    const pending = keys.map((key): NearCacheWrite => {
      const write = this.beginRead(key);
      return sessionWrite ? { ...write, order: ++this.flight(key).sentWrites } : write;
    });
    let ended = () => {};
    const done = sessionWrite ? new Promise<void>((resolve) => (ended = resolve)) : undefined;
    if (done) for (const key of keys) this.writing.set(key, done);
    let entry: NearCacheEntry | undefined;
    try {
      const result = await write();
      entry = kept?.(result);
      return result;
    } finally {
      for (const read of pending) this.endWrite(read, entry);
      if (done)
        for (const key of keys) if (this.writing.get(key) === done) this.writing.delete(key);
      ended();
    }
  }
}
