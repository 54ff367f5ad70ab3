import { Inject, Injectable } from '@nestjs/common';
import { LoginRequiredException } from '../errors/login-required.exception.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import { requireTenantSessions } from '../session/request-context.js';
import { loginFieldsFault } from '../session/login-fields.js';
import { deviceOf } from '../session/session-device.js';
import { sessionHandle } from '../session/session-handle.js';
import { deadlineOfSessionId } from '../session/session-id.js';
import type { SessionRequest } from '../session/session-request.js';
import { TenantSessionRegistry } from '../session/tenant-session.registry.js';
import { OperationBudget, RoundTripBudget } from '../store/operation-budget.js';
import { assertTenantId } from '../tenancy/tenant-id.js';
import { checkUserId } from '../user-index/user-id.js';
import { unmappedIp } from '../util/ip-address.js';
import type { ActiveSession } from './active-session.interface.js';
import { RevocationEvents, type RevocationListener } from './revocation-events.js';
import { SessionRevoker, type LiveSession } from './session-revoker.js';
import {
  checkPageRequest,
  cursorAfter,
  type SessionListOptions,
  type SessionPage,
} from './session-page.js';

/**
 * Lists and revokes users' sessions: one, all, all but the current one, or a whole tenant's.
 * Each user's sessions are found through their index (user-index/), so no KEYS or SCAN is needed
 * except for tenant-wide revocation, which scans that tenant's keys only. Every revocation runs
 * in the same steps, each safe to interrupt and the whole safe to retry (see SessionRevoker).
 */
@Injectable()
export class SessionRevocationService {
  /** @internal Nest's dependency injection makes it; apps inject it. */
  constructor(
    private readonly registry: TenantSessionRegistry,
    private readonly revoker: SessionRevoker,
    private readonly events: RevocationEvents,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  /**
   * One page of a user's live sessions (see `SessionPage` for the order and what a walk through
   * the pages sees), with their total: two round trips however many sessions the user has.
   * `current` marks the caller's own session. An unusable `limit` or `cursor` is an
   * InvalidSessionPageException (400).
   */
  async list(
    tenantId: string,
    userId: string,
    options: SessionListOptions = {},
  ): Promise<SessionPage> {
    checkUserId(userId);
    const { limit, after } = checkPageRequest(options);
    const tenant = await this.registry.get(tenantId);
    const budget = this.budget(tenant.tenant);
    const page = await tenant.index.page(userId, after, limit, budget);
    const live = await this.revoker.live(tenant, userId, page.entries, budget);
    const sessions = live.map((session) => activeSession(session, options.current));
    const total = page.total - (page.entries.length - live.length);
    return page.next
      ? { sessions, total, nextCursor: cursorAfter(page.next) }
      : { sessions, total };
  }

  /** A page of the caller's own sessions (see `list`). */
  listMine(
    req: SessionRequest,
    options: Omit<SessionListOptions, 'current'> = {},
  ): Promise<SessionPage> {
    const tenant = requireTenantSessions(req).tenant;
    return this.list(tenant, this.requireUserId(req), { ...options, current: req });
  }

  /** Revokes one session of the user by its handle; returns 1, or 0 when there was none. */
  async revoke(tenantId: string, userId: string, handle: string): Promise<number> {
    checkUserId(userId);
    const tenant = await this.registry.get(tenantId);
    const budget = this.budget(tenant.tenant);
    const entries = await tenant.index.entries(userId, budget);
    const match = entries.filter((e) => sessionHandle(e.sid) === handle).map((e) => e.sid);
    return this.revoker.revokeSessions(tenant, userId, match, 'session', budget);
  }

  /**
   * Revokes every session of the user in this tenant ("sign out everywhere"), including logins
   * in flight that began before this call: they are refused when they try to store.
   */
  async revokeAll(tenantId: string, userId: string): Promise<number> {
    checkUserId(userId);
    const tenant = await this.registry.get(tenantId);
    return this.revoker.revokeUser(tenant, userId, 'user', this.budget(tenant.tenant));
  }

  /** Revokes every session of this request's user except this one ("sign out other devices"). */
  async revokeOthers(req: SessionRequest): Promise<number> {
    const tenant = requireTenantSessions(req);
    const userId = this.requireUserId(req);
    const budget = this.budget(tenant.tenant);
    return this.revoker.revokeUser(tenant, userId, 'others', budget, req.sessionID);
  }

  /**
   * Revokes every session of a tenant, scanning only that tenant's keys (off-boarding). The scan
   * walks the whole keyspace, so each round trip has the operation timeout, not the whole walk.
   */
  async revokeTenant(tenantId: string): Promise<number> {
    const tenant = await this.registry.get(assertTenantId(tenantId));
    return this.revoker.traced(tenant, 'tenant', async () => {
      const patterns = tenant.keys.scanPatterns();
      const budget = new RoundTripBudget(this.options.operationTimeoutMs, tenant.tenant);
      const removed = await tenant.backend.keys.removeMatching(patterns, budget, true);
      this.registry.forget(tenant.tenant);
      await this.revoker.emit(tenant, 'tenant', removed);
      return removed;
    });
  }

  /**
   * Subscribes to revocations (audit logs); returns the unsubscribe function. Listeners hear
   * revocations made by the app's other instances too (through Redis pub/sub), with
   * `remote: true`.
   */
  onRevoked(listener: RevocationListener): () => void {
    return this.events.listen(listener);
  }

  private requireUserId(req: SessionRequest): string {
    const userId = requireTenantSessions(req).owners.identityOf(req.session);
    if (userId === undefined) throw new LoginRequiredException();
    return userId;
  }

  private budget(tenant: string): OperationBudget {
    return new OperationBudget(this.options.operationTimeoutMs, tenant);
  }
}

/** A live session as a listing shows it. */
function activeSession(
  { sid, owner, expiresAt, ttlMs }: LiveSession,
  current: SessionRequest | undefined,
): ActiveSession {
  const deadline = deadlineOfSessionId(sid);
  return {
    id: sessionHandle(sid),
    current: current?.sessionID === sid,
    createdAt: new Date(owner.createdAt),
    authenticatedAt: new Date(owner.authenticatedAt ?? owner.createdAt),
    lastSeenAt: new Date(Math.max(owner.createdAt, expiresAt - ttlMs)),
    expiresAt: new Date(expiresAt),
    ...(deadline === undefined ? {} : { absoluteExpiresAt: new Date(deadline) }),
    ip: unmappedIp(owner.ip),
    userAgent: owner.userAgent,
    device: deviceOf(owner),
    ...(loginFieldsFault(owner.fields) === undefined ? { fields: owner.fields } : {}),
  };
}
