import { createHash } from 'node:crypto';
import type { OperationBudget } from '../operation-budget.js';
import { NOT_BEFORE_RETENTION_MS } from '../scripts.js';
import type {
  Admission,
  IndexEntry,
  IndexPage,
  IndexPosition,
  LoginStart,
  UserIndexStore,
} from '../user-index-store.interface.js';
import { preciseNow, type Index, type MemoryTables } from './memory-tables.js';

/** Per-user indexes in this process's memory, mirroring the Redis scripts (scripts.ts). */
export class MemoryUserIndexes implements UserIndexStore {
  constructor(private readonly tables: MemoryTables) {}

  async admit(
    indexKey: string,
    sid: string,
    leaseMs: number,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<Admission> {
    this.tables.start(budget);
    const now = preciseNow();
    const index = this.tables.tidy(indexKey, now);
    const beganAt = earliest(began, now);
    if (now - beganAt > NOT_BEFORE_RETENTION_MS) return { admitted: false };
    if (index.notBefore !== undefined && index.notBefore >= beganAt) {
      return { admitted: false };
    }
    return this.admitted(indexKey, index, sid, now, leaseMs);
  }

  /** Mirrors scripts.ts ADOPT. */
  async adopt(
    indexKey: string,
    sid: string,
    leaseMs: number,
    adoptUntil: number,
    budget: OperationBudget,
  ): Promise<Admission> {
    this.tables.start(budget);
    const now = preciseNow();
    if (now >= adoptUntil) return { admitted: false };
    const index = this.tables.tidy(indexKey, now);
    if (index.notBefore !== undefined) return { admitted: false };
    return this.admitted(indexKey, index, sid, now, leaseMs);
  }

  async confirm(
    indexKey: string,
    sid: string,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<boolean> {
    this.tables.start(budget);
    const now = preciseNow();
    const index = this.tables.tidy(indexKey, now);
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
    this.tables.start(budget);
    const now = preciseNow();
    const index = this.tables.tidy(indexKey, now);
    const lease = index.leases.get(sid);
    if (lease === undefined) return undefined;
    if (lease >= now + renewBelowMs) return lease;
    return this.tables.raise(indexKey, index, sid, Math.floor(now + leaseMs));
  }

  async entries(
    indexKey: string,
    revoking: boolean,
    budget: OperationBudget,
    keepNotBeforeUntil = 0,
  ): Promise<IndexEntry[]> {
    this.tables.start(budget);
    const now = preciseNow();
    const index = this.tables.tidy(indexKey, now);
    if (revoking) {
      index.notBefore = Math.max(index.notBefore ?? now, now);
      if (keepNotBeforeUntil > now) {
        index.keptUntil = Math.max(index.keptUntil ?? keepNotBeforeUntil, keepNotBeforeUntil);
      }
      this.tables.save(indexKey, index);
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
    this.tables.start(budget);
    const now = preciseNow();
    const live = [...(this.tables.live(this.tables.indexes, indexKey)?.value.leases ?? [])]
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

  /** ADMIT's and ADOPT's admission: the entry added with its lease. */
  private admitted(
    indexKey: string,
    index: Index,
    sid: string,
    now: number,
    leaseMs: number,
  ): Admission {
    const until = this.tables.raise(indexKey, index, sid, Math.floor(now + leaseMs));
    return {
      admitted: true,
      now: Math.floor(now),
      until: Math.floor(until),
      entries: index.leases.size,
    };
  }

  async unindex(indexKey: string, sids: string[], budget: OperationBudget): Promise<void> {
    this.tables.start(budget);
    const entry = this.tables.live(this.tables.indexes, indexKey);
    if (!entry) return;
    for (const sid of sids) entry.value.leases.delete(sid);
    const { leases, notBefore, keptUntil } = entry.value;
    if (leases.size === 0 && notBefore === undefined && keptUntil === undefined) {
      this.tables.indexes.delete(indexKey);
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
