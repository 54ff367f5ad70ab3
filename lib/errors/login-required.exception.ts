import { UnauthorizedException } from '@nestjs/common';

/** The route needs a logged-in session and this request has none: 401 JSON. */
export class LoginRequiredException extends UnauthorizedException {
  constructor() {
    super('Login required');
  }
}
