import { UnauthorizedException } from '@nestjs/common';

/**
 * The route needs a recent proof of identity (`@RequireRecentLogin`) and the session's last
 * login or re-authentication is older: 401 JSON with code `RECENT_LOGIN_REQUIRED` and the
 * `maxAge` (seconds) asked for. The client asks the user for their credentials again, has the
 * app check them and call `SessionLoginService.reauthenticated(req)`, then retries.
 */
export class RecentLoginRequiredException extends UnauthorizedException {
  readonly code = 'RECENT_LOGIN_REQUIRED';

  constructor(maxAgeSeconds: number) {
    super({
      statusCode: 401,
      error: 'Unauthorized',
      code: 'RECENT_LOGIN_REQUIRED',
      maxAge: maxAgeSeconds,
      message: `This action needs a login from the last ${maxAgeSeconds} seconds; confirm your credentials`,
    });
  }
}
