import type { OperationBudget } from './operation-budget.js';

/**
 * The session keys of a backend: one session's JSON per key, as connect-redis stores it. Keys
 * come from `TenantKeys`; the store knows nothing about tenants or users. Every call waits at
 * most what its budget has left; failures are SessionStoreUnavailableException (503) or, for a
 * key of another type, WrongTypeError.
 */

/** Where the index entry of a session's owner lies. */
export interface OwnerRef {
  userId: string;
  indexKey: string;
  sid: string;
}

/**
 * When a session key expires: `ttlMs` after the store runs the command (an idle TTL, counted
 * from the request's use), or, when `expiresAt` is set, at that instant (ms, the store's clock:
 * PXAT, PEXPIREAT), the session's absolute deadline or earlier. A relative TTL sent near the
 * deadline would end as much past it as the command took to reach the store; an instant does not
 * move. `ttlMs` is then what is left before it, by the app's estimate of the store's clock.
 */
export interface Expiry {
  ttlMs: number;
  expiresAt?: number;
}

/** One session write. */
export interface SessionWrite {
  key: string;
  value: string;
  /** New TTL in ms; leave out to keep the current one. */
  ttlMs?: number;
  /** Expire at this instant instead of after `ttlMs` (see Expiry). */
  expiresAt?: number;
  /** Only overwrite a session that still exists, so a revoked session is never written back. */
  onlyIfExists: boolean;
  /** The owner the written value names, if any (a near cache keeps it with the value). */
  owner?: OwnerRef;
}

/** A stored session as seen by listing: its JSON (null when gone) and remaining TTL in ms. */
export interface StoredSession {
  value: string | null;
  ttlMs: number;
}

/**
 * How a read treats the session's TTL: restarted to the expiry (a request's read, as GETEX PX or
 * PXAT), restarted only once less than `ttlMs - slackMs` is left (reads shared by several
 * instances through their near caches), or left as it is (sockets, listings).
 */
export type TtlRestart =
  | ({ mode: 'always' } & Expiry)
  | ({ mode: 'ran-down'; slackMs: number } & Expiry)
  | { mode: 'never' };

/**
 * Where the index entry of a session's owner is, for backends that read it in the same step as
 * the session (see `SessionBackend.read`); the lease rule's lengths (user-index/index-lease.ts).
 */
export interface EntryCheck {
  indexPrefix: string;
  sid: string;
  leaseMs: number;
  renewBelowMs: number;
}

/** The index entry a read found for the user its session's stored owner names. */
export interface OwnerEntry {
  userId: string;
  /** The entry's live lease (extended if it ran low), or undefined: the index does not admit it. */
  lease: number | undefined;
}

/** A session read: its JSON (null when gone), the TTL it has left, and maybe its owner's entry. */
export interface SessionRead extends StoredSession {
  /**
   * Read in the same step when the backend could (a single Redis); absent otherwise, and then
   * the caller checks the index itself. Only a guess at the owner: use it only for the user
   * whose sealed owner the value turns out to hold.
   */
  entry?: OwnerEntry;
}

/**
 * Where a walk of every master stands: the master still to finish (`host:port`; masters are
 * walked in address order) and its SCAN cursor there. Plain JSON, to be saved and resumed.
 */
export interface ScanPosition {
  node: string;
  cursor: string;
}

/** One page of a SCAN: keys (maybe none) and where the walk resumes after it (absent: done). */
export interface ScanPage {
  keys: string[];
  next?: ScanPosition;
}

/** Reads and writes session keys. */
export interface SessionKeyStore {
  /**
   * Reads a session, treating its TTL as `restart` says, in one command; given `check`, also
   * reads (and renews, see UserIndexStore.lease) the index entry of the owner its value names,
   * when the backend can do both in that one step.
   */
  read(
    key: string,
    restart: TtlRestart,
    check: EntryCheck | undefined,
    budget: OperationBudget,
  ): Promise<SessionRead>;
  /** Sets a session's expiry (for sessions whose own max-age differs from the default). */
  expire(key: string, expiry: Expiry, budget: OperationBudget): Promise<void>;
  /** Writes a session; false when `onlyIfExists` found it gone. */
  write(write: SessionWrite, budget: OperationBudget): Promise<boolean>;
  /**
   * Deletes a session only if it still holds `value`: true when deleted, otherwise what it holds
   * now (another value, or null when it is gone), in one round trip.
   */
  removeIfHolds(key: string, value: string, budget: OperationBudget): Promise<true | string | null>;
  /** Reads sessions with their TTLs, in one round trip. */
  inspect(keys: string[], budget: OperationBudget): Promise<StoredSession[]>;
  /**
   * Deletes sessions in one round trip; returns how many existed. `revoking`: part of a
   * revocation, which must survive a failover (Redis: confirmed by the replicas).
   */
  remove(keys: string[], budget: OperationBudget, revoking?: boolean): Promise<number>;
  /**
   * Keys matching a SCAN pattern, page by page, on every master (a key may come twice), from the
   * start or from where an earlier walk stopped (`from`, a page's `next`). O(N) in the keyspace,
   * not in the matches: for admin work (a store's `all`, `ids`, `length`, bulk indexing).
   */
  scan(pattern: string, budget: OperationBudget, from?: ScanPosition): AsyncIterable<ScanPage>;
  /**
   * Deletes every key matching the SCAN patterns (a store's `clear`, tenant off-boarding);
   * returns the count. `revoking`: see `remove`.
   */
  removeMatching(patterns: string[], budget: OperationBudget, revoking?: boolean): Promise<number>;
}
