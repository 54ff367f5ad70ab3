import { BadRequestException } from '@nestjs/common';

/**
 * A user id the session index cannot hold: not a string, empty, or longer than `maxLength`.
 * User ids often come from a request (an admin's "sign this user out" route), so this is a
 * client's mistake: 400 JSON with code `INVALID_USER_ID`, thrown by `SessionLoginService` and
 * `SessionRevocationService` before anything reaches Redis.
 */
export class InvalidUserIdException extends BadRequestException {
  readonly code = 'INVALID_USER_ID';

  constructor(maxLength: number) {
    super({
      statusCode: 400,
      error: 'Bad Request',
      code: 'INVALID_USER_ID',
      message: `userId must be a non-empty string of at most ${maxLength} characters`,
    });
  }
}
