import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { LoginRequiredException } from '../errors/login-required.exception.js';
import { RecentLoginRequiredException } from '../errors/recent-login-required.exception.js';
import { SessionLoginService } from '../identity/session-login.service.js';
import { RESOLVED_OPTIONS, type ResolvedOptions } from '../options/resolved-options.js';

/** Metadata `@RequireRecentLogin` sets: seconds, or 'default' for the module's option. */
export const RECENT_LOGIN_MAX_AGE = 'tenant-session:recent-login-max-age';

/**
 * Applied by `@RequireRecentLogin`: lets a request through when its session's user proved who
 * they are recently enough (HTTP routes; a socket's session is never re-authenticated).
 * Subclasses may override `throwRecentLoginRequired`.
 */
@Injectable()
export class RecentLoginGuard implements CanActivate {
  /** @internal Nest's dependency injection makes it; apps inject it. */
  constructor(
    protected readonly reflector: Reflector,
    private readonly logins: SessionLoginService,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const asked = this.reflector.getAllAndOverride<number | 'default' | undefined>(
      RECENT_LOGIN_MAX_AGE,
      [context.getHandler(), context.getClass()],
    );
    const maxAge =
      asked === undefined || asked === 'default' ? this.options.recentLoginMaxAgeSeconds : asked;
    const req = context.switchToHttp().getRequest<Request>();
    if (this.logins.userId(req) === undefined) throw new LoginRequiredException();
    if (!this.logins.isRecentLogin(req, maxAge)) this.throwRecentLoginRequired(maxAge);
    return true;
  }

  protected throwRecentLoginRequired(maxAgeSeconds: number): never {
    throw new RecentLoginRequiredException(maxAgeSeconds);
  }
}
