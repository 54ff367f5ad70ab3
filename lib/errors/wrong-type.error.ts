/**
 * A session or index key holds another Redis type (something else wrote there). Internal: the
 * store treats the key as holding no session and logs it, rather than failing every request
 * that carries the cookie.
 */
export class WrongTypeError extends Error {
  override readonly name = 'WrongTypeError';
}
