/**
 * What passport's request middleware leaves on the Node request, where it runs on Fastify
 * (`passport.session()` in `afterSession`, `passport.initialize()` through `app.use`): passport's
 * request methods, its session manager, and the user `passport.session()` deserialized. Guards,
 * controllers and `@Req()` get Fastify's request instead, so without these `req.user` is unset
 * and `req.logout()` is missing there. The methods read only `this`, whose session is the Node
 * request's (fastify-session.hooks.ts), so they work on Fastify's request as on Express's.
 */
const PASSPORT_FIELDS = [
  '_sessionManager',
  '_userProperty',
  'login',
  'logIn',
  'logout',
  'logOut',
  'isAuthenticated',
  'isUnauthenticated',
] as const;

type Fields = Record<string, unknown>;

/**
 * Copies passport's fields from the Node request to Fastify's, when passport ran on the Node
 * request (it sets `_sessionManager` whenever it adds its methods); nothing otherwise.
 */
export function sharePassportFields(raw: object, request: object): void {
  const from = raw as Fields;
  if (from._sessionManager === undefined) return;
  const to = request as Fields;
  for (const field of PASSPORT_FIELDS) to[field] = from[field];
  const userProperty = typeof from._userProperty === 'string' ? from._userProperty : 'user';
  if (from[userProperty] !== undefined) to[userProperty] = from[userProperty];
}
