import { InvalidUserIdException } from '../errors/invalid-user-id.exception.js';

/** User ids end up inside index keys: non-empty strings of bounded length. */
export const MAX_USER_ID_LENGTH = 256;

/** The identity as an index understands it (numbers, as passport often stores them, as text). */
export function normalizeUserId(raw: unknown): string | undefined {
  const id = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_USER_ID_LENGTH
    ? id
    : undefined;
}

/**
 * Like `normalizeUserId`, for the services' entry points: an id they cannot use is refused with
 * InvalidUserIdException (400), since it often comes from a request (a route parameter).
 */
export function checkUserId(userId: string): string {
  if (typeof userId !== 'string' || normalizeUserId(userId) === undefined) {
    throw new InvalidUserIdException(MAX_USER_ID_LENGTH);
  }
  return userId;
}
