import type { SessionRevokedEvent } from '../options/session-revoked.event.js';
import type { RevocationEvents } from '../revocation/revocation-events.js';
import { sessionHandle } from '../session/session-handle.js';
import type { LogoutEvent, SessionLifecycleListener } from '../session/session-lifecycle.js';
import type { SessionEvent } from './session-event.js';
import type { SessionEventBus } from './session-event-bus.interface.js';

/**
 * Puts the module's session endings on the bus, and hands revocations other instances made to
 * this instance's revocation listeners (marked `remote: true`). The module wires its three
 * entries: `revoked` to the revocation events, `loggedOut` to the session lifecycle (a session
 * destroyed, or its identity removed, however the app did it), `received` to the bus.
 */
export class SessionEventRelay implements SessionLifecycleListener {
  constructor(
    private readonly bus: SessionEventBus,
    private readonly revocations: RevocationEvents,
  ) {}

  /**
   * Awaited (one PUBLISH): once a revocation returns, every instance has been told, or the bus
   * keeps the event and sends it again until Redis takes it.
   */
  async revoked({ remote, ...revocation }: SessionRevokedEvent): Promise<void> {
    if (!remote) await this.bus.publish({ type: 'revoked', ...revocation });
  }

  loggedOut({ tenant, userId, sid }: LogoutEvent): void {
    void this.bus.publish({
      type: 'logout',
      tenant,
      userId,
      sessions: [sessionHandle(sid)],
      at: new Date(),
    });
  }

  received(event: SessionEvent, remote: boolean): void {
    if (!remote || event.type !== 'revoked') return;
    const { tenant, userId, reason, revoked, sessions, at } = event;
    void this.revocations.notify({ tenant, userId, reason, revoked, sessions, at, remote: true });
  }
}
