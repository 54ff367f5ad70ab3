import {
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../resolved-options.js';
import { ownerOf } from '../store/session-state.js';
import { IS_PUBLIC } from './public.decorator.js';

/**
 * Lets a request through only with a logged-in session; otherwise 401 JSON.
 * Use per route or controller with `@UseGuards(SessionAuthGuard)`, or globally as APP_GUARD
 * with `@Public()` on the open routes. "Logged in" defaults to "bound by `login()`"; the
 * module's `authenticated` option can name a session field or give a predicate instead.
 */
@Injectable()
export class SessionAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const open = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (open) return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (!this.isAuthenticated(req)) throw new UnauthorizedException('Login required');
    return true;
  }

  private isAuthenticated(req: Request): boolean {
    const session = req.session;
    if (!session) return false;
    const check = this.options.authenticated;
    if (check === undefined) return ownerOf(session) !== undefined;
    if (typeof check === 'function') return check(session, req);
    return (session as unknown as Record<string, unknown>)[check] != null;
  }
}
