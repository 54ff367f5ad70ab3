/** One session write; `index` asks for index upkeep in the same round trip, after the session. */
export interface SessionWrite {
  key: string;
  value: string;
  /** New TTL in ms; leave out to keep the current one. */
  ttlMs?: number;
  /** Only overwrite a session that still exists, so a revoked session is never written back. */
  onlyIfExists: boolean;
  index?: { key: string; sid: string; indexedUntil: number };
}

/** A stored session as seen by listing: its JSON (null when gone) and remaining TTL in ms. */
export interface StoredSession {
  value: string | null;
  ttlMs: number;
}

/**
 * Where sessions and per-user indexes live. Two implementations share one contract suite:
 * Redis (production) and an in-process one (no server needed, development and tests).
 * Keys come from `TenantKeys`; a backend knows nothing about tenants.
 */
export interface SessionBackend {
  /** Returns a session and restarts its idle TTL, in one command. */
  load(key: string, ttlMs: number): Promise<string | null>;
  /** Sets a session's TTL (for sessions whose own max-age differs from the default). */
  expire(key: string, ttlMs: number): Promise<void>;
  /** Writes a session (and its index entry); false when `onlyIfExists` found it gone. */
  write(write: SessionWrite): Promise<boolean>;
  /** Deletes a session and returns what it held. */
  take(key: string): Promise<string | null>;
  /** Index entries whose "indexed until" is still in the future. */
  indexed(indexKey: string, now: number): Promise<{ sid: string; indexedUntil: number }[]>;
  /** Removes entries from an index. */
  unindex(indexKey: string, sids: string[]): Promise<void>;
  /** Atomically empties an index (except `keep`) and returns the removed sids. */
  drain(indexKey: string, keep?: string): Promise<string[]>;
  /** Reads sessions with their TTLs, in one round trip. */
  inspect(keys: string[]): Promise<StoredSession[]>;
  /** Deletes sessions in one round trip; returns how many existed. */
  remove(keys: string[]): Promise<number>;
  /** Deletes every key matching the SCAN patterns (tenant off-boarding only); returns the count. */
  removeMatching(patterns: string[]): Promise<number>;
  /** Waits (bounded) until the backend can serve; never throws. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Injection token of the active backend. */
export const SessionBackend = Symbol('SessionBackend');
