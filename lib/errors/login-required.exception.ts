import { UnauthorizedException } from '@nestjs/common';

/** The route needs a logged-in session and this request has none: 401 JSON, code LOGIN_REQUIRED. */
export class LoginRequiredException extends UnauthorizedException {
  readonly code = 'LOGIN_REQUIRED';

  constructor() {
    super({
      statusCode: 401,
      error: 'Unauthorized',
      code: 'LOGIN_REQUIRED',
      message: 'Login required',
    });
  }
}
