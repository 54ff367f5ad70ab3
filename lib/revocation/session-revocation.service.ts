import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { LoginRequiredException } from '../errors/login-required.exception.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import type { RevocationReason, SessionRevokedEvent } from '../options/session-revoked.event.js';
import { requireRequestContext } from '../session/request-context.js';
import { sessionTtlMs } from '../session/session-codec.js';
import { sessionHandle } from '../session/session-handle.js';
import type { ActiveSession } from './active-session.interface.js';
import { deadlineOfSessionId } from '../session/session-id.js';
import type { SessionOwner } from '../session/session-state.js';
import { TenantSessionRegistry, type TenantSession } from '../session/tenant-session.registry.js';
import { OperationBudget } from '../store/operation-budget.js';
import type { IndexEntry } from '../store/session-backend.interface.js';
import { assertTenantId } from '../tenancy/tenant-id.js';
import { checkUserId } from '../user-index/user-id.js';
import {
  checkPageRequest,
  cursorAfter,
  type SessionListOptions,
  type SessionPage,
} from './session-page.js';

interface LiveSession {
  sid: string;
  owner: SessionOwner;
  expiresAt: number;
  ttlMs: number;
}

type RevocationListener = (event: SessionRevokedEvent) => void | Promise<void>;

/**
 * Lists and revokes users' sessions: one, all, all but the current one, the oldest past a cap,
 * or a whole tenant's. Each user's sessions are found through their index (user-index/), so no
 * KEYS or SCAN is needed except for tenant-wide revocation, which scans that tenant's keys only.
 *
 * Every revocation runs in the same three steps, each safe to interrupt and the whole safe to
 * retry: read the entries (revoking a user also records "not before now", so logins in flight
 * are refused), delete their sessions, then drop the entries.
 */
@Injectable()
export class SessionRevocationService {
  private readonly logger = new Logger('TenantSession');
  private readonly listeners = new Set<RevocationListener>();

  constructor(
    private readonly registry: TenantSessionRegistry,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
  ) {
    if (options.onRevoked) this.listeners.add(options.onRevoked);
    const cap = options.maxSessionsPerUser;
    if (cap !== false) {
      // A login reads the user's entry count as it is admitted: only past the cap is more read.
      registry.afterLogin(async (tenant, userId, userSessions, req) => {
        if (userSessions > cap) await this.enforceCap(tenant, userId, cap, req);
      });
    }
  }

  /**
   * One page of a user's live sessions (see `SessionPage` for the order and what a walk through
   * the pages sees), with their total: two round trips however many sessions the user has. `current` marks the caller's own
   * session. An unusable `limit` or `cursor` is an InvalidSessionPageException (400).
   */
  async list(
    tenantId: string,
    userId: string,
    options: SessionListOptions = {},
  ): Promise<SessionPage> {
    checkUserId(userId);
    const { limit, after } = checkPageRequest(options);
    const tenantSession = await this.registry.get(tenantId);
    const budget = this.budget();
    const page = await tenantSession.index.page(userId, after, limit, budget);
    const live = await this.liveSessions(tenantSession, userId, page.entries, budget);
    const sessions = live.map(({ sid, owner, expiresAt, ttlMs }): ActiveSession => {
      const deadline = deadlineOfSessionId(sid);
      return {
        id: sessionHandle(sid),
        current: options.current?.sessionID === sid,
        createdAt: new Date(owner.createdAt),
        authenticatedAt: new Date(owner.authenticatedAt ?? owner.createdAt),
        lastSeenAt: new Date(Math.max(owner.createdAt, expiresAt - ttlMs)),
        expiresAt: new Date(expiresAt),
        ...(deadline === undefined ? {} : { absoluteExpiresAt: new Date(deadline) }),
        ip: owner.ip,
        userAgent: owner.userAgent,
      };
    });
    const total = page.total - (page.entries.length - live.length);
    return page.next
      ? { sessions, total, nextCursor: cursorAfter(page.next) }
      : { sessions, total };
  }

  /** A page of the caller's own sessions (see `list`). */
  listMine(req: Request, options: Omit<SessionListOptions, 'current'> = {}): Promise<SessionPage> {
    const { tenantSession } = requireRequestContext(req);
    return this.list(tenantSession.tenant, this.requireUserId(req), { ...options, current: req });
  }

  /** Revokes one session of the user by its handle; returns 1, or 0 when there was none. */
  async revoke(tenantId: string, userId: string, handle: string): Promise<number> {
    checkUserId(userId);
    const tenantSession = await this.registry.get(tenantId);
    const budget = this.budget();
    const entries = await tenantSession.index.entries(userId, budget);
    const match = entries.filter((e) => sessionHandle(e.sid) === handle).map((e) => e.sid);
    const revoked = await this.removeSessions(tenantSession, userId, match, budget);
    return this.emit(tenantSession.tenant, 'session', revoked, userId, match);
  }

  /**
   * Revokes every session of the user in this tenant ("sign out everywhere"), including logins
   * in flight that began before this call: they are refused when they try to store.
   */
  async revokeAll(tenantId: string, userId: string): Promise<number> {
    checkUserId(userId);
    return this.revokeUser(await this.registry.get(tenantId), userId, 'user');
  }

  /** Revokes every session of this request's user except this one ("sign out other devices"). */
  async revokeOthers(req: Request): Promise<number> {
    const { tenantSession } = requireRequestContext(req);
    return this.revokeUser(tenantSession, this.requireUserId(req), 'others', req.sessionID);
  }

  /**
   * Revokes the user's oldest logins past `cap` (see `maxSessionsPerUser`). Reads every session
   * of the user: a login calls it only when its admission counted more entries than the cap.
   */
  async enforceCap(tenantId: string, userId: string, cap: number, req?: Request): Promise<number> {
    checkUserId(userId);
    const tenantSession = await this.registry.get(tenantId);
    const budget = tenantSession.store.budget(req);
    const entries = await tenantSession.index.entries(userId, budget);
    const live = await this.liveSessions(tenantSession, userId, entries, budget);
    if (live.length <= cap) return 0;
    const oldest = live.slice(0, live.length - cap).map((s) => s.sid);
    const revoked = await this.removeSessions(tenantSession, userId, oldest, budget);
    return this.emit(tenantSession.tenant, 'cap', revoked, userId, oldest);
  }

  /** Revokes every session of a tenant, scanning only that tenant's keys (off-boarding). */
  async revokeTenant(tenantId: string): Promise<number> {
    const tenant = assertTenantId(tenantId);
    const { store, backend } = await this.registry.get(tenant);
    const removed = await backend.removeMatching(store.keys.scanPatterns(), this.budget(), true);
    this.registry.forget(tenant);
    return this.emit(tenant, 'tenant', removed);
  }

  /**
   * Subscribes to revocations (audit logs); returns the unsubscribe function. Listeners hear
   * revocations made by the app's other instances too (through Redis pub/sub), with
   * `remote: true`.
   */
  onRevoked(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Hands a revocation another instance made to the listeners (lib/realtime calls it). */
  async deliverRemote(event: SessionRevokedEvent & { remote: true }): Promise<void> {
    await this.notify(event);
  }

  private requireUserId(req: Request): string {
    const userId = requireRequestContext(req).tenantSession.store.identityOf(req.session);
    if (userId === undefined) throw new LoginRequiredException();
    return userId;
  }

  private async revokeUser(
    tenantSession: TenantSession,
    userId: string,
    reason: RevocationReason,
    keep?: string,
  ): Promise<number> {
    const budget = this.budget();
    const entries = await tenantSession.index.beginRevocation(userId, budget);
    const sids = entries.map((e) => e.sid).filter((sid) => sid !== keep);
    const revoked = await this.removeSessions(tenantSession, userId, sids, budget);
    return this.emit(tenantSession.tenant, reason, revoked, userId, sids);
  }

  /** Deletes sessions, then their entries (never the other way round); returns how many lived. */
  private async removeSessions(
    { store, index, backend }: TenantSession,
    userId: string,
    sids: string[],
    budget: OperationBudget,
  ): Promise<number> {
    if (sids.length === 0) return 0;
    const revoked = await backend.remove(
      sids.map((sid) => store.keys.session(sid)),
      budget,
      true,
    );
    await index.remove(userId, sids, budget, true);
    return revoked;
  }

  /**
   * The sessions of these entries that are stored and still the user's, oldest login first,
   * each read and decoded once, in one round trip. An entry whose session is not there is left
   * alone: it may be a login between its admission and its write (removing it would let that
   * login live unindexed), and an ended session's entry goes when its lease does.
   */
  private async liveSessions(
    { store, backend }: TenantSession,
    userId: string,
    entries: IndexEntry[],
    budget: OperationBudget,
  ): Promise<LiveSession[]> {
    const sids = entries.map((e) => e.sid);
    const owned = await store.ownedBy(userId, sids, budget);
    const now = backend.now();
    const live: LiveSession[] = [];
    owned.forEach((session, i) => {
      if (!session) return;
      const ttlMs = sessionTtlMs(session.data, store.idleTtlMs);
      live.push({ sid: sids[i], owner: session.owner, expiresAt: now + session.ttlMs, ttlMs });
    });
    return live.sort((a, b) => a.owner.createdAt - b.owner.createdAt);
  }

  private budget(): OperationBudget {
    return new OperationBudget(this.options.operationTimeoutMs);
  }

  /**
   * Tells the listeners. `sids` are every session the revocation went for, not only those it
   * found alive: a revocation retried after a failure halfway then still names them all.
   */
  private async emit(
    tenant: string,
    reason: RevocationReason,
    revoked: number,
    userId?: string,
    sids: string[] = [],
  ): Promise<number> {
    const sessions = sids.map(sessionHandle);
    await this.notify({ tenant, userId, reason, revoked, sessions, at: new Date() });
    return revoked;
  }

  private async notify(event: SessionRevokedEvent): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(event);
      } catch (error) {
        this.logger.error(`onRevoked listener failed: ${(error as Error).message ?? error}`);
      }
    }
  }
}
