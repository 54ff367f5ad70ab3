import { UnauthorizedException } from '@nestjs/common';

/**
 * The request's session was revoked (or expired) while the request was in flight, so the
 * changes it made were not stored: 401 JSON, and the client should log in again.
 */
export class SessionRevokedException extends UnauthorizedException {
  readonly code = 'SESSION_REVOKED';

  constructor() {
    super({
      statusCode: 401,
      error: 'Unauthorized',
      code: 'SESSION_REVOKED',
      message: 'This session ended while the request was in flight; its changes were not stored',
    });
  }
}
