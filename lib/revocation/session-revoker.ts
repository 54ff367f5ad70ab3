import type { RevocationReason } from '../options/session-revoked.event.js';
import { sessionTtlMs } from '../session/session-codec.js';
import { sessionHandle } from '../session/session-handle.js';
import { deadlineOfSessionId } from '../session/session-id.js';
import type { TenantSessions } from '../session/tenant-sessions.js';
import type { SessionOwner } from '../session/stored-session.js';
import type { OperationBudget } from '../store/operation-budget.js';
import type { IndexEntry } from '../store/user-index-store.interface.js';
import { SessionTelemetry } from '../telemetry/session-telemetry.js';
import { ATTRIBUTES, SPANS } from '../telemetry/telemetry-names.js';
import type { RevocationEvents } from './revocation-events.js';

/** A session of a user that is stored and still theirs (see `live`). */
export interface LiveSession {
  sid: string;
  owner: SessionOwner;
  expiresAt: number;
  ttlMs: number;
}

/**
 * How every revocation runs, in the same steps, each safe to interrupt and the whole safe to
 * retry: read the entries (revoking a user also records "not before now", so logins in flight
 * are refused), delete their sessions, then drop the entries (never the other way round), then
 * tell the listeners. Shared by SessionRevocationService and the session cap. Each revocation
 * runs in its span and is counted by reason (SessionTelemetry).
 */
export class SessionRevoker {
  constructor(
    private readonly events: RevocationEvents,
    private readonly telemetry = SessionTelemetry.off,
  ) {}

  /** Revokes every session of the user but `keep`, after recording the not-before. */
  async revokeUser(
    tenant: TenantSessions,
    userId: string,
    reason: RevocationReason,
    budget: OperationBudget,
    keep?: string,
  ): Promise<number> {
    return this.traced(tenant, reason, async () => {
      const entries = await tenant.index.beginRevocation(userId, budget);
      const sids = entries.map((e) => e.sid).filter((sid) => sid !== keep);
      return this.remove(tenant, userId, sids, reason, budget);
    });
  }

  /** Revokes these sessions of the user (no not-before); returns how many lived. */
  revokeSessions(
    tenant: TenantSessions,
    userId: string,
    sids: string[],
    reason: RevocationReason,
    budget: OperationBudget,
  ): Promise<number> {
    return this.traced(tenant, reason, () => this.remove(tenant, userId, sids, reason, budget));
  }

  /** Runs one revocation in its span (a child of the request's, if any). */
  traced<T>(tenant: TenantSessions, reason: RevocationReason, work: () => Promise<T>): Promise<T> {
    return this.telemetry.span(SPANS.revocation, tenant, work, {
      [ATTRIBUTES.revocationReason]: reason,
    });
  }

  private async remove(
    tenant: TenantSessions,
    userId: string,
    sids: string[],
    reason: RevocationReason,
    budget: OperationBudget,
  ): Promise<number> {
    let revoked = 0;
    if (sids.length > 0) {
      const keys = sids.map((sid) => tenant.keys.session(sid));
      revoked = await tenant.backend.keys.remove(keys, budget, true);
      await tenant.index.remove(userId, sids, budget, true);
    }
    await this.emit(tenant, reason, revoked, userId, sids);
    return revoked;
  }

  /**
   * The sessions of these entries that are stored and still the user's, oldest login first,
   * each read and decoded once, in one round trip. An entry whose session is not there is left
   * alone: it may be a login between its admission and its write (removing it would let that
   * login live unindexed), and an ended session's entry goes when its lease does.
   */
  async live(
    tenant: TenantSessions,
    userId: string,
    entries: IndexEntry[],
    budget: OperationBudget,
  ): Promise<LiveSession[]> {
    const sids = entries.map((e) => e.sid);
    const owned = await tenant.reader.ownedBy(userId, sids, budget);
    const now = tenant.backend.lifecycle.now();
    const live: LiveSession[] = [];
    owned.forEach((session, i) => {
      if (!session) return;
      const ttlMs = sessionTtlMs(session.data, tenant.lifetime.idleTtlMs);
      // `now` may lead Redis's clock by a round trip; a session never ends past its deadline.
      const expiresAt = Math.min(now + session.ttlMs, deadlineOfSessionId(sids[i]) ?? Infinity);
      live.push({ sid: sids[i], owner: session.owner, expiresAt, ttlMs });
    });
    return live.sort((a, b) => a.owner.createdAt - b.owner.createdAt);
  }

  /**
   * Tells the listeners. `sids` are every session the revocation went for, not only those it
   * found alive: a revocation retried after a failure halfway then still names them all.
   */
  async emit(
    tenant: TenantSessions,
    reason: RevocationReason,
    revoked: number,
    userId?: string,
    sids: string[] = [],
  ): Promise<void> {
    const sessions = sids.map(sessionHandle);
    this.telemetry.revoked(tenant, reason, revoked);
    await this.events.notify({
      tenant: tenant.tenant,
      userId,
      reason,
      revoked,
      sessions,
      at: new Date(),
    });
  }
}
