import type { OperationBudget } from './operation-budget.js';

/** Where the index entry of a session's owner lies. */
export interface OwnerRef {
  userId: string;
  indexKey: string;
  sid: string;
}

/** One session write. */
export interface SessionWrite {
  key: string;
  value: string;
  /** New TTL in ms; leave out to keep the current one. */
  ttlMs?: number;
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
 * How a read treats the session's TTL: restarted to `ttlMs` (a request's read, as GETEX PX),
 * restarted only once less than `ttlMs - slackMs` is left (reads shared by several instances
 * through their near caches), or left as it is (sockets, listings).
 */
export type TtlRestart =
  | { mode: 'always'; ttlMs: number }
  | { mode: 'ran-down'; ttlMs: number; slackMs: number }
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

/** One index entry: a session id and the lease ("indexed until", ms, Redis clock). */
export interface IndexEntry {
  sid: string;
  until: number;
}

/**
 * Where a walk through an index stands: the lease of the last entry paged and the digest (SHA-1,
 * hex) of its session id, the order's tie-break. It names no session id.
 */
export interface IndexPosition {
  until: number;
  digest: string;
}

/** One page of an index (see `SessionBackend.page`). */
export interface IndexPage {
  /** In (lease, digest) order. */
  entries: IndexEntry[];
  /** Entries with a live lease in the whole index, the not-before left out. */
  total: number;
  /** Where the next page starts; absent on the last page. */
  next?: IndexPosition;
}

/**
 * When a login began (its request arrived): `agoMs` before the command was sent, and `at` by the
 * store clock estimate (ms). A command may wait in transit or in the server's queue, which would
 * make `agoMs` alone date the login later than it began; the earlier of the two counts.
 */
export interface LoginStart {
  agoMs: number;
  at: number;
}

/**
 * The answer to a login's request to be indexed; `entries` counts the user's entries with a live
 * lease, this one included: an upper bound of their live sessions, read at no extra cost.
 */
export type Admission =
  { admitted: true; now: number; until: number; entries: number } | { admitted: false };

/**
 * Where sessions and per-user indexes live. Two implementations share one contract suite:
 * Redis (production) and an in-process one (no server needed, development and tests).
 * Keys come from `TenantKeys`; a backend knows nothing about tenants or users. Every call
 * waits at most what its budget has left; failures are SessionStoreUnavailableException (503)
 * or, for a key of another type, WrongTypeError.
 */
export interface SessionBackend {
  /** The store's clock (ms), for lease decisions: the Redis server's, not this host's. */
  now(): number;
  /**
   * Reads a session, treating its TTL as `restart` says, in one command; given `check`, also
   * reads (and renews, see `lease`) the index entry of the owner its value names, when the
   * backend can do both in that one step.
   */
  read(
    key: string,
    restart: TtlRestart,
    check: EntryCheck | undefined,
    budget: OperationBudget,
  ): Promise<SessionRead>;
  /** Sets a session's TTL (for sessions whose own max-age differs from the default). */
  expire(key: string, ttlMs: number, budget: OperationBudget): Promise<void>;
  /** Writes a session; false when `onlyIfExists` found it gone. */
  write(write: SessionWrite, budget: OperationBudget): Promise<boolean>;
  /** Deletes a session and returns what it held. */
  take(key: string, budget: OperationBudget): Promise<string | null>;
  /** Reads sessions with their TTLs, in one round trip. */
  inspect(keys: string[], budget: OperationBudget): Promise<StoredSession[]>;
  /**
   * Deletes sessions in one round trip; returns how many existed. `revoking`: part of a
   * revocation, which must survive a failover (Redis: confirmed by the replicas).
   */
  remove(keys: string[], budget: OperationBudget, revoking?: boolean): Promise<number>;
  /**
   * Keys matching a SCAN pattern, page by page, on every master (a key may come twice). O(N) in
   * the keyspace, not in the matches: for admin work (a store's `all`, `ids`, `length`).
   */
  scan(pattern: string, budget: OperationBudget): AsyncIterable<string[]>;
  /**
   * Deletes every key matching the SCAN patterns (a store's `clear`, tenant off-boarding);
   * returns the count. `revoking`: see `remove`.
   */
  removeMatching(patterns: string[], budget: OperationBudget, revoking?: boolean): Promise<number>;
  /** Indexes a login's session unless the user was revoked since it began (scripts.ts ADMIT). */
  admit(
    indexKey: string,
    sid: string,
    leaseMs: number,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<Admission>;
  /** Whether a login's session is still indexed and unrevoked (scripts.ts CONFIRM). */
  confirm(
    indexKey: string,
    sid: string,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<boolean>;
  /**
   * The entry's live lease, extended to now + `leaseMs` when less than `renewBelowMs` is left;
   * undefined when the index holds no live entry for `sid` (never added back, scripts.ts LEASE).
   */
  lease(
    indexKey: string,
    sid: string,
    leaseMs: number,
    renewBelowMs: number,
    budget: OperationBudget,
  ): Promise<number | undefined>;
  /** Live entries, after recording a revocation (not-before = now) when `revoking`. */
  entries(indexKey: string, revoking: boolean, budget: OperationBudget): Promise<IndexEntry[]>;
  /**
   * Up to `limit` entries with a live lease that come after `after` in (lease, digest) order,
   * and how many live entries the index holds, in one read-only round trip costing
   * O(log N + limit) whatever N is (scripts.ts PAGE).
   */
  page(
    indexKey: string,
    after: IndexPosition | undefined,
    limit: number,
    budget: OperationBudget,
  ): Promise<IndexPage>;
  /** Removes entries from an index (`revoking`: see `remove`). */
  unindex(
    indexKey: string,
    sids: string[],
    budget: OperationBudget,
    revoking?: boolean,
  ): Promise<void>;
  /** Waits (bounded) until the backend can serve; never throws. */
  ready(timeoutMs: number): Promise<boolean>;
  /** Checks that the store answers now (PING on every Redis master), for health checks. */
  ping(budget: OperationBudget): Promise<void>;
  close(): Promise<void>;
}

/** Injection token of the active backend. */
export const SessionBackend = Symbol('SessionBackend');
