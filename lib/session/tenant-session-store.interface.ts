import type { SessionData, Store } from 'express-session';
import type { ListedSession } from './session-listing.js';

/** A connect-redis style callback: called once, with the error or with the value. */
export type StoreCallback<T = void> = (err: unknown, value?: T | null) => unknown;

/**
 * One tenant's express-session store (`TenantSessionRegistry.store(tenant)`), a complete one in
 * connect-redis 8's conventions: every method takes a callback or returns a promise. Stored data
 * is what connect-redis reads and writes. What differs from connect-redis: `get` restarts the
 * idle TTL (and checks the session's index entry: a revoked session is no session); `set` of a
 * session loaded from the store writes only if it still exists; `all`, `ids`, `length` and
 * `clear` see this tenant's keys only, and `clear` drops its user indexes too.
 */
export interface TenantSessionStore extends Store {
  get(sid: string): Promise<SessionData | null>;
  get(sid: string, callback: StoreCallback<SessionData | null>): Promise<unknown>;
  set(sid: string, session: SessionData): Promise<void>;
  set(sid: string, session: SessionData, callback: StoreCallback): Promise<unknown>;
  destroy(sid: string): Promise<void>;
  destroy(sid: string, callback: StoreCallback): Promise<unknown>;
  touch(sid: string, session: SessionData): Promise<void>;
  touch(sid: string, session: SessionData, callback: StoreCallback): Promise<unknown>;
  /** The session as stored, TTL left as it is (admin tools); null when it would not serve. */
  peek(sid: string): Promise<SessionData | null>;
  peek(sid: string, callback: StoreCallback<SessionData | null>): Promise<unknown>;
  all(): Promise<ListedSession[]>;
  all(callback: StoreCallback<ListedSession[]>): Promise<unknown>;
  ids(): Promise<string[]>;
  ids(callback: StoreCallback<string[]>): Promise<unknown>;
  length(): Promise<number>;
  length(callback: StoreCallback<number>): Promise<unknown>;
  clear(): Promise<void>;
  clear(callback: StoreCallback): Promise<unknown>;
}
