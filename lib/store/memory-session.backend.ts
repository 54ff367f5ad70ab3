import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import type { OperationBudget } from './operation-budget.js';
import { NOT_BEFORE_RETENTION_MS } from './scripts.js';
import type {
  Admission,
  EntryCheck,
  IndexEntry,
  IndexPage,
  IndexPosition,
  LoginStart,
  SessionBackend,
  SessionRead,
  SessionWrite,
  StoredSession,
  TtlRestart,
} from './session-backend.interface.js';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

interface Index {
  leases: Map<string, number>;
  notBefore?: number;
}

const SWEEP_INTERVAL_MS = 60_000;

/** Milliseconds with sub-millisecond precision, as the Redis scripts read TIME. */
const preciseNow = () => performance.timeOrigin + performance.now();

/**
 * The embedded store: the same semantics as the Redis backend (TTLs, conditional writes,
 * index leases, not-before) in this process's memory. Sessions vanish on restart and are not
 * shared between processes, so it is meant for development, samples and tests. Each call is
 * one step here that spends nothing; as on Redis, a step that starts with its budget already
 * spent fails (503) and changes nothing.
 */
export class MemorySessionBackend implements SessionBackend {
  private readonly sessions = new Map<string, Entry<string>>();
  private readonly indexes = new Map<string, Entry<Index>>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  now(): number {
    return preciseNow();
  }

  /** The session alone: its owner's entry is left to `lease`, as on a Redis Cluster. */
  async read(
    key: string,
    restart: TtlRestart,
    _check: EntryCheck | undefined,
    budget: OperationBudget,
  ): Promise<SessionRead> {
    this.start(budget);
    const entry = this.live(this.sessions, key);
    if (!entry) return { value: null, ttlMs: -2 };
    const now = Date.now();
    const left = entry.expiresAt === Infinity ? -1 : entry.expiresAt - now;
    const due =
      restart.mode === 'always' ||
      (restart.mode === 'ran-down' && (left < 0 || left < restart.ttlMs - restart.slackMs));
    if (!due) return { value: entry.value, ttlMs: left };
    entry.expiresAt = now + restart.ttlMs;
    return { value: entry.value, ttlMs: restart.ttlMs };
  }

  async expire(key: string, ttlMs: number, budget: OperationBudget): Promise<void> {
    this.start(budget);
    const entry = this.live(this.sessions, key);
    if (entry) entry.expiresAt = Date.now() + ttlMs;
  }

  async write(write: SessionWrite, budget: OperationBudget): Promise<boolean> {
    this.start(budget);
    const existing = this.live(this.sessions, write.key);
    if (write.onlyIfExists && !existing) return false;
    const expiresAt =
      write.ttlMs === undefined ? (existing?.expiresAt ?? Infinity) : Date.now() + write.ttlMs;
    this.sessions.set(write.key, { value: write.value, expiresAt });
    return true;
  }

  async take(key: string, budget: OperationBudget): Promise<string | null> {
    this.start(budget);
    const entry = this.live(this.sessions, key);
    this.sessions.delete(key);
    return entry?.value ?? null;
  }

  async inspect(keys: string[], budget: OperationBudget): Promise<StoredSession[]> {
    this.start(budget);
    const now = Date.now();
    return keys.map((key) => {
      const entry = this.live(this.sessions, key);
      if (!entry) return { value: null, ttlMs: -2 };
      return {
        value: entry.value,
        ttlMs: entry.expiresAt === Infinity ? -1 : entry.expiresAt - now,
      };
    });
  }

  async remove(keys: string[], budget: OperationBudget): Promise<number> {
    this.start(budget);
    let removed = 0;
    for (const key of keys) {
      if (this.live(this.sessions, key)) removed++;
      this.sessions.delete(key);
    }
    return removed;
  }

  async *scan(pattern: string, budget: OperationBudget): AsyncIterable<string[]> {
    this.start(budget);
    const matcher = globToRegExp(pattern);
    const keys: string[] = [];
    for (const store of [this.sessions, this.indexes] as Map<string, Entry<unknown>>[]) {
      for (const key of [...store.keys()]) {
        if (matcher.test(key) && this.live(store, key)) keys.push(key);
      }
    }
    if (keys.length > 0) yield keys;
  }

  async removeMatching(patterns: string[], budget: OperationBudget): Promise<number> {
    this.start(budget);
    const matchers = patterns.map(globToRegExp);
    let removed = 0;
    for (const store of [this.sessions, this.indexes] as Map<string, unknown>[]) {
      for (const key of [...store.keys()]) {
        if (matchers.some((m) => m.test(key))) {
          store.delete(key);
          removed++;
        }
      }
    }
    return removed;
  }

  async admit(
    indexKey: string,
    sid: string,
    leaseMs: number,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<Admission> {
    this.start(budget);
    const now = preciseNow();
    const index = this.tidy(indexKey, now);
    const beganAt = earliest(began, now);
    if (now - beganAt > NOT_BEFORE_RETENTION_MS) return { admitted: false };
    if (index.notBefore !== undefined && index.notBefore >= beganAt) {
      return { admitted: false };
    }
    const until = this.raise(indexKey, index, sid, Math.floor(now + leaseMs));
    return {
      admitted: true,
      now: Math.floor(now),
      until: Math.floor(until),
      entries: index.leases.size,
    };
  }

  async confirm(
    indexKey: string,
    sid: string,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<boolean> {
    this.start(budget);
    const now = preciseNow();
    const index = this.tidy(indexKey, now);
    if (index.notBefore !== undefined && index.notBefore >= earliest(began, now)) return false;
    return index.leases.has(sid);
  }

  /** Mirrors scripts.ts LEASE. */
  async lease(
    indexKey: string,
    sid: string,
    leaseMs: number,
    renewBelowMs: number,
    budget: OperationBudget,
  ): Promise<number | undefined> {
    this.start(budget);
    const now = preciseNow();
    const index = this.tidy(indexKey, now);
    const lease = index.leases.get(sid);
    if (lease === undefined) return undefined;
    if (lease >= now + renewBelowMs) return lease;
    return this.raise(indexKey, index, sid, Math.floor(now + leaseMs));
  }

  async entries(
    indexKey: string,
    revoking: boolean,
    budget: OperationBudget,
  ): Promise<IndexEntry[]> {
    this.start(budget);
    const now = preciseNow();
    const index = this.tidy(indexKey, now);
    if (revoking) {
      index.notBefore = Math.max(index.notBefore ?? now, now);
      this.save(indexKey, index);
    }
    return [...index.leases].sort((a, b) => a[1] - b[1]).map(([sid, until]) => ({ sid, until }));
  }

  /** Mirrors scripts.ts PAGE: the same order and positions, by sorting the whole index. */
  async page(
    indexKey: string,
    after: IndexPosition | undefined,
    limit: number,
    budget: OperationBudget,
  ): Promise<IndexPage> {
    this.start(budget);
    const now = preciseNow();
    const live = [...(this.live(this.indexes, indexKey)?.value.leases ?? [])]
      .filter(([, until]) => until > now)
      .map(([sid, until]) => ({ sid, until, digest: sha1(sid) }))
      .sort((a, b) => a.until - b.until || (a.digest < b.digest ? -1 : 1));
    const rest = after
      ? live.filter(
          (e) => e.until > after.until || (e.until === after.until && e.digest > after.digest),
        )
      : live;
    const entries = rest.slice(0, limit);
    const last = entries.at(-1);
    const next =
      rest.length > limit && last ? { until: last.until, digest: last.digest } : undefined;
    return { entries: entries.map(({ sid, until }) => ({ sid, until })), total: live.length, next };
  }

  async unindex(indexKey: string, sids: string[], budget: OperationBudget): Promise<void> {
    this.start(budget);
    const entry = this.live(this.indexes, indexKey);
    if (!entry) return;
    for (const sid of sids) entry.value.leases.delete(sid);
    if (entry.value.leases.size === 0 && entry.value.notBefore === undefined) {
      this.indexes.delete(indexKey);
    }
  }

  async ready(): Promise<boolean> {
    return true;
  }

  async ping(budget: OperationBudget): Promise<void> {
    this.start(budget);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sessions.clear();
    this.indexes.clear();
  }

  /** A unit of work that already spent its budget (on earlier steps) goes no further. */
  private start(budget: OperationBudget): void {
    if (budget.remainingMs <= 0) throw new SessionStoreUnavailableException('timed out');
  }

  /** Mirrors the scripts' `tidy`: the index with passed leases dropped. */
  private tidy(key: string, now: number): Index {
    const index = this.live(this.indexes, key)?.value ?? { leases: new Map<string, number>() };
    for (const [sid, until] of index.leases) if (until <= now) index.leases.delete(sid);
    return index;
  }

  /** Mirrors ZADD GT + `expire`: raises one lease and stores the index until its last use. */
  private raise(key: string, index: Index, sid: string, until: number): number {
    const lease = Math.max(until, index.leases.get(sid) ?? -Infinity);
    index.leases.set(sid, lease);
    this.save(key, index);
    return lease;
  }

  private save(key: string, index: Index): void {
    const expiresAt = Math.max(
      ...index.leases.values(),
      (index.notBefore ?? -Infinity) + NOT_BEFORE_RETENTION_MS,
    );
    this.indexes.set(key, { value: index, expiresAt });
  }

  private live<T>(store: Map<string, Entry<T>>, key: string): Entry<T> | undefined {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Expired entries are dropped on access; the sweep bounds memory for keys nobody reads again. */
  private sweep(): void {
    const now = Date.now();
    for (const store of [this.sessions, this.indexes] as Map<string, Entry<unknown>>[]) {
      for (const [key, entry] of store) if (entry.expiresAt <= now) store.delete(key);
    }
  }
}

/** Mirrors the scripts' `beganAt`. */
function earliest(began: LoginStart, now: number): number {
  return Math.min(now - began.agoMs, began.at);
}

/** As Redis's `redis.sha1hex`. */
function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** SCAN MATCH semantics for the patterns TenantKeys builds: `\x` literal, `*` and `?` wildcards. */
function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]);
    else if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
