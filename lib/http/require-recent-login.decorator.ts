import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { RECENT_LOGIN_MAX_AGE, RecentLoginGuard } from './recent-login.guard.js';

/**
 * Step-up for a route or controller: the session's user must have logged in or re-authenticated
 * (`SessionLoginService.reauthenticated`) at most `maxAgeSeconds` ago (default: the module's
 * `recentLoginMaxAge`, 10 minutes), else 401 `RECENT_LOGIN_REQUIRED`; no session, 401 'Login
 * required'. OWASP ASVS 5.0 V7.5: re-authenticate before sensitive changes to the account.
 */
export const RequireRecentLogin = (maxAgeSeconds?: number): MethodDecorator & ClassDecorator => {
  if (maxAgeSeconds !== undefined && !(Number.isInteger(maxAgeSeconds) && maxAgeSeconds > 0)) {
    throw new TypeError(
      `@RequireRecentLogin(seconds) needs a positive integer, got ${maxAgeSeconds}`,
    );
  }
  return applyDecorators(
    SetMetadata(RECENT_LOGIN_MAX_AGE, maxAgeSeconds ?? 'default'),
    UseGuards(RecentLoginGuard),
  );
};
