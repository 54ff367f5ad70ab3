import { budgetOf } from '../session/request-facts.js';
import type { LoginEvent, SessionLifecycleListener } from '../session/session-lifecycle.js';
import type { TenantSessionRegistry } from '../session/tenant-session.registry.js';
import type { SessionRevoker } from './session-revoker.js';

/**
 * `maxSessionsPerUser`: after a login is stored, the user's oldest logins past the cap are
 * revoked. A login reads the user's entry count as it is admitted, so only a login past the cap
 * reads their sessions; a login in flight is not counted until it is stored, and then applies
 * the cap itself.
 */
export class SessionCap implements SessionLifecycleListener {
  constructor(
    private readonly registry: TenantSessionRegistry,
    private readonly revoker: SessionRevoker,
    private readonly cap: number,
    private readonly operationTimeoutMs: number,
  ) {}

  async loggedIn({ tenant, userId, userSessions, req }: LoginEvent): Promise<void> {
    if (userSessions > this.cap) await this.enforce(tenant, userId, req);
  }

  /** Revokes the user's oldest logins past the cap; returns how many. */
  async enforce(tenantId: string, userId: string, req?: object): Promise<number> {
    const tenant = await this.registry.get(tenantId);
    const budget = budgetOf(req, this.operationTimeoutMs);
    const entries = await tenant.index.entries(userId, budget);
    const live = await this.revoker.live(tenant, userId, entries, budget);
    if (live.length <= this.cap) return 0;
    const oldest = live.slice(0, live.length - this.cap).map((s) => s.sid);
    return this.revoker.revokeSessions(tenant, userId, oldest, 'cap', budget);
  }
}
