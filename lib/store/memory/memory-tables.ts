import { performance } from 'node:perf_hooks';
import { SessionStoreUnavailableException } from '../../errors/session-store-unavailable.exception.js';
import type { OperationBudget } from '../operation-budget.js';
import { NOT_BEFORE_RETENTION_MS } from '../scripts.js';

/** A value and when it expires (ms epoch; Infinity: never). */
export interface Entry<T> {
  value: T;
  expiresAt: number;
}

/** One user's index: session id → lease, and the time of the user's last revocation. */
export interface Index {
  leases: Map<string, number>;
  notBefore?: number;
  /** Mirrors scripts.ts KEPT_UNTIL_MEMBER: the index lives at least until then. */
  keptUntil?: number;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * The in-process store's one clock (ms epoch, sub-millisecond, as the Redis scripts read TIME).
 * Every expiry is set and checked by it: it drifts from Date.now() over a process's life (a
 * monotonic clock against the wall clock), so mixing the two stretched TTLs by milliseconds.
 */
export const preciseNow = () => performance.timeOrigin + performance.now();

/**
 * The in-process backend's data, shared by its key store and its index store: the two kinds of
 * key, with Redis's expiry rules (an expired key is gone on access, and swept now and then).
 */
export class MemoryTables {
  readonly sessions = new Map<string, Entry<string>>();
  readonly indexes = new Map<string, Entry<Index>>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  /** A unit of work that already spent its budget (on earlier steps) goes no further. */
  start(budget: OperationBudget): void {
    if (budget.remainingMs <= 0) throw new SessionStoreUnavailableException('timed out');
  }

  live<T>(store: Map<string, Entry<T>>, key: string): Entry<T> | undefined {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= preciseNow()) {
      store.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Mirrors the scripts' `tidy`: the index with passed leases dropped. */
  tidy(key: string, now: number): Index {
    const index = this.live(this.indexes, key)?.value ?? { leases: new Map<string, number>() };
    for (const [sid, until] of index.leases) if (until <= now) index.leases.delete(sid);
    if (index.keptUntil !== undefined && index.keptUntil <= now) delete index.keptUntil;
    return index;
  }

  /** Mirrors ZADD GT + `expire`: raises one lease and stores the index until its last use. */
  raise(key: string, index: Index, sid: string, until: number): number {
    const lease = Math.max(until, index.leases.get(sid) ?? -Infinity);
    index.leases.set(sid, lease);
    this.save(key, index);
    return lease;
  }

  save(key: string, index: Index): void {
    const expiresAt = Math.max(
      ...index.leases.values(),
      (index.notBefore ?? -Infinity) + NOT_BEFORE_RETENTION_MS,
      index.keptUntil ?? -Infinity,
    );
    this.indexes.set(key, { value: index, expiresAt });
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sessions.clear();
    this.indexes.clear();
  }

  /** Expired entries are dropped on access; the sweep bounds memory for keys nobody reads again. */
  private sweep(): void {
    const now = preciseNow();
    for (const store of [this.sessions, this.indexes] as Map<string, Entry<unknown>>[]) {
      for (const [key, entry] of store) if (entry.expiresAt <= now) store.delete(key);
    }
  }
}
