import { performance } from 'node:perf_hooks';

/**
 * What the store knows about a live `req.session` object beyond its data, kept out of
 * `req.session` itself so the application only ever sees (and can only ever change) its own
 * fields. WeakMaps: nothing here outlives the session object.
 */
export interface SessionOwner {
  /** The identity the session is indexed under. */
  userId: string;
  /** `login`: bound by SessionLoginService.login; `identity`: read from the session's data. */
  via: 'login' | 'identity';
  /** Login time, ms epoch (Redis clock). */
  createdAt: number;
  /**
   * When the user last proved who they are (the login, or a re-authentication since), ms epoch
   * (Redis clock); absent on owners stored before it existed, which count from `createdAt`.
   */
  authenticatedAt?: number;
  ip?: string;
  userAgent?: string;
  /** The user index lists this session until this time (ms, Redis clock); 0 until indexed. */
  indexedUntil: number;
}

/** The store restarted the session's TTL (a read's GETEX or a write's SET PX) at `at`. */
export interface TtlRestart {
  ttlMs: number;
  /** performance.now() */
  at: number;
  by: 'read' | 'write';
}

const owners = new WeakMap<object, SessionOwner>();
const ttlRestarts = new WeakMap<object, TtlRestart>();
/** The session id the state above was recorded for. */
const heldSids = new WeakMap<object, string>();
/** The session as last loaded or stored (JSON without its cookie), to tell whether it changed. */
const baselines = new WeakMap<object, string>();
const failedSaves = new WeakSet<object>();
/** Sessions whose owner changed (a re-authentication) since they were last stored. */
const changedOwners = new WeakSet<object>();

/** A session object with no baseline was made in this request and holds nothing yet. */
const EMPTY_SESSION = '{}';

export function ownerOf(session: object | null | undefined): SessionOwner | undefined {
  return session ? owners.get(session) : undefined;
}

export function bindOwner(session: object, owner: SessionOwner): void {
  owners.set(session, owner);
}

export function unbindOwner(session: object): void {
  owners.delete(session);
}

/** The owner record changed in place: the session must be written, though its data did not. */
export function markOwnerChanged(session: object): void {
  changedOwners.add(session);
}

export function markTtlRestarted(session: object, ttlMs: number, by: TtlRestart['by']): void {
  ttlRestarts.set(session, { ttlMs, at: performance.now(), by });
}

/**
 * Carries what a load recorded over to the object express-session builds from the loaded data
 * (the same fields, copied in order, and a new cookie the baseline leaves out anyway): its TTL
 * restart, and its baseline, which so need not be computed twice.
 */
export function carryLoadedState(from: object, to: object): void {
  const restart = ttlRestarts.get(from);
  if (restart) ttlRestarts.set(to, restart);
  const baseline = baselines.get(from);
  if (baseline === undefined) markStored(to);
  else baselines.set(to, baseline);
}

export function ttlRestartOf(session: object): TtlRestart | undefined {
  return ttlRestarts.get(session);
}

/** Records that the object's state belongs to session `sid` (it was loaded or stored as it). */
export function holdFor(session: object, sid: string): void {
  heldSids.set(session, sid);
}

export function isHeldFor(session: object, sid: string): boolean {
  return heldSids.get(session) === sid;
}

/**
 * Drops the object's state when it was recorded for another session id: a caller outside
 * express-session may store one object under several ids, and what the store knew about it
 * as one session (its owner, that it exists) says nothing about another.
 */
export function forgetUnlessHeldFor(session: object, sid: string): void {
  if (!isHeldFor(session, sid)) forget(session);
}

/** Drops everything the store knew about the object. */
export function forget(session: object): void {
  for (const state of [owners, ttlRestarts, baselines, heldSids]) state.delete(session);
  failedSaves.delete(session);
  changedOwners.delete(session);
}

/** Whether the session object was loaded from the store or has been stored since. */
export function isPersisted(session: object): boolean {
  return baselines.has(session);
}

/**
 * Records the session's content as stored (`fields`: its `sessionFields` when written), so an
 * unchanged session is not written again.
 */
export function markStored(session: object, fields = sessionFields(session)): void {
  baselines.set(session, fields);
  changedOwners.delete(session);
}

/**
 * Whether the session changed since it was loaded or last stored (its data, as express-session
 * decides, or its owner).
 */
export function hasChanged(session: object): boolean {
  return (
    changedOwners.has(session) ||
    sessionFields(session) !== (baselines.get(session) ?? EMPTY_SESSION)
  );
}

/** A save of this session failed: it must not be saved again nor get a cookie. */
export function markSaveFailed(session: object): void {
  failedSaves.add(session);
}

export function saveFailed(session: object): boolean {
  return failedSaves.has(session);
}

/** The session's content as JSON, every field but its cookie (which changes on every request). */
export function sessionFields(session: object): string {
  return JSON.stringify(session, function (this: unknown, key, value: unknown) {
    return this === session && key === 'cookie' ? undefined : value;
  });
}
