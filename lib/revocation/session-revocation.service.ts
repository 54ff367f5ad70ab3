import { Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Session, SessionData } from 'express-session';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../resolved-options.js';
import { SessionBackend } from '../store/session-backend.interface.js';
import { decodeSession, sessionTtlMs } from '../store/session-codec.js';
import { requestSessionMaxAge } from '../store/session-id.js';
import { bindOwner, ownerOf, type SessionOwner } from '../store/session-state.js';
import type { TenantSessionStore } from '../store/tenant-session.store.js';
import { TenantSessionRegistry } from '../store/tenant-session.registry.js';
import { requireRequestTenant } from '../tenancy/request-tenant.js';
import { assertTenantId } from '../tenancy/tenant-id.js';
import type { ActiveSession } from './active-session.interface.js';
import { nextIndexedUntil } from './index-lease.js';
import { sessionHandle } from './session-handle.js';
import type { RevocationReason, SessionRevokedEvent } from './session-revoked.event.js';

export interface LoginOptions {
  /** Fields to put in the new session before its first save. */
  data?: Partial<SessionData>;
  /** This session's own idle timeout in ms ("remember me"); default: the tenant's idle TTL. */
  maxAge?: number;
}

interface LiveSession {
  sid: string;
  owner: SessionOwner;
  expiresAt: number;
  ttlMs: number;
}

type RevocationListener = (event: SessionRevokedEvent) => void | Promise<void>;

const MAX_USER_ID_LENGTH = 256;
const MAX_USER_AGENT_LENGTH = 512;

/**
 * Logs users in and out and revokes their sessions: one, all, all but the current one, or a
 * whole tenant's. Each user's sessions are found through a per-user index that never holds
 * entries of dead sessions for long (see index-lease.ts), so no KEYS or SCAN is needed except
 * for tenant-wide revocation, which scans that tenant's keys only.
 */
@Injectable()
export class SessionRevocationService {
  private readonly logger = new Logger('TenantSession');
  private readonly listeners = new Set<RevocationListener>();

  constructor(
    private readonly registry: TenantSessionRegistry,
    @Inject(SessionBackend) private readonly backend: SessionBackend,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
  ) {
    if (options.onRevoked) this.listeners.add(options.onRevoked);
  }

  /**
   * Logs `userId` in on this request: a new session id (no fixation), bound to the user and
   * indexed with login time, IP and user agent, saved before this resolves.
   */
  async login(req: Request, userId: string, options: LoginOptions = {}): Promise<void> {
    checkUserId(userId);
    const { store, tenant } = await this.registry.get(requireRequestTenant(req));
    if (options.maxAge !== undefined) requestSessionMaxAge(req, options.maxAge);
    await callback((done) => requireSession(req).regenerate(done));
    const session = requireSession(req);
    if (options.maxAge !== undefined) session.cookie.maxAge = options.maxAge;
    Object.assign(session, options.data);
    const now = Date.now();
    bindOwner(session, {
      userId,
      createdAt: now,
      ip: req.ip,
      userAgent: req.get('user-agent')?.slice(0, MAX_USER_AGENT_LENGTH),
      indexedUntil: nextIndexedUntil(now, sessionTtlMs(session, store.idleTtlMs)),
    });
    await callback((done) => session.save(done));
    if (this.options.maxSessionsPerUser !== undefined) {
      await this.enforceCap(tenant, userId, this.options.maxSessionsPerUser);
    }
  }

  /** Destroys this request's session and clears its cookie. */
  async logout(req: Request, res: Response): Promise<void> {
    const { cookieName, cookieDomain } = await this.registry.get(requireRequestTenant(req));
    if (req.session) await callback((done) => req.session.destroy(done));
    res.clearCookie(cookieName, { path: this.options.cookie.path, domain: cookieDomain });
  }

  /** The user this request's session belongs to, if it is logged in. */
  userId(req: Request): string | undefined {
    return ownerOf(req.session)?.userId;
  }

  /** A user's live sessions, oldest first; `current` marks the caller's own session. */
  async list(tenantId: string, userId: string, current?: Request): Promise<ActiveSession[]> {
    checkUserId(userId);
    const { store } = await this.registry.get(tenantId);
    return (await this.liveSessions(store, userId)).map(({ sid, owner, expiresAt, ttlMs }) => ({
      id: sessionHandle(sid),
      current: current?.sessionID === sid,
      createdAt: new Date(owner.createdAt),
      lastSeenAt: new Date(Math.max(owner.createdAt, expiresAt - ttlMs)),
      expiresAt: new Date(expiresAt),
      ip: owner.ip,
      userAgent: owner.userAgent,
    }));
  }

  /** The caller's own sessions (see `list`). */
  listMine(req: Request): Promise<ActiveSession[]> {
    return this.list(requireRequestTenant(req), this.requireUserId(req), req);
  }

  /** Revokes one session of the user by its handle; returns 1, or 0 when there was none. */
  async revoke(tenantId: string, userId: string, handle: string): Promise<number> {
    checkUserId(userId);
    const { store, tenant } = await this.registry.get(tenantId);
    const indexKey = store.keys.index(userId);
    const entries = await this.backend.indexed(indexKey, Date.now());
    const match = entries.find((e) => sessionHandle(e.sid) === handle);
    if (!match) return 0;
    const revoked = await this.removeSessions(store, userId, [match.sid]);
    return this.emit(tenant, 'session', revoked, userId);
  }

  /** Revokes every session of the user in this tenant ("sign out everywhere"). */
  async revokeAll(tenantId: string, userId: string): Promise<number> {
    return this.drain(tenantId, userId, 'user');
  }

  /** Revokes every session of this request's user except this one ("sign out other devices"). */
  async revokeOthers(req: Request): Promise<number> {
    return this.drain(requireRequestTenant(req), this.requireUserId(req), 'others', req.sessionID);
  }

  /** Revokes every session of a tenant, scanning only that tenant's keys (off-boarding). */
  async revokeTenant(tenantId: string): Promise<number> {
    const tenant = assertTenantId(tenantId);
    const { store } = await this.registry.get(tenant);
    const removed = await this.backend.removeMatching(store.keys.scanPatterns());
    this.registry.forget(tenant);
    return this.emit(tenant, 'tenant', removed);
  }

  /** Subscribes to revocations (audit logs); returns the unsubscribe function. */
  onRevoked(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Two round trips whatever the number of sessions: empty the index, then delete what it held. */
  private async drain(
    tenantId: string,
    userId: string,
    reason: RevocationReason,
    keep?: string,
  ): Promise<number> {
    checkUserId(userId);
    const { store, tenant } = await this.registry.get(tenantId);
    const sids = await this.backend.drain(store.keys.index(userId), keep);
    const revoked = await this.backend.remove(sids.map((sid) => store.keys.session(sid)));
    return this.emit(tenant, reason, revoked, userId);
  }

  private requireUserId(req: Request): string {
    const userId = this.userId(req);
    if (userId === undefined) throw new UnauthorizedException('Login required');
    return userId;
  }

  private async enforceCap(tenant: string, userId: string, cap: number): Promise<void> {
    const { store } = await this.registry.get(tenant);
    const live = await this.liveSessions(store, userId);
    if (live.length <= cap) return;
    const sids = live.slice(0, live.length - cap).map((s) => s.sid);
    const revoked = await this.removeSessions(store, userId, sids);
    await this.emit(tenant, 'cap', revoked, userId);
  }

  /** Deletes some of a user's sessions, then their index entries; returns how many were live. */
  private async removeSessions(
    store: TenantSessionStore,
    userId: string,
    sids: string[],
  ): Promise<number> {
    const revoked = await this.backend.remove(sids.map((sid) => store.keys.session(sid)));
    await this.backend.unindex(store.keys.index(userId), sids);
    return revoked;
  }

  /**
   * The user's indexed sessions that are still alive, oldest login first, in two round trips.
   * Entries whose session ended (logout elsewhere, expiry) leave the index on the way.
   */
  private async liveSessions(store: TenantSessionStore, userId: string): Promise<LiveSession[]> {
    const indexKey = store.keys.index(userId);
    const now = Date.now();
    const entries = await this.backend.indexed(indexKey, now);
    const stored = await this.backend.inspect(entries.map((e) => store.keys.session(e.sid)));
    const live: LiveSession[] = [];
    const dead: string[] = [];
    entries.forEach(({ sid }, i) => {
      const { value, ttlMs: remainingMs } = stored[i];
      const decoded = value === null ? undefined : decodeSession(value);
      if (!decoded?.owner || decoded.owner.userId !== userId || remainingMs <= 0) {
        dead.push(sid);
        return;
      }
      const ttlMs = sessionTtlMs(decoded.data, store.idleTtlMs);
      live.push({ sid, owner: decoded.owner, expiresAt: now + remainingMs, ttlMs });
    });
    await this.backend.unindex(indexKey, dead);
    return live.sort((a, b) => a.owner.createdAt - b.owner.createdAt);
  }

  private async emit(
    tenant: string,
    reason: RevocationReason,
    revoked: number,
    userId?: string,
  ): Promise<number> {
    const event: SessionRevokedEvent = { tenant, userId, reason, revoked, at: new Date() };
    for (const listener of this.listeners) {
      try {
        await listener(event);
      } catch (error) {
        this.logger.error(`onRevoked listener failed: ${(error as Error).message ?? error}`);
      }
    }
    return revoked;
  }
}

function checkUserId(userId: string): void {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH) {
    throw new TypeError(
      `userId must be a non-empty string of at most ${MAX_USER_ID_LENGTH} characters`,
    );
  }
}

function requireSession(req: Request): Session & Partial<SessionData> {
  if (!req.session) {
    throw new Error('No session on this request: the route is outside TenantSessionModule routes');
  }
  return req.session;
}

function callback(run: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));
}
