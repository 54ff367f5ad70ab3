import { isWithinCookiePath, requestTargetPath } from './cookie-path.js';

describe('requestTargetPath', () => {
  it.each([
    ['/me', '/me'],
    ['/me?x=1', '/me'],
    ['/me#top', '/me'],
    ['http://acme.localhost/me', '/me'],
    ['http://acme.localhost:3000/a/b?c=/d', '/a/b'],
    ['HTTPS://acme.localhost/me', '/me'],
    ['http://acme.localhost', '/'],
    ['http://acme.localhost?x=1', '/'],
    ['http://acme.localhost/a/../b', '/a/../b'],
    ['*', '*'],
  ])('reads %j as %j', (target, path) => {
    expect(requestTargetPath(target)).toBe(path);
  });
});

describe('isWithinCookiePath', () => {
  it('answers the absolute form as the origin form', () => {
    for (const [path, inside] of [
      ['/', true],
      ['/app', true],
      ['/other', false],
    ] as const) {
      expect(isWithinCookiePath('/app/page?x=1', path)).toBe(inside);
      expect(isWithinCookiePath('http://acme.localhost/app/page?x=1', path)).toBe(inside);
    }
  });

  it('never finds the cookie path in the host or the query', () => {
    expect(isWithinCookiePath('http://app.localhost/other', '/app')).toBe(false);
    expect(isWithinCookiePath('http://acme.localhost/?next=/app', '/app')).toBe(false);
    expect(isWithinCookiePath('/?next=/app', '/app')).toBe(false);
  });

  it('finds no path in an asterisk-form target (OPTIONS *)', () => {
    expect(isWithinCookiePath('*', '/')).toBe(false);
  });
});
