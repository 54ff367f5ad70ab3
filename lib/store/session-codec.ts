import type { SessionData } from 'express-session';
import type { SessionOwner } from './session-state.js';

/** Field of the stored JSON holding the owner; other services see it as ordinary session data. */
export const OWNER_FIELD = '_owner';

type StoredSessionData = SessionData & Record<string, unknown>;

/** JSON exactly as connect-redis writes it, plus the owner field for logged-in sessions. */
export function encodeSession(data: object, owner: SessionOwner | undefined): string {
  return JSON.stringify(owner ? { ...data, [OWNER_FIELD]: owner } : data);
}

/** Parses stored JSON; `undefined` means corrupt (not an object with a cookie, or a bad owner). */
export function decodeSession(
  raw: string,
): { data: StoredSessionData; owner?: SessionOwner } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || !isObject(parsed.cookie)) return undefined;
  const { [OWNER_FIELD]: owner, ...data } = parsed;
  if (owner === undefined) return { data: data as StoredSessionData };
  return isOwner(owner) ? { data: data as StoredSessionData, owner } : undefined;
}

/** The session's own idle TTL: its cookie max-age when it has one, else the default. */
export function sessionTtlMs(
  data: { cookie?: { originalMaxAge?: number | null } },
  fallbackMs: number,
): number {
  const maxAge = data.cookie?.originalMaxAge;
  return typeof maxAge === 'number' && Number.isFinite(maxAge) ? maxAge : fallbackMs;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOwner(value: unknown): value is SessionOwner {
  return (
    isObject(value) &&
    typeof value.userId === 'string' &&
    value.userId.length > 0 &&
    typeof value.createdAt === 'number' &&
    typeof value.indexedUntil === 'number'
  );
}
