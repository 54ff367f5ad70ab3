import { sharePassportFields } from './passport-fields.js';

/** A Node request after passport.session(): its methods, its manager, the user it found. */
const afterPassport = (fields: Record<string, unknown> = {}): Record<string, unknown> => {
  const logIn = () => undefined;
  const logOut = () => undefined;
  return {
    _sessionManager: { logIn: () => undefined },
    login: logIn,
    logIn,
    logout: logOut,
    logOut,
    isAuthenticated: () => true,
    isUnauthenticated: () => false,
    ...fields,
  };
};

describe('sharePassportFields', () => {
  it("gives Fastify's request passport's methods, manager and the user passport.session() found", () => {
    const raw = afterPassport({ user: { id: 'u1' } });
    const request: Record<string, unknown> = {};

    sharePassportFields(raw, request);

    for (const field of ['_sessionManager', 'logIn', 'login', 'logout', 'logOut']) {
      expect(request[field]).toBe(raw[field]);
    }
    expect(request.isAuthenticated).toBe(raw.isAuthenticated);
    expect(request.user).toBe(raw.user);
  });

  it('copies the user under the property passport.initialize({ userProperty }) named', () => {
    const raw = afterPassport({ _userProperty: 'account', account: { id: 'u1' } });
    const request: Record<string, unknown> = {};

    sharePassportFields(raw, request);

    expect(request.account).toBe(raw.account);
    expect(request._userProperty).toBe('account');
    expect('user' in request).toBe(false);
  });

  it('sets no user when passport found none (an anonymous session)', () => {
    const request: Record<string, unknown> = {};

    sharePassportFields(afterPassport(), request);

    expect('user' in request).toBe(false);
    expect(request.logout).toBeDefined();
  });

  it('adds nothing when passport did not run on the Node request', () => {
    const request: Record<string, unknown> = {};

    sharePassportFields({ headers: {}, user: 'from elsewhere' }, request);

    expect(request).toEqual({});
  });
});
