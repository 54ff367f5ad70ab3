import type { SessionBackend, SessionWrite, StoredSession } from './session-backend.interface.js';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * The embedded store: the same semantics as the Redis backend (TTLs, conditional writes,
 * index leases) in this process's memory. Sessions vanish on restart and are not shared
 * between processes, so it is meant for development, samples and tests.
 */
export class MemorySessionBackend implements SessionBackend {
  private readonly sessions = new Map<string, Entry<string>>();
  private readonly indexes = new Map<string, Entry<Map<string, number>>>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  async load(key: string, ttlMs: number): Promise<string | null> {
    const entry = this.live(this.sessions, key);
    if (!entry) return null;
    entry.expiresAt = Date.now() + ttlMs;
    return entry.value;
  }

  async expire(key: string, ttlMs: number): Promise<void> {
    const entry = this.live(this.sessions, key);
    if (entry) entry.expiresAt = Date.now() + ttlMs;
  }

  async write(write: SessionWrite): Promise<boolean> {
    const existing = this.live(this.sessions, write.key);
    if (write.onlyIfExists && !existing) return false;
    const expiresAt =
      write.ttlMs === undefined ? (existing?.expiresAt ?? Infinity) : Date.now() + write.ttlMs;
    this.sessions.set(write.key, { value: write.value, expiresAt });
    if (write.index) this.index(write.index.key, write.index.sid, write.index.indexedUntil);
    return true;
  }

  async take(key: string): Promise<string | null> {
    const entry = this.live(this.sessions, key);
    this.sessions.delete(key);
    return entry?.value ?? null;
  }

  async indexed(indexKey: string, now: number): Promise<{ sid: string; indexedUntil: number }[]> {
    const scores = this.live(this.indexes, indexKey)?.value ?? new Map<string, number>();
    return [...scores]
      .filter(([, indexedUntil]) => indexedUntil > now)
      .sort((a, b) => a[1] - b[1])
      .map(([sid, indexedUntil]) => ({ sid, indexedUntil }));
  }

  async unindex(indexKey: string, sids: string[]): Promise<void> {
    const entry = this.live(this.indexes, indexKey);
    if (!entry) return;
    for (const sid of sids) entry.value.delete(sid);
    if (entry.value.size === 0) this.indexes.delete(indexKey);
  }

  async drain(indexKey: string, keep?: string): Promise<string[]> {
    const entry = this.live(this.indexes, indexKey);
    if (!entry) return [];
    const removed = [...entry.value.keys()].filter((sid) => sid !== keep);
    for (const sid of removed) entry.value.delete(sid);
    if (entry.value.size === 0) this.indexes.delete(indexKey);
    return removed;
  }

  async inspect(keys: string[]): Promise<StoredSession[]> {
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

  async remove(keys: string[]): Promise<number> {
    let removed = 0;
    for (const key of keys) {
      if (this.live(this.sessions, key)) removed++;
      this.sessions.delete(key);
    }
    return removed;
  }

  async removeMatching(patterns: string[]): Promise<number> {
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

  async ready(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sessions.clear();
    this.indexes.clear();
  }

  /** Mirrors INDEX_SESSION: drop passed leases, raise this entry, expire with the highest lease. */
  private index(key: string, sid: string, indexedUntil: number): void {
    const now = Date.now();
    const scores = this.live(this.indexes, key)?.value ?? new Map<string, number>();
    for (const [member, until] of scores) if (until <= now) scores.delete(member);
    scores.set(sid, Math.max(indexedUntil, scores.get(sid) ?? -Infinity));
    this.indexes.set(key, { value: scores, expiresAt: Math.max(...scores.values()) });
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
