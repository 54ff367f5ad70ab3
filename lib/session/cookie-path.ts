/**
 * Whether a request is inside the session cookie's `Path`, where express-session gives it a
 * session: the path of its request target starts with the cookie's. The target is the origin
 * form (`/a/b?q`) from browsers, and may be the absolute form (`http://host/a/b?q`) from a
 * client that talks to the app as to a proxy: Node passes that on unchanged (`req.originalUrl`)
 * and Express routes it by the path it holds, so it is answered as the origin form would be.
 */
export function isWithinCookiePath(target: string, cookiePath: string): boolean {
  // A cookie path holds no `?` or `#`, so an origin-form target starts with it exactly when its
  // path does: no parsing for the targets browsers send.
  if (target.startsWith('/')) return target.startsWith(cookiePath);
  return requestTargetPath(target).startsWith(cookiePath);
}

/** `scheme://authority` of an absolute-form target, as the router's URL parsing reads it. */
const ABSOLUTE_FORM_PREFIX = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i;

/**
 * The path of a request target as Express's router reads it (parseurl): up to `?` or `#`,
 * without the scheme and authority of the absolute form, `/` when nothing is left (`http://h`).
 * Dot segments and escapes are left as they are, as the router leaves them.
 */
export function requestTargetPath(target: string): string {
  const rest = target.replace(ABSOLUTE_FORM_PREFIX, '');
  const end = rest.search(/[?#]/);
  return (end === -1 ? rest : rest.slice(0, end)) || '/';
}
