import { UseGuards } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Session, SessionAuthGuard, SessionUserId, Tenant } from 'nestjs-tenant-session';
import '../session-data.js';

/**
 * The page's live connection (socket.io, same origin). TenantSessionIoAdapter (sample-app.ts)
 * gives every socket its tenant and session at the handshake, and ends it with a
 * `session:ended` `{ reason }` event when the session is revoked, logged out or expires, on this
 * instance or any other: the page shows "signed out" then, without a reload. Sockets never
 * extend the session; only HTTP requests do.
 */
@WebSocketGateway()
@UseGuards(SessionAuthGuard)
export class SessionGateway {
  /** `hello` → `{ user, tenant }`: who this socket is (the `exception` "Login required" if nobody). */
  @SubscribeMessage('hello')
  hello(@SessionUserId() user: string, @Tenant() tenant: string, @Session('count') count?: number) {
    return { user, tenant, count: count ?? 0 };
  }
}
