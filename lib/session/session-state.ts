import { performance } from 'node:perf_hooks';
import type { SessionOwner } from './stored-session.js';

/**
 * What the store knows about a live `req.session` object beyond its data, kept out of the
 * application's view of `req.session`: one record per object, in a non-enumerable property under
 * a symbol private to this module, which keys, `for...in`, spread, `Object.assign` and JSON all
 * skip, so the application sees (and stores) only its own fields. Nothing here outlives the
 * session object. A property, not a WeakMap: several lookups per request cost a field load each,
 * not a hash lookup, and the garbage collector has no weak entries to trace.
 */
/** The store restarted the session's TTL (a read's GETEX or a write's SET PX) at `at`. */
export interface TtlRestart {
  ttlMs: number;
  /** performance.now() */
  at: number;
  by: 'read' | 'write';
}

/** Everything recorded about one session object. */
interface SessionState {
  owner?: SessionOwner;
  ttlRestart?: TtlRestart;
  /** The session id the state was recorded for. */
  heldSid?: string;
  /** The session as last loaded or stored (JSON without its cookie), to tell whether it changed. */
  baseline?: string;
  /** Its value as last loaded or written (the stored JSON), so a logout need not read it. */
  stored?: string;
  saveFailed?: true;
  /** The owner changed (a re-authentication, an adoption) since it was last stored. */
  ownerChanged?: true;
  /** The session's fields, computed by the commit that is saving it right now. */
  fieldsForSave?: string;
}

const STATE = Symbol('tenant-session state');
type WithState = object & { [STATE]?: SessionState };
/** For the rare object that cannot take a property (frozen, sealed, non-extensible). */
const sealedObjectStates = new WeakMap<object, SessionState>();

function stateIfAny(session: object): SessionState | undefined {
  return (
    (session as WithState)[STATE] ??
    (Object.isExtensible(session) ? undefined : sealedObjectStates.get(session))
  );
}

/** A session object with no baseline was made in this request and holds nothing yet. */
const EMPTY_SESSION = '{}';

function stateOf(session: object): SessionState {
  let state = stateIfAny(session);
  if (state) return state;
  state = {};
  if (Object.isExtensible(session)) {
    Object.defineProperty(session, STATE, { value: state, writable: true, configurable: true });
  } else {
    sealedObjectStates.set(session, state);
  }
  return state;
}

export function ownerOf(session: object | null | undefined): SessionOwner | undefined {
  return session ? stateIfAny(session)?.owner : undefined;
}

export function bindOwner(session: object, owner: SessionOwner): void {
  stateOf(session).owner = owner;
}

export function unbindOwner(session: object): void {
  const state = stateIfAny(session);
  if (state) state.owner = undefined;
}

/** The owner record changed in place: the session must be written, though its data did not. */
export function markOwnerChanged(session: object): void {
  stateOf(session).ownerChanged = true;
}

export function markTtlRestarted(session: object, ttlMs: number, by: TtlRestart['by']): void {
  stateOf(session).ttlRestart = { ttlMs, at: performance.now(), by };
}

/**
 * Carries what a load recorded over to the object express-session builds from the loaded data
 * (the same fields, copied in order, and a new cookie the baseline leaves out anyway): its TTL
 * restart, its baseline, which so need not be computed twice, and an owner the load changed (a
 * legacy session adopted), which the request's save seals in.
 */
export function carryLoadedState(from: object, to: object): void {
  const loaded = stateIfAny(from);
  const state = stateOf(to);
  state.ttlRestart = loaded?.ttlRestart;
  state.baseline = loaded?.baseline ?? sessionFields(to);
  state.stored = loaded?.stored;
  state.ownerChanged = loaded?.ownerChanged;
}

export function ttlRestartOf(session: object): TtlRestart | undefined {
  return stateIfAny(session)?.ttlRestart;
}

/** Records that the object's state belongs to session `sid` (it was loaded or stored as it). */
export function holdFor(session: object, sid: string): void {
  stateOf(session).heldSid = sid;
}

export function isHeldFor(session: object, sid: string): boolean {
  return stateIfAny(session)?.heldSid === sid;
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
  if (STATE in session) (session as WithState)[STATE] = undefined;
  else sealedObjectStates.delete(session);
}

/** Whether the session object was loaded from the store or has been stored since. */
export function isPersisted(session: object): boolean {
  return stateIfAny(session)?.baseline !== undefined;
}

/**
 * Records the session's content as stored (`fields`: its `sessionFields` when written), so an
 * unchanged session is not written again, and the value stored (`stored`), when known.
 */
export function markStored(
  session: object,
  fields = sessionFields(session),
  stored?: string,
): void {
  const state = stateOf(session);
  state.baseline = fields;
  state.stored = stored;
  state.ownerChanged = undefined;
}

/** The session's value as last loaded or written, when known (see `markStored`). */
export function storedValueOf(session: object | null | undefined): string | undefined {
  return session ? stateIfAny(session)?.stored : undefined;
}

/**
 * Whether the session changed since it was loaded or last stored (its data, as express-session
 * decides, or its owner); `fields`, its `sessionFields` when the caller has them already.
 */
export function hasChanged(session: object, fields = sessionFields(session)): boolean {
  const state = stateIfAny(session);
  return state?.ownerChanged === true || fields !== (state?.baseline ?? EMPTY_SESSION);
}

/** A save of this session failed: it must not be saved again nor get a cookie. */
export function markSaveFailed(session: object): void {
  stateOf(session).saveFailed = true;
}

export function saveFailed(session: object): boolean {
  return stateIfAny(session)?.saveFailed === true;
}

/**
 * Runs `save` (which must reach the store's save in the same tick) with the session's
 * `fields` as its commit just computed them to see that it changed: the save takes them
 * (`fieldsForSave`) rather than serializing the session a second time.
 */
export function saveWithFields(session: object, fields: string, save: () => void): void {
  const state = stateOf(session);
  state.fieldsForSave = fields;
  try {
    save();
  } finally {
    state.fieldsForSave = undefined;
  }
}

/** The fields a commit is saving the session with (`saveWithFields`), else computed now. */
export function fieldsForSave(session: object): string {
  return stateIfAny(session)?.fieldsForSave ?? sessionFields(session);
}

/** The session's content as JSON, every field but its cookie (which changes on every request). */
export function sessionFields(session: object): string {
  // A shallow copy without the cookie: cheaper than a replacer, which runs for every nested key,
  // and made without it rather than deleting it after, which would slow the copy's stringify.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { cookie, ...fields } = session as { cookie?: unknown };
  return JSON.stringify(fields);
}
