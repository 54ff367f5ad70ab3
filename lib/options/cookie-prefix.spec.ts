import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { checkCookiePrefix } from './cookie-prefix.js';

const check = (name: string, cookie: Parameters<typeof checkCookiePrefix>[2]) => () =>
  checkCookiePrefix('cookieName', name, cookie);

describe('checkCookiePrefix', () => {
  it('accepts a __Host- name that is Secure (or auto), host-only, at path /', () => {
    expect(check('__Host-sid', { secure: 'auto', path: '/' })).not.toThrow();
    expect(check('__Host-sid', { secure: true })).not.toThrow();
  });

  it.each([
    ['a domain', { secure: true, path: '/', domain: '.example.com' }, /no domain/],
    ['another path', { secure: true, path: '/app' }, /path must be "\/"/],
    ['secure: false', { secure: false, path: '/' }, /secure must not be false/],
  ])('refuses a __Host- name with %s, saying how to fix it', (_, cookie, message) => {
    expect(check('__Host-sid', cookie)).toThrow(InvalidTenantSessionOptionsError);
    expect(check('__Host-sid', cookie)).toThrow(message);
    expect(check('__host-sid', cookie)).toThrow(/pick a name without the prefix/);
  });

  it('accepts a __Secure- name with a domain and a path, refuses it with secure: false', () => {
    expect(check('__Secure-sid', { secure: 'auto', path: '/app', domain: '.x.com' })).not.toThrow();
    expect(check('__Secure-sid', { secure: false })).toThrow(/"__Secure-sid".*Secure/);
  });

  it('leaves other names alone', () => {
    expect(check('sid', { secure: false, path: '/app', domain: '.x.com' })).not.toThrow();
    expect(check('my__Host-sid', { secure: false })).not.toThrow();
  });
});
