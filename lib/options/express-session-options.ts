/**
 * The express-session options this module does not take, each with what to use instead: an app
 * moving from `session({ ... })` gets a start-up error naming the fix rather than an option that
 * compiles (the options object held in a variable) and does nothing. The options it does take
 * keep their express-session names and meaning: `secret`, `rolling`, `saveUninitialized` and the
 * `cookie` attributes below. docs/express-session-compatibility.md is this table in prose.
 */

/** Top-level express-session options, and where their job went. */
export const EXPRESS_SESSION_EQUIVALENTS: Readonly<Record<string, string>> = {
  name: 'the session cookie name is `cookieName` (default `sid`; per tenant in `tenantSettings`)',
  store:
    "the module builds each tenant's store on the Redis given as `redis` (a client, options or " +
    'a URL); more Redis deployments go in `deployments`',
  genid:
    'the module makes session ids itself (they carry the absolute deadline and a remember-me ' +
    'max-age, signed in the cookie); leave it out',
  proxy:
    "Secure cookies follow Express's `trust proxy` setting (`app.set('trust proxy', ...)`), as " +
    "with express-session's default; leave it out",
  resave:
    'the module never rewrites an unchanged session, it restarts its TTL instead ' +
    '(express-session with `resave: false` and a store with touch); leave it out',
  unset:
    "`req.session = null` keeps the stored session (express-session's `unset: 'keep'`); end a " +
    'session with `req.session.destroy()` or `SessionLoginService.logout(req)`; leave it out',
};

/** Cookie attributes the module takes from `cookie`, as express-session's Cookie does. */
export const COOKIE_ATTRIBUTES = [
  'domain',
  'httpOnly',
  'partitioned',
  'path',
  'priority',
  'sameSite',
  'secure',
] as const;

/** express-session `cookie` options the module does not take, and what to use instead. */
export const COOKIE_EQUIVALENTS: Readonly<Record<string, string>> = {
  maxAge:
    "the cookie's max-age is `idleTtl`, in seconds (it is the Redis TTL too; per tenant in " +
    '`tenantSettings`, per login in `login(req, id, { idleTtl })`)',
  expires:
    'a fixed expiry date is not supported: `idleTtl` (seconds) sets the max-age, and ' +
    '`absoluteLifetime` ends a session that long after its login',
  encode:
    'the cookie value is the signed session id, encoded as express-session encodes it; leave ' +
    'it out',
  signed: 'session cookies are always signed with `secret`; leave it out',
};

/** Why `cookie` cannot be a function of the request (express-session 1.18's form). */
export const COOKIE_FUNCTION_EQUIVALENT =
  'cookie must be an object: per-request cookie options are not supported; per-tenant cookie ' +
  'names and domains go in `tenantSettings` (`cookieName`, `cookieDomain`)';
