import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { LoginRequiredException } from '../errors/login-required.exception.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';
import { getRequestContext } from '../session/request-context.js';
import { IS_PUBLIC } from './public.decorator.js';

/**
 * Lets a request through only with a logged-in session; otherwise 401 JSON.
 * Use per route or controller with `@UseGuards(SessionAuthGuard)`, or globally as APP_GUARD
 * with `@Public()` on the open routes. "Logged in" defaults to "the session has an identity"
 * (bound by `login()`, or passport's user, see the `identity` option); the module's
 * `authenticated` option can name a session field or give a predicate instead. Subclasses may
 * override `isAuthenticated` and `throwLoginRequired`.
 */
@Injectable()
export class SessionAuthGuard implements CanActivate {
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
    const req = context.switchToHttp().getRequest<Request>();
    if (!this.isAuthenticated(req)) this.throwLoginRequired();
    return true;
  }

  protected isAuthenticated(req: Request): boolean {
    const session = req.session;
    if (!session) return false;
    const check = this.options.authenticated;
    if (check === undefined) {
      return getRequestContext(req)?.tenantSession.store.identityOf(session) !== undefined;
    }
    if (typeof check === 'function') return check(session, req);
    return (session as unknown as Record<string, unknown>)[check] != null;
  }

  protected throwLoginRequired(): never {
    throw new LoginRequiredException();
  }
}
