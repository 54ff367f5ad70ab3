/**
 * The longest a session may be asked to last, in every form the API takes or the store reads:
 * an idle TTL, an absolute lifetime, a login's max-age, a stored cookie's max-age. A thousand
 * years is longer than any session needs, and far inside what everything downstream carries:
 * a Date (the cookie's Expires, whose year keeps the four digits RFC 6265 dates have), a Redis
 * PX and index score (whole ms, exact below 2^53), the max-age a session id spells in ten
 * base-36 digits. Beyond a Date's range, express-session's Cookie throws as the response ends.
 */
export const MAX_SESSION_AGE_SECONDS = 1000 * 365.25 * 24 * 3600;

/** The same limit in ms, as cookies and Redis TTLs count. */
export const MAX_SESSION_AGE_MS = MAX_SESSION_AGE_SECONDS * 1000;
