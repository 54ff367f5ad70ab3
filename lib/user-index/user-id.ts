/** User ids end up inside index keys: non-empty strings of bounded length. */
export const MAX_USER_ID_LENGTH = 256;

/** The identity as an index understands it (numbers, as passport often stores them, as text). */
export function normalizeUserId(raw: unknown): string | undefined {
  const id = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_USER_ID_LENGTH
    ? id
    : undefined;
}

/** Like `normalizeUserId`, for API calls where a bad id is a programming error. */
export function checkUserId(userId: string): string {
  if (typeof userId !== 'string' || normalizeUserId(userId) === undefined) {
    throw new TypeError(
      `userId must be a non-empty string of at most ${MAX_USER_ID_LENGTH} characters`,
    );
  }
  return userId;
}
