/**
 * What the store knows about a live `req.session` object beyond its data:
 * - its owner (set by login, read back from Redis), kept out of `req.session` itself so the
 *   application only ever sees its own fields;
 * - whether it has been persisted, so later saves only update and never re-create it.
 * WeakMaps: nothing here outlives the session object.
 */
export interface SessionOwner {
  userId: string;
  /** Login time, ms epoch. */
  createdAt: number;
  ip?: string;
  userAgent?: string;
  /** The user index is guaranteed to list this session until this time (ms epoch). */
  indexedUntil: number;
}

const owners = new WeakMap<object, SessionOwner>();
const persisted = new WeakSet<object>();

export function ownerOf(session: object | null | undefined): SessionOwner | undefined {
  return session ? owners.get(session) : undefined;
}

export function bindOwner(session: object, owner: SessionOwner): void {
  owners.set(session, owner);
}

export function isPersisted(session: object): boolean {
  return persisted.has(session);
}

export function markPersisted(session: object): void {
  persisted.add(session);
}
