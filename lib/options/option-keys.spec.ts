import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { resolveOptions } from './resolved-options.js';
import { checkTenantSettings } from './tenant-settings-check.js';
import type { TenantSessionModuleOptions } from './tenant-session-options.interface.js';

const BASE: TenantSessionModuleOptions = {
  tenant: { byHeader: 'x-tenant' },
  secret: 'a-test-secret-long-enough-to-pass-the-policy-0123456789',
};

/** Options as an app holding them in a variable passes them: no excess-property check. */
function resolveWith(extra: Record<string, unknown>) {
  const options = { ...BASE, ...extra };
  return () => resolveOptions(options as TenantSessionModuleOptions);
}

describe('option keys', () => {
  it.each([
    ['name', 'connect.sid', /`name` \(an express-session option\): .*`cookieName`/],
    ['store', {}, /`store` \(an express-session option\): .*`redis`.*`deployments`/],
    ['genid', () => 'id', /`genid` .*makes session ids itself/],
    ['proxy', true, /`proxy` .*`trust proxy`/],
    ['resave', false, /`resave` .*never rewrites an unchanged session/],
    ['resave', true, /`resave` .*never rewrites an unchanged session/],
    ['unset', 'destroy', /`unset` .*req\.session\.destroy\(\)/],
    ['unset', 'bogus', /`unset` .*leave it out/],
  ])('refuses the express-session option %s (%p), naming its equivalent', (key, value, message) => {
    expect(resolveWith({ [key]: value })).toThrow(InvalidTenantSessionOptionsError);
    expect(resolveWith({ [key]: value })).toThrow(message);
  });

  it.each([
    ['maxAge', 120_000, /`cookie\.maxAge` .*`idleTtl`, in seconds/],
    ['expires', new Date(), /`cookie\.expires` .*`absoluteLifetime`/],
    ['encode', encodeURIComponent, /`cookie\.encode` .*leave it out/],
    ['signed', true, /`cookie\.signed` .*always signed/],
  ])('refuses cookie.%s, naming its equivalent', (key, value, message) => {
    expect(resolveWith({ cookie: { [key]: value } })).toThrow(message);
  });

  it('refuses cookie as a function of the request (express-session 1.18)', () => {
    expect(resolveWith({ cookie: () => ({ secure: true }) })).toThrow(
      /cookie must be an object: per-request cookie options are not supported/,
    );
  });

  it('honours the options express-session shares with it', () => {
    const resolved = resolveWith({
      rolling: false,
      saveUninitialized: true,
      cookie: { httpOnly: true, secure: true, sameSite: 'strict', path: '/', priority: 'high' },
    })();
    expect(resolved.rolling).toBe(false);
    expect(resolved.saveUninitialized).toBe(true);
    expect(resolved.cookie).toMatchObject({ secure: true, sameSite: 'strict', priority: 'high' });
  });

  it('refuses an unknown key, suggesting the likely meant one', () => {
    expect(resolveWith({ cookiename: 'sid' })).toThrow(
      /`cookiename` is not an option \(did you mean `cookieName`\?\)/,
    );
    expect(resolveWith({ idelTtl: 60 })).toThrow(/did you mean `idleTtl`\?/);
    expect(resolveWith({ cookie: { httponly: true } })).toThrow(
      /`cookie\.httponly` is not an option \(did you mean `cookie\.httpOnly`\?\)/,
    );
  });

  it('lists the valid keys when no key is near', () => {
    expect(resolveWith({ somethingElse: 1 })).toThrow(
      /`somethingElse` is not an option; valid: tenant, knownTenants, .*onRevoked/,
    );
  });

  it('names every problem at once', () => {
    expect(resolveWith({ name: 'sid', resave: false, idleTTL: 5 })).toThrow(
      /`name` .*; `resave` .*; `idleTTL` is not an option \(did you mean `idleTtl`\?\)/,
    );
  });

  it('refuses unknown keys of csrf, durability, nearCache and telemetry', () => {
    expect(resolveWith({ csrf: { trustedOrigin: [] } })).toThrow(
      /csrf: `csrf\.trustedOrigin` is not an option \(did you mean `csrf\.trustedOrigins`\?\)/,
    );
    expect(resolveWith({ csrf: { token: { header: 'x-t' } } })).toThrow(/csrf\.token\.header/);
    expect(resolveWith({ nearCache: { maxEntry: 5 } })).toThrow(
      /did you mean `nearCache\.maxEntries`/,
    );
    expect(
      resolveWith({ redis: 'redis://127.0.0.1', durability: { replica: 1, timeoutMs: 10 } }),
    ).toThrow(/did you mean `durability\.replicas`/);
    expect(resolveWith({ telemetry: { tenantAtribute: false } })).toThrow(
      /did you mean `telemetry\.tenantAttribute`/,
    );
  });

  it("refuses unknown keys of a tenant's settings, in a map at start-up", () => {
    expect(resolveWith({ tenantSettings: { acme: { cookiDomain: '.acme.test' } } })).toThrow(
      /tenantSettings\[acme\]: `cookiDomain` is not an option \(did you mean `cookieDomain`\?\)/,
    );
    expect(resolveWith({ tenantSettings: { acme: { name: 'acme.sid' } } })).toThrow(
      /tenantSettings\[acme\]: `name` \(an express-session option\): the cookie name is `cookieName`/,
    );
    expect(resolveWith({ tenantSettings: { acme: { maxAge: 60_000 } } })).toThrow(/`idleTtl`/);
  });

  it("refuses unknown keys of a tenant's settings a function returns", () => {
    const defaults = resolveWith({})();
    const settings = { idleTtl: 60, domain: '.acme.test' };
    expect(() => checkTenantSettings('acme', settings, defaults)).toThrow(
      /tenantSettings\[acme\]: `domain` .*`cookieDomain`/,
    );
    expect(() => checkTenantSettings('acme', 'x' as never, defaults)).toThrow(
      /tenantSettings\[acme\] must be an object/,
    );
  });
});
