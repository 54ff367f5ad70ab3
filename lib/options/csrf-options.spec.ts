import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import type { CsrfOptions } from './tenant-session-options.interface.js';
import { checkTrustedOrigins, resolveCsrf } from './csrf-options.js';

describe('resolveCsrf', () => {
  it('is on by default, header checks only', () => {
    expect(resolveCsrf(undefined)).toEqual({ trustedOrigins: [], tokenHeader: undefined });
    expect(resolveCsrf({})).toEqual({ trustedOrigins: [], tokenHeader: undefined });
  });

  it('is off with false', () => {
    expect(resolveCsrf(false)).toBeUndefined();
  });

  it('turns token mode on with the default header or a named one, in lower case', () => {
    expect(resolveCsrf({ token: true })?.tokenHeader).toBe('x-csrf-token');
    expect(resolveCsrf({ token: {} })?.tokenHeader).toBe('x-csrf-token');
    expect(resolveCsrf({ token: { headerName: 'X-XSRF-Token' } })?.tokenHeader).toBe(
      'x-xsrf-token',
    );
    expect(resolveCsrf({ token: false })?.tokenHeader).toBeUndefined();
  });

  it.each([
    ['a string', 'on'],
    ['null', null],
    ['a header name with a space', { token: { headerName: 'x csrf' } }],
    ['an empty header name', { token: { headerName: '' } }],
    ['a number for token', { token: 1 }],
  ])('refuses %s', (_, option) => {
    expect(() => resolveCsrf(option as CsrfOptions)).toThrow(InvalidTenantSessionOptionsError);
  });
});

describe('checkTrustedOrigins', () => {
  it('accepts origins as browsers write them', () => {
    const origins = ['https://admin.example.com', 'http://localhost:8080', 'https://[::1]:8443'];
    expect(checkTrustedOrigins('csrf.trustedOrigins', origins)).toEqual(origins);
  });

  it.each([
    ['a path', 'https://admin.example.com/app', /did you mean "https:\/\/admin.example.com"/],
    ['a trailing slash', 'https://admin.example.com/', /did you mean/],
    ['upper case', 'https://Admin.example.com', /did you mean "https:\/\/admin.example.com"/],
    ['a default port', 'https://admin.example.com:443', /did you mean/],
    ['no scheme', 'admin.example.com', /is not an origin/],
    ['null', 'null', /is not an origin/],
    ['another scheme', 'ftp://files.example.com', /is not an origin/],
    ['a number', 42, /is not an origin/],
  ])('refuses an origin with %s, saying how to write it', (_, origin, message) => {
    expect(() => checkTrustedOrigins('csrf.trustedOrigins', [origin])).toThrow(message);
  });

  it('refuses a list that is not an array', () => {
    expect(() =>
      checkTrustedOrigins('tenantSettings[acme].trustedOrigins', 'https://a.com'),
    ).toThrow(/tenantSettings\[acme\]\.trustedOrigins must be an array/);
  });
});
