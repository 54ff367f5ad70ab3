import { Inject, Injectable } from '@nestjs/common';
import { SessionRevocationService } from '../revocation/session-revocation.service.js';
import { sessionHandle } from '../session/session-handle.js';
import { TenantSessionRegistry } from '../session/tenant-session.registry.js';
import { SessionEventBus } from './session-event-bus.interface.js';

/**
 * Puts the module's session endings on the bus: every revocation (as `onRevoked` listeners hear
 * it) and every logout the stores see (a session destroyed, or its identity removed, however
 * the app did it). Revocations from other instances go to the `onRevoked` listeners here,
 * marked `remote: true`.
 */
@Injectable()
export class SessionEventRelay {
  constructor(
    @Inject(SessionEventBus) bus: SessionEventBus,
    revocations: SessionRevocationService,
    registry: TenantSessionRegistry,
  ) {
    // Awaited (one PUBLISH): once a revocation returns, every instance has been told, or the
    // bus keeps the event and sends it again until Redis takes it.
    revocations.onRevoked(async ({ remote, ...revocation }) => {
      if (!remote) await bus.publish({ type: 'revoked', ...revocation });
    });
    registry.afterLogout((tenant, userId, sid) => {
      void bus.publish({
        type: 'logout',
        tenant,
        userId,
        sessions: [sessionHandle(sid)],
        at: new Date(),
      });
    });
    bus.subscribe((event, remote) => {
      if (!remote || event.type !== 'revoked') return;
      const { tenant, userId, reason, revoked, sessions, at } = event;
      void revocations.deliverRemote({
        tenant,
        userId,
        reason,
        revoked,
        sessions,
        at,
        remote: true,
      });
    });
  }
}
