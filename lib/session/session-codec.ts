import type { SessionData } from 'express-session';
import type { SessionOwner } from './session-state.js';

/** Field of the stored JSON holding the sealed owner; other services see ordinary session data. */
export const OWNER_FIELD = '_owner';

export type StoredSessionData = SessionData & Record<string, unknown>;

/** An owner as stored: the record plus its seal (see owner-seal.ts). */
export type SealedOwner = SessionOwner & { seal: string };

/**
 * JSON exactly as connect-redis writes it, plus the sealed owner for sessions with an identity.
 * Whatever the application put in an `_owner` field is dropped: the binding is the library's.
 * `fields`, the JSON of every field but the cookie (session-state.ts `sessionFields`), saves
 * serializing the session a second time: the cookie then comes first.
 */
export function encodeSession(
  data: object,
  owner: SealedOwner | undefined,
  fields?: string,
): string {
  if (fields !== undefined && !(OWNER_FIELD in data)) {
    const { cookie } = data as { cookie?: unknown };
    const parts = cookie === undefined ? [] : [`"cookie":${JSON.stringify(cookie)}`];
    if (fields !== '{}') parts.push(fields.slice(1, -1));
    if (owner) parts.push(`"${OWNER_FIELD}":${JSON.stringify(owner)}`);
    return `{${parts.join(',')}}`;
  }
  if (owner) return JSON.stringify({ ...data, [OWNER_FIELD]: owner });
  if (!(OWNER_FIELD in data)) return JSON.stringify(data);
  return JSON.stringify({ ...data, [OWNER_FIELD]: undefined });
}

/**
 * Parses stored JSON; `undefined` means corrupt (not an object with a cookie). An `_owner` that
 * is not shaped like one is returned as `unsealed`, to be ignored like a forged one.
 */
export function decodeSession(
  raw: string,
): { data: StoredSessionData; owner?: SealedOwner; unsealed?: true } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || !isObject(parsed.cookie)) return undefined;
  const owner = parsed[OWNER_FIELD];
  const data = parsed as StoredSessionData;
  if (owner === undefined) return { data };
  // Not a copy without it: the owner is written last, and deleting the last property is cheap.
  delete parsed[OWNER_FIELD];
  return isSealedOwner(owner) ? { data, owner } : { data, unsealed: true };
}

/**
 * The session's own idle TTL: its cookie max-age when it has one, else the default. A cookie
 * with no max-age but an expiry date (data built by hand, as connect-redis's tests do; sessions
 * express-session makes always carry their max-age) lives until that date, as connect-redis
 * stores it: zero or less means the session is already over.
 */
export function sessionTtlMs(
  data: { cookie?: { originalMaxAge?: number | null; expires?: Date | string | null } },
  fallbackMs: number,
): number {
  const maxAge = data.cookie?.originalMaxAge;
  if (typeof maxAge === 'number' && Number.isFinite(maxAge)) return maxAge;
  const expires = data.cookie?.expires;
  const until = expires ? new Date(expires).getTime() : NaN;
  return Number.isFinite(until) ? until - Date.now() : fallbackMs;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSealedOwner(value: unknown): value is SealedOwner {
  return (
    isObject(value) &&
    typeof value.userId === 'string' &&
    value.userId.length > 0 &&
    (value.via === 'login' || value.via === 'identity') &&
    typeof value.createdAt === 'number' &&
    typeof value.indexedUntil === 'number' &&
    (value.authenticatedAt === undefined || typeof value.authenticatedAt === 'number') &&
    typeof value.seal === 'string'
  );
}
