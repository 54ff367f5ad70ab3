import { Cookie, type CookieOptions } from 'express-session';
import fc from 'fast-check';
import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import {
  checkCookieAttributes,
  isCookieDomain,
  isCookiePath,
  isCookiePriority,
  isSameSite,
} from './cookie-attributes.js';

/** Whether express-session's Cookie (the `cookie` package) serializes with these options. */
function serializes(options: CookieOptions, name = 'sid'): boolean {
  const cookie = new (Cookie as unknown as new (o: CookieOptions) => Cookie)(options);
  try {
    (cookie as unknown as { serialize(n: string, v: string): string }).serialize(name, 'v');
    return true;
  } catch {
    return false;
  }
}

const printable = fc.string({
  unit: fc.integer({ min: 0, max: 0x2ff }).map((code) => String.fromCharCode(code)),
  minLength: 1,
});

describe('cookie attributes as the cookie package accepts them', () => {
  it('a path: the same verdict as serializing it (property)', () => {
    fc.assert(
      fc.property(printable, (path) => {
        expect(isCookiePath(path)).toBe(serializes({ path }));
      }),
    );
  });

  it('a domain: the same verdict as serializing it (property)', () => {
    fc.assert(
      fc.property(fc.oneof(printable, fc.domain()), (domain) => {
        expect(isCookieDomain(domain)).toBe(serializes({ domain }));
      }),
    );
  });

  it.each([true, false, 'lax', 'Strict', 'NONE', 'bogus', 'auto', '', 1, null, {}])(
    'sameSite %j: the same verdict as serializing it',
    (sameSite) => {
      // The package leaves out a falsy sameSite; the codec and the options take only false.
      const expected =
        sameSite === false || (Boolean(sameSite) && serializes({ sameSite } as CookieOptions));
      expect(isSameSite(sameSite)).toBe(expected);
    },
  );

  it.each(['low', 'Medium', 'HIGH', 'urgent', '', 5, null])(
    'priority %j: the same verdict as serializing it',
    (priority) => {
      const expected = Boolean(priority) && serializes({ priority } as CookieOptions);
      expect(isCookiePriority(priority)).toBe(expected);
    },
  );
});

describe('checkCookieAttributes', () => {
  const check = (name: string, cookie: CookieOptions) => () =>
    checkCookieAttributes('cookie', name, cookie);

  it('accepts the defaults, auto and every valid attribute', () => {
    expect(
      check('sid', { httpOnly: true, sameSite: 'lax', secure: 'auto', path: '/' }),
    ).not.toThrow();
    expect(check('__Host-sid', { sameSite: 'auto' as never, secure: true })).not.toThrow();
    expect(
      check('connect.sid', {
        path: '/app',
        domain: '.acme.example.com',
        sameSite: 'none',
        secure: true,
        partitioned: true,
        priority: 'high',
      }),
    ).not.toThrow();
  });

  it.each<[string, string, CookieOptions, RegExp]>([
    ['a name that is no token', 'my sid', {}, /name "my sid" is not a token/],
    ['a path with a control character', 'sid', { path: '/\u0001' }, /cookie\.path/],
    ['a domain with a space', 'sid', { domain: 'a b' }, /cookie\.domain "a b"/],
    ['an unknown sameSite', 'sid', { sameSite: 'bogus' as never }, /cookie\.sameSite/],
    ['secure as text', 'sid', { secure: 'yes' as never }, /cookie\.secure/],
    ['httpOnly as text', 'sid', { httpOnly: 'true' as never }, /cookie\.httpOnly/],
    ['an unknown priority', 'sid', { priority: 'urgent' as never }, /cookie\.priority/],
  ])('refuses %s at start-up, saying which', (_, name, cookie, message) => {
    expect(check(name, cookie)).toThrow(InvalidTenantSessionOptionsError);
    expect(check(name, cookie)).toThrow(message);
  });

  it('refuses no option the cookie package would take', () => {
    for (const cookie of [
      { path: '/a b' },
      { domain: 'x-1.example' },
      { priority: 'Low' },
    ] as CookieOptions[]) {
      expect(serializes(cookie)).toBe(true);
      expect(check('sid', cookie)).not.toThrow();
    }
  });
});
