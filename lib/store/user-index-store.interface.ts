import type { OperationBudget } from './operation-budget.js';

/**
 * The per-user indexes of a backend (scripts.ts): sorted sets of session id → lease, plus a
 * user's last revocation. Same failure rules as SessionKeyStore.
 */

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

/** Reads and writes per-user indexes; each call is one script or command on one index key. */
export interface UserIndexStore {
  /** Indexes a login's session unless the user was revoked since it began (scripts.ts ADMIT). */
  admit(
    indexKey: string,
    sid: string,
    leaseMs: number,
    began: LoginStart,
    budget: OperationBudget,
  ): Promise<Admission>;
  /**
   * Indexes a legacy session (an identity but no owner) unless the index keeps any revocation
   * of the user or the adoption window ended at `adoptUntil` (ms, store clock; scripts.ts ADOPT).
   */
  adopt(
    indexKey: string,
    sid: string,
    leaseMs: number,
    adoptUntil: number,
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
  /**
   * Live entries, after recording a revocation (not-before = now) when `revoking`, that
   * not-before kept at least until `keepNotBeforeUntil` (ms, store clock) when it is later than
   * the usual retention (a tenant adopting legacy sessions, see scripts.ts KEPT_UNTIL_MEMBER).
   */
  entries(
    indexKey: string,
    revoking: boolean,
    budget: OperationBudget,
    keepNotBeforeUntil?: number,
  ): Promise<IndexEntry[]>;
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
  /** Removes entries from an index (`revoking`: see SessionKeyStore.remove). */
  unindex(
    indexKey: string,
    sids: string[],
    budget: OperationBudget,
    revoking?: boolean,
  ): Promise<void>;
}
