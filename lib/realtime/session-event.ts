import { randomBytes } from 'node:crypto';
import type { RevocationReason } from '../options/session-revoked.event.js';
import { normalizeTenantId } from '../tenancy/tenant-id.js';
import { normalizeUserId } from '../user-index/user-id.js';

/**
 * Sessions that ended, as one instance tells the others: revoked (any reason) or logged out
 * (`SessionLoginService.logout`, passport's `req.logout`, any identity removed from a session or
 * session destroyed through the store). Sessions are named by handle (session-handle.ts), never
 * by id: events travel through Redis pub/sub, which any client of that Redis can read.
 */
export type SessionEvent =
  | {
      type: 'revoked';
      tenant: string;
      /** Absent for a tenant-wide revocation: every session of the tenant ended. */
      userId?: string;
      /** Handles of the revoked sessions (empty for a tenant-wide revocation). */
      sessions: string[];
      reason: RevocationReason;
      revoked: number;
      at: Date;
    }
  | { type: 'logout'; tenant: string; userId: string; sessions: string[]; at: Date };

/** The pub/sub channel of an app's session events (`appName` keeps apps sharing a Redis apart). */
export function eventsChannel(appName: string): string {
  return `tenant-session:${appName}:events`;
}

/** An event as published: JSON with a format version, an id (duplicates are dropped) and its sender. */
interface WireEvent {
  v: 1;
  id: string;
  from: string;
  type: SessionEvent['type'];
  tenant: string;
  userId?: string;
  sessions: string[];
  reason?: RevocationReason;
  revoked?: number;
  at: number;
}

const REASONS = new Set<string>(['session', 'user', 'others', 'tenant', 'cap']);
const HANDLE = /^[\w-]{22}$/;

export function encodeEvent(event: SessionEvent, from: string): string {
  const wire: WireEvent = {
    v: 1,
    id: randomBytes(12).toString('base64url'),
    from,
    ...event,
    at: event.at.getTime(),
  };
  return JSON.stringify(wire);
}

/** The event in a message, with its id and sender; undefined for anything malformed. */
export function decodeEvent(
  message: string,
): { id: string; from: string; event: SessionEvent } | undefined {
  let wire: Partial<WireEvent>;
  try {
    wire = JSON.parse(message) as Partial<WireEvent>;
  } catch {
    return undefined;
  }
  if (wire?.v !== 1 || typeof wire.id !== 'string' || typeof wire.from !== 'string') {
    return undefined;
  }
  const tenant = normalizeTenantId(wire.tenant);
  const userId = wire.userId === undefined ? undefined : normalizeUserId(wire.userId);
  const sessions = wire.sessions;
  const valid =
    tenant !== undefined &&
    tenant === wire.tenant &&
    (wire.userId === undefined || userId === wire.userId) &&
    Array.isArray(sessions) &&
    sessions.every((handle) => typeof handle === 'string' && HANDLE.test(handle)) &&
    typeof wire.at === 'number' &&
    Number.isFinite(wire.at);
  if (!valid) return undefined;
  const at = new Date(wire.at as number);
  if (wire.type === 'logout' && userId !== undefined) {
    return {
      id: wire.id,
      from: wire.from,
      event: { type: 'logout', tenant, userId, sessions, at },
    };
  }
  const revoked = wire.revoked;
  if (
    wire.type === 'revoked' &&
    REASONS.has(wire.reason as string) &&
    Number.isInteger(revoked) &&
    (revoked as number) >= 0
  ) {
    const reason = wire.reason as RevocationReason;
    const event: SessionEvent = {
      type: 'revoked',
      tenant,
      userId,
      sessions,
      reason,
      revoked: revoked as number,
      at,
    };
    return { id: wire.id, from: wire.from, event };
  }
  return undefined;
}
