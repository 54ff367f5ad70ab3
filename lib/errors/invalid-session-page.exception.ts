import { BadRequestException } from '@nestjs/common';

/**
 * A session listing asked for a page it cannot have: a `limit` out of range, or a `cursor` that
 * is not one a listing handed out. 400 JSON with code `INVALID_SESSION_PAGE`; the message says
 * what to send instead.
 */
export class InvalidSessionPageException extends BadRequestException {
  readonly code = 'INVALID_SESSION_PAGE';

  constructor(message: string) {
    super({ statusCode: 400, error: 'Bad Request', code: 'INVALID_SESSION_PAGE', message });
  }

  static limit(limit: unknown, max: number): InvalidSessionPageException {
    return new InvalidSessionPageException(
      `limit must be a whole number from 1 to ${max}, got ${String(limit)}`,
    );
  }

  static cursor(): InvalidSessionPageException {
    return new InvalidSessionPageException(
      'cursor must be the nextCursor of an earlier page, unchanged; leave it out for the first page',
    );
  }
}
