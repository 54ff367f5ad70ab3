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
  ip?: string;
  userAgent?: string;
  /** The user index lists this session until this time (ms, Redis clock); 0 until indexed. */
  indexedUntil: number;
}

const owners = new WeakMap<object, SessionOwner>();
/** The session as last loaded or stored (JSON without its cookie), to tell whether it changed. */
const baselines = new WeakMap<object, string>();
const failedSaves = new WeakSet<object>();

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

/** Whether the session object was loaded from the store or has been stored since. */
export function isPersisted(session: object): boolean {
  return baselines.has(session);
}

/** Records the session's content as stored, so an unchanged session is not written again. */
export function markStored(session: object): void {
  baselines.set(session, fingerprint(session));
}

/** Whether the session changed since it was loaded or last stored (as express-session decides). */
export function hasChanged(session: object): boolean {
  return fingerprint(session) !== (baselines.get(session) ?? EMPTY_SESSION);
}

/** A save of this session failed: it must not be saved again nor get a cookie. */
export function markSaveFailed(session: object): void {
  failedSaves.add(session);
}

export function saveFailed(session: object): boolean {
  return failedSaves.has(session);
}

function fingerprint(session: object): string {
  return JSON.stringify(session, function (this: unknown, key, value: unknown) {
    return this === session && key === 'cookie' ? undefined : value;
  });
}
