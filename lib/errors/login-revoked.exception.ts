import { UnauthorizedException } from '@nestjs/common';

/**
 * A login lost to a revocation of the same user that happened while it was in flight (say, a
 * password change followed by "sign out everywhere"): its credentials may have been the old
 * ones, so no session is created. The client should log in again.
 */
export class LoginRevokedException extends UnauthorizedException {
  readonly code = 'LOGIN_REVOKED';

  constructor() {
    super({
      statusCode: 401,
      error: 'Unauthorized',
      code: 'LOGIN_REVOKED',
      message: "This user's sessions were revoked while the login was in progress; log in again",
    });
  }
}
