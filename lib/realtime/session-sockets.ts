import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { HandshakeRefusedError } from '../errors/handshake-refused.error.js';
import type { HandshakeRequest } from './handshake-request.js';
import { SessionStoreUnavailableException } from '../errors/session-store-unavailable.exception.js';
import { sessionHandle } from '../session/session-handle.js';
import { TenantSessionRegistry } from '../session/tenant-session.registry.js';
import type { SessionSnapshot } from '../session/session-reader.js';
import { OperationBudget } from '../store/operation-budget.js';
import { TenantIdentifier } from '../tenancy/tenant-identifier.js';
import type { SessionEvent } from './session-event.js';
import type { SessionEventBus } from './session-event-bus.interface.js';
import { endReasonOf, SocketWatches, type Watch } from './socket-watches.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import {
  getSocketSession,
  SESSION_ENDED_EVENT,
  type SessionEndReason,
  type SessionEndedMessage,
  type SessionSocket,
  type SocketSessionState,
} from './socket-session.js';

/** Decides which pages may open a socket; the default allows the socket's own host only. */
export type OriginCheck = (origin: string, req: HandshakeRequest) => boolean;

/** Checked a little after the expiry Redis reported, so the key is gone by then. */
const EXPIRY_MARGIN_MS = 250;
/**
 * A check that could not reach the store is tried again after 100 ms, then twice as long each
 * time, at most 1 s: once Redis answers again, a session it lost ends its sockets within 1 s.
 */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 1000;
/** setTimeout's longest delay; a longer-lived session is checked once in between. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Sessions read per round trip when re-checking many. */
const CHECK_BATCH = 200;

/**
 * Sessions for sockets. At the handshake: the tenant (the module's resolver, on the handshake
 * request), the session id (the signed cookie, checked with that tenant's secrets, picked among
 * duplicates as for HTTP) and the session itself, read without restarting its TTL. Afterwards,
 * per logged-in session with sockets here: it ends them, with a `session:ended` event first,
 * when the session is revoked or logged out on any instance (the event bus), or expires. Expiry
 * is one read at the time Redis gave (then again when HTTP activity extended it), so a socket
 * costs one read per idle TTL and never keeps a session alive. When the bus was disconnected,
 * every session is read again.
 */
@Injectable()
export class SessionSockets implements OnApplicationShutdown {
  private readonly logger = new Logger('TenantSession');
  private readonly watches = new SocketWatches();

  constructor(
    private readonly identifier: TenantIdentifier,
    private readonly registry: TenantSessionRegistry,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  /** Follows the session events on `bus` (the module wires it at start). */
  listenTo(bus: SessionEventBus): void {
    bus.subscribe((event) => this.onEvent(event));
    bus.onResubscribed(() => void this.check(this.watches.all()));
  }

  /**
   * The handshake: reads the socket's tenant and session, without extending it. Throws
   * HandshakeRefusedError for an unknown tenant, a page of another origin, or a store that does
   * not answer. A missing, forged or foreign cookie is an anonymous socket, as over HTTP; of
   * several session cookies, the socket gets the one an HTTP request would run with (none when
   * two name existing sessions).
   */
  async open(
    request: IncomingMessage,
    loginRequired: () => Error,
    allowOrigin: OriginCheck = sameHost,
  ): Promise<SocketSessionState> {
    try {
      const origin = request.headers.origin;
      if (origin !== undefined && !allowOrigin(origin, this.identifier.asRequest(request))) {
        throw HandshakeRefusedError.originNotAllowed();
      }
      const tenant = await this.identifier.identify(request);
      const { reader, cookie } = await this.registry.get(tenant);
      // Events received from here on may concern what these reads return (see `watch`).
      const readAt = performance.now();
      const budget = this.budget();
      const sid = await cookie.sessionIdFrom(request.headers.cookie, budget);
      const [stored] = sid === undefined ? [] : await reader.snapshots([sid], budget);
      if (sid === undefined || stored === undefined) {
        return { data: { tenant }, readAt, ttlMs: 0, loginRequired };
      }
      const { data: session, userId, ttlMs } = stored;
      return {
        data: { tenant, session, userId, sessionHandle: sessionHandle(sid) },
        sid: userId === undefined ? undefined : sid,
        readAt,
        ttlMs,
        loginRequired,
      };
    } catch (error) {
      const refusal = HandshakeRefusedError.for(error);
      if (refusal) throw refusal;
      this.logger.error(`A socket handshake failed: ${(error as Error)?.stack ?? error}`);
      throw HandshakeRefusedError.internal();
    }
  }

  /** A socket connected: follows its session until one of them ends. */
  watch(socket: SessionSocket): void {
    const state = getSocketSession(socket);
    const userId = state?.data.userId;
    if (!state?.sid || userId === undefined) return;
    const { tenant } = state.data;
    const handle = sessionHandle(state.sid);
    let watch = this.watches.get(tenant, handle);
    if (!watch) {
      watch = {
        tenant,
        sid: state.sid,
        handle,
        userId,
        sockets: new Set(),
        expiresAt: 0,
        failedChecks: 0,
        ended: false,
      };
      this.watches.add(watch);
      this.expect(watch, state.ttlMs, state.readAt);
    }
    const watched = watch;
    watched.sockets.add(socket);
    socket.once('disconnect', () => this.unwatch(watched, socket));
    // The session may have ended while the handshake read it: an event received since then
    // that concerns it means "read it again" (events name sessions by handle or user).
    if (watched.userId !== userId || this.watches.endedSince(watched, state.readAt)) {
      void this.check([watched]);
    }
  }

  private budget(): OperationBudget {
    return new OperationBudget(this.options.operationTimeoutMs);
  }

  onApplicationShutdown(): void {
    this.watches.clear();
  }

  private onEvent(event: SessionEvent): void {
    this.watches.remember(event);
    if (event.type === 'revoked' && event.userId === undefined) {
      for (const watch of this.watches.ofTenant(event.tenant)) this.end(watch, 'revoked');
      return;
    }
    const reason = endReasonOf(event);
    for (const handle of event.sessions) {
      const watch = this.watches.get(event.tenant, handle);
      if (watch) this.end(watch, reason);
    }
    // A revocation retried after a failure may name fewer sessions than it ended: whatever this
    // instance still holds of that user is read again.
    if (event.type === 'revoked' && event.userId !== undefined) {
      const left = this.watches.ofUser(event.tenant, event.userId);
      if (left.length > 0) void this.check(left);
    }
  }

  /** Reads sessions again (a batch per tenant) and ends, keeps or reschedules each. */
  private async check(watches: Watch[]): Promise<void> {
    const byTenant = new Map<string, Watch[]>();
    for (const watch of watches) {
      if (watch.ended) continue;
      const list = byTenant.get(watch.tenant) ?? [];
      list.push(watch);
      byTenant.set(watch.tenant, list);
    }
    for (const [tenant, list] of byTenant) {
      for (let i = 0; i < list.length; i += CHECK_BATCH) {
        const batch = list.slice(i, i + CHECK_BATCH);
        const readAt = performance.now();
        try {
          const { reader } = await this.registry.get(tenant);
          const stored = await reader.snapshots(
            batch.map((w) => w.sid),
            this.budget(),
          );
          batch.forEach((watch, j) => this.apply(watch, stored[j], readAt));
        } catch (error) {
          // The store is away: try again later; the socket stays until then.
          if (!(error instanceof SessionStoreUnavailableException)) {
            this.logger.error(
              `Checking socket sessions failed: ${(error as Error)?.stack ?? error}`,
            );
          }
          for (const watch of batch) this.arm(watch, retryDelay(++watch.failedChecks));
        }
      }
    }
  }

  private apply(watch: Watch, stored: SessionSnapshot | undefined, readAt: number): void {
    if (watch.ended) return;
    watch.failedChecks = 0;
    if (stored === undefined) {
      // Past its expiry it expired; before, an event heard lately says why, else nobody said.
      if (readAt >= watch.expiresAt) return this.end(watch, 'expired');
      return this.end(watch, this.watches.recentReason(watch) ?? 'gone');
    }
    if (stored.userId !== watch.userId) return this.end(watch, 'logout');
    for (const socket of watch.sockets) {
      const state = getSocketSession(socket);
      if (state) state.data.session = stored.data;
      (socket.data as { session?: unknown }).session = stored.data;
    }
    this.expect(watch, stored.ttlMs, readAt);
  }

  /** The session had `ttlMs` to live at `readAt`: check it again then. */
  private expect(watch: Watch, ttlMs: number, readAt: number): void {
    watch.expiresAt = readAt + ttlMs;
    this.arm(watch, watch.expiresAt - performance.now() + EXPIRY_MARGIN_MS);
  }

  private arm(watch: Watch, delayMs: number): void {
    clearTimeout(watch.timer);
    if (watch.ended) return;
    watch.timer = setTimeout(
      () => void this.check([watch]),
      Math.min(Math.max(delayMs, 0), MAX_TIMER_MS),
    );
    watch.timer.unref();
  }

  private end(watch: Watch, reason: SessionEndReason): void {
    if (watch.ended) return;
    this.watches.remove(watch);
    const message: SessionEndedMessage = { reason };
    for (const socket of watch.sockets) {
      // What guards and decorators see from now on, should a message still arrive.
      const state = getSocketSession(socket);
      if (state) {
        state.sid = undefined;
        state.data = { tenant: state.data.tenant };
      }
      socket.data = { ...(socket.data as object), session: undefined, userId: undefined };
      socket.emit(SESSION_ENDED_EVENT, message);
      socket.disconnect();
    }
  }

  private unwatch(watch: Watch, socket: SessionSocket): void {
    watch.sockets.delete(socket);
    if (watch.sockets.size === 0) this.watches.remove(watch);
  }
}

/** How long to wait before the `failures`-th retry of a check the store did not answer. */
function retryDelay(failures: number): number {
  return Math.min(RETRY_FIRST_MS * 2 ** (failures - 1), RETRY_MAX_MS);
}

/** The default origin rule: the page's host (and port) is the socket's own host. */
function sameHost(origin: string, req: HandshakeRequest): boolean {
  try {
    return new URL(origin).host === req.host?.toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, files) and anything else unparsable
  }
}
