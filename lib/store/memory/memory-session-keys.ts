import type { OperationBudget } from '../operation-budget.js';
import type {
  ScanPage,
  EntryCheck,
  Expiry,
  SessionKeyStore,
  SessionRead,
  SessionWrite,
  StoredSession,
  TtlRestart,
} from '../session-key-store.interface.js';
import { preciseNow, type Entry, type MemoryTables } from './memory-tables.js';

/** Session keys in this process's memory, with Redis's semantics (TTLs, SET XX, SCAN MATCH). */
export class MemorySessionKeys implements SessionKeyStore {
  constructor(private readonly tables: MemoryTables) {}

  /** The session alone: its owner's entry is left to `lease`, as on a Redis Cluster. */
  async read(
    key: string,
    restart: TtlRestart,
    _check: EntryCheck | undefined,
    budget: OperationBudget,
  ): Promise<SessionRead> {
    this.tables.start(budget);
    const entry = this.tables.live(this.tables.sessions, key);
    if (!entry) return { value: null, ttlMs: -2 };
    const now = preciseNow();
    const left = entry.expiresAt === Infinity ? -1 : entry.expiresAt - now;
    const due =
      restart.mode === 'always' ||
      (restart.mode === 'ran-down' && (left < 0 || left < restart.ttlMs - restart.slackMs));
    if (!due) return { value: entry.value, ttlMs: left };
    entry.expiresAt = expiresAt(restart, now);
    if (entry.expiresAt <= now) {
      this.tables.sessions.delete(key);
      return { value: null, ttlMs: -2 };
    }
    return { value: entry.value, ttlMs: entry.expiresAt - now };
  }

  async expire(key: string, expiry: Expiry, budget: OperationBudget): Promise<void> {
    this.tables.start(budget);
    const entry = this.tables.live(this.tables.sessions, key);
    if (entry) entry.expiresAt = expiresAt(expiry, preciseNow());
  }

  async write(write: SessionWrite, budget: OperationBudget): Promise<boolean> {
    this.tables.start(budget);
    const existing = this.tables.live(this.tables.sessions, write.key);
    if (write.onlyIfExists && !existing) return false;
    const until =
      write.ttlMs === undefined && write.expiresAt === undefined
        ? (existing?.expiresAt ?? Infinity)
        : expiresAt({ ttlMs: write.ttlMs ?? 0, expiresAt: write.expiresAt }, preciseNow());
    this.tables.sessions.set(write.key, { value: write.value, expiresAt: until });
    return true;
  }

  async removeIfHolds(
    key: string,
    value: string,
    budget: OperationBudget,
  ): Promise<true | string | null> {
    this.tables.start(budget);
    const entry = this.tables.live(this.tables.sessions, key);
    if (entry?.value !== value) return entry?.value ?? null;
    this.tables.sessions.delete(key);
    return true;
  }

  async inspect(keys: string[], budget: OperationBudget): Promise<StoredSession[]> {
    this.tables.start(budget);
    const now = preciseNow();
    return keys.map((key) => {
      const entry = this.tables.live(this.tables.sessions, key);
      if (!entry) return { value: null, ttlMs: -2 };
      return {
        value: entry.value,
        ttlMs: entry.expiresAt === Infinity ? -1 : entry.expiresAt - now,
      };
    });
  }

  async remove(keys: string[], budget: OperationBudget): Promise<number> {
    this.tables.start(budget);
    let removed = 0;
    for (const key of keys) {
      if (this.tables.live(this.tables.sessions, key)) removed++;
      this.tables.sessions.delete(key);
    }
    return removed;
  }

  /** One page: the whole walk (`from` is never needed, there is no page after it). */
  async *scan(pattern: string, budget: OperationBudget): AsyncIterable<ScanPage> {
    this.tables.start(budget);
    const matcher = globToRegExp(pattern);
    const keys: string[] = [];
    for (const store of [this.tables.sessions, this.tables.indexes] as Map<
      string,
      Entry<unknown>
    >[]) {
      for (const key of [...store.keys()]) {
        if (matcher.test(key) && this.tables.live(store, key)) keys.push(key);
      }
    }
    yield { keys };
  }

  async removeMatching(patterns: string[], budget: OperationBudget): Promise<number> {
    this.tables.start(budget);
    const matchers = patterns.map(globToRegExp);
    let removed = 0;
    for (const store of [this.tables.sessions, this.tables.indexes] as Map<string, unknown>[]) {
      for (const key of [...store.keys()]) {
        if (matchers.some((m) => m.test(key))) {
          store.delete(key);
          removed++;
        }
      }
    }
    return removed;
  }
}

/** When a key given `expiry` at `now` expires (this clock is the store's: see MemoryBackend). */
function expiresAt({ ttlMs, expiresAt }: Expiry, now: number): number {
  return expiresAt ?? now + ttlMs;
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
