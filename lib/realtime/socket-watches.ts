import { performance } from 'node:perf_hooks';
import type { SessionEvent } from './session-event.js';
import type { SessionEndReason, SessionSocket } from './socket-session.js';

/** A logged-in session with sockets on this instance. */
export interface Watch {
  tenant: string;
  sid: string;
  handle: string;
  userId: string;
  sockets: Set<SessionSocket>;
  /** When the session expires unless used meanwhile (performance.now(), from the last read). */
  expiresAt: number;
  /** Checks in a row the store did not answer (their retries back off). */
  failedChecks: number;
  timer?: NodeJS.Timeout;
  ended: boolean;
}

/** How long a received event stays relevant to a handshake still reading its session. */
const RECENT_END_MS = 60_000;

/**
 * The sessions this instance's sockets follow, found by session handle, by user and by tenant
 * (events name sessions those ways), and which users and tenants had an event lately (for
 * handshakes that were reading their session meanwhile).
 */
export class SocketWatches {
  private readonly byHandle = new Map<string, Watch>();
  private readonly byUser = new Map<string, Set<Watch>>();
  private readonly byTenant = new Map<string, Set<Watch>>();
  /**
   * When this instance last received an event per user (`<tenant>/<userId>`) or tenant-wide
   * (`<tenant>`), and the end it announced; oldest first.
   */
  private readonly recentEnds = new Map<string, { at: number; reason: SessionEndReason }>();

  get(tenant: string, handle: string): Watch | undefined {
    return this.byHandle.get(watchKey(tenant, handle));
  }

  all(): Watch[] {
    return [...this.byHandle.values()];
  }

  ofUser(tenant: string, userId: string): Watch[] {
    return [...(this.byUser.get(userKey(tenant, userId)) ?? [])];
  }

  ofTenant(tenant: string): Watch[] {
    return [...(this.byTenant.get(tenant) ?? [])];
  }

  add(watch: Watch): void {
    this.byHandle.set(watchKey(watch.tenant, watch.handle), watch);
    addTo(this.byUser, userKey(watch.tenant, watch.userId), watch);
    addTo(this.byTenant, watch.tenant, watch);
  }

  remove(watch: Watch): void {
    watch.ended = true;
    clearTimeout(watch.timer);
    const key = watchKey(watch.tenant, watch.handle);
    if (this.byHandle.get(key) === watch) this.byHandle.delete(key);
    removeFrom(this.byUser, userKey(watch.tenant, watch.userId), watch);
    removeFrom(this.byTenant, watch.tenant, watch);
  }

  clear(): void {
    for (const watch of this.byHandle.values()) clearTimeout(watch.timer);
    this.byHandle.clear();
    this.byUser.clear();
    this.byTenant.clear();
  }

  /** An event arrived for its user (or tenant). */
  remember(event: SessionEvent): void {
    const now = performance.now();
    for (const [key, { at }] of this.recentEnds) {
      if (now - at <= RECENT_END_MS) break;
      this.recentEnds.delete(key);
    }
    const key = event.userId === undefined ? event.tenant : userKey(event.tenant, event.userId);
    this.recentEnds.delete(key); // re-inserted last: the map stays in time order
    this.recentEnds.set(key, { at: now, reason: endReasonOf(event) });
  }

  /** Whether an event for the watch's user or tenant arrived since `readAt`. */
  endedSince(watch: Watch, readAt: number): boolean {
    return (this.latestEnd(watch)?.at ?? -Infinity) >= readAt;
  }

  /**
   * Why the watch's session is gone, as the latest event for its user or tenant received lately
   * said (a handshake was reading the session when it came); undefined when none did.
   */
  recentReason(watch: Watch): SessionEndReason | undefined {
    const latest = this.latestEnd(watch);
    return latest && performance.now() - latest.at <= RECENT_END_MS ? latest.reason : undefined;
  }

  private latestEnd(watch: Watch): { at: number; reason: SessionEndReason } | undefined {
    const user = this.recentEnds.get(userKey(watch.tenant, watch.userId));
    const tenant = this.recentEnds.get(watch.tenant);
    if (!user || !tenant) return user ?? tenant;
    return user.at >= tenant.at ? user : tenant;
  }
}

/** The end an event announces to the sockets of the sessions it names. */
export function endReasonOf(event: SessionEvent): SessionEndReason {
  return event.type === 'logout' ? 'logout' : 'revoked';
}

// Tenant ids never contain "/", so these keys cannot collide.
const watchKey = (tenant: string, handle: string) => `${tenant}/${handle}`;
const userKey = (tenant: string, userId: string) => `${tenant}/${userId}`;

function addTo(map: Map<string, Set<Watch>>, key: string, watch: Watch): void {
  const set = map.get(key) ?? new Set<Watch>();
  set.add(watch);
  map.set(key, set);
}

function removeFrom(map: Map<string, Set<Watch>>, key: string, watch: Watch): void {
  const set = map.get(key);
  set?.delete(watch);
  if (set?.size === 0) map.delete(key);
}
