import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { HandshakeRequest } from '../realtime/handshake-request.js';
import { SessionSockets } from '../realtime/session-sockets.js';
import { setSocketSession, type SessionSocket } from '../realtime/socket-session.js';
import { WsLoginRequiredException } from './ws-login-required.exception.js';

export interface TenantSessionIoAdapterOptions {
  /**
   * Which pages may open a socket, by the `Origin` header browsers send with every handshake
   * (clients that send none, such as servers, are not asked). Default: the page's host and port
   * are the socket's own, the host its tenant is resolved from. A cross-origin socket carries
   * the browser's cookies (for a sibling subdomain: the same site, so even SameSite ones), so
   * allow only origins you trust, e.g. `(origin) => origin === 'https://app.example.com'`.
   * `req` is the handshake request, on Express and Fastify alike (a check typed with Express's
   * `Request` fits too).
   */
  allowOrigin?(origin: string, req: HandshakeRequest): boolean;
}

// socket.io's types as the adapter has them: @nestjs/platform-socket.io pins its own socket.io.
type IoServerOptions = Parameters<IoAdapter['create']>[1];
type IoNamespace = ReturnType<IoAdapter['create']>;
type IoSocket = Parameters<IoAdapter['bindMessageHandlers']>[0];

/**
 * socket.io for Nest gateways, with the tenant and session of each socket:
 * `app.useWebSocketAdapter(new TenantSessionIoAdapter(app))`. Every handshake (every namespace a
 * gateway uses) resolves the tenant with the module's resolver, checks the signed session cookie
 * with that tenant's secrets (of several, the one an HTTP request would keep) and reads the
 * session without extending it; gateways get them through `@Tenant()`, `@Session()`,
 * `@SessionUserId()`, `SessionAuthGuard` and `socket.data` (`TenantSocketData`). An unknown
 * tenant or a foreign page is refused (`connect_error`); no or a bad cookie is an anonymous
 * socket. A socket whose session is revoked, logged out or expires, on this instance or
 * another, gets `session:ended` `{ reason }` and is disconnected.
 */
export class TenantSessionIoAdapter extends IoAdapter {
  private readonly prepared = new WeakSet<object>();

  constructor(
    private readonly app: INestApplicationContext,
    private readonly adapterOptions: TenantSessionIoAdapterOptions = {},
  ) {
    super(app);
  }

  override create(port: number, options?: IoServerOptions): IoNamespace {
    const server = super.create(port, options);
    this.prepare(server);
    return server;
  }

  /** Adds the handshake middleware and the watch, once per namespace (gateways may share one). */
  private prepare(namespace: IoNamespace): void {
    if (this.prepared.has(namespace)) return;
    this.prepared.add(namespace);
    const sockets = this.sessionSockets();
    const loginRequired = () => new WsLoginRequiredException();
    const { allowOrigin } = this.adapterOptions;
    namespace.use((socket: IoSocket, next: (err?: Error) => void) => {
      sockets.open(socket.request, loginRequired, allowOrigin).then(
        (state) => {
          setSocketSession(socket, state);
          Object.assign(socket.data, state.data);
          next();
        },
        (refusal: Error) => next(refusal),
      );
    });
    namespace.on('connection', (socket: IoSocket) => sockets.watch(socket as SessionSocket));
  }

  private sessionSockets(): SessionSockets {
    try {
      return this.app.get(SessionSockets, { strict: false });
    } catch {
      throw new Error(
        'TenantSessionIoAdapter found no TenantSessionModule in this app: import ' +
          'TenantSessionModule.forRoot() or .forRootAsync() in one of its modules',
      );
    }
  }
}
