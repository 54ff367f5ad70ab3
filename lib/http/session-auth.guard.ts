import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { LoginRequiredException } from '../errors/login-required.exception.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import { requireSocketSession, type TenantSocketData } from '../realtime/socket-session.js';
import { getRequestContext, sessionUserId } from '../session/request-context.js';
import { IS_PUBLIC } from './public.decorator.js';

/**
 * Lets a request through only with a logged-in session; otherwise 401 JSON.
 * Use per route or controller with `@UseGuards(SessionAuthGuard)`, or globally as APP_GUARD
 * with `@Public()` on the open routes. "Logged in" defaults to "the session has an identity"
 * (bound by `login()`, or passport's user, see the `identity` option); the module's
 * `authenticated` option can name a session field or give a predicate instead. In a WebSocket
 * gateway it checks the socket's session instead (see `canActivateSocket`). Subclasses may
 * override `isAuthenticated`, `throwLoginRequired` and `isSocketAuthenticated`.
 */
@Injectable()
export class SessionAuthGuard implements CanActivate {
  /** @internal Nest's dependency injection makes it; apps inject it. */
  constructor(
    protected readonly reflector: Reflector,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const open = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (open) return true;
    if (context.getType() === 'ws') return this.canActivateSocket(context.switchToWs().getClient());
    const req = context.switchToHttp().getRequest<Request>();
    if (!this.isAuthenticated(req)) this.throwLoginRequired();
    return true;
  }

  protected isAuthenticated(req: Request): boolean {
    const session = req.session;
    if (!session) return false;
    const check = this.options.authenticated;
    if (check === undefined)
      return getRequestContext(req) !== undefined && sessionUserId(req) !== undefined;
    if (typeof check === 'function') return check(session, req);
    return (session as unknown as Record<string, unknown>)[check] != null;
  }

  protected throwLoginRequired(): never {
    throw new LoginRequiredException();
  }

  /**
   * In a gateway (`@SubscribeMessage` handlers; the guard works there too, globally or not): the
   * session the socket brought to its handshake must be logged in, or the client gets the
   * `WsException` 'Login required' as an `exception` event (never "Internal server error").
   */
  protected canActivateSocket(socket: unknown): boolean {
    const state = requireSocketSession(socket);
    if (!this.isSocketAuthenticated(state.data)) throw state.loginRequired();
    return true;
  }

  /**
   * Whether a socket's session counts as logged in: it has an identity, or, when the
   * `authenticated` option names a session field, that field is set. A predicate of the
   * request does not apply to sockets (there is no Express request): override this instead.
   */
  protected isSocketAuthenticated(socket: TenantSocketData): boolean {
    const check = this.options.authenticated;
    if (typeof check === 'string') {
      return (socket.session as Record<string, unknown> | undefined)?.[check] != null;
    }
    return socket.userId !== undefined;
  }
}
