import { escapeGlob, TenantKeyFamily, TenantKeys } from './keys.js';

describe('TenantKeys', () => {
  const templates = {
    keyPrefix: 'sessions:{tenant}:{app}:',
    indexPrefix: 'sessions-index:{tenant}:{app}:',
  };

  it('renders the documented layout', () => {
    const keys = new TenantKeys(templates, 'acme', 'shop');
    expect(keys.session('abc')).toBe('sessions:acme:shop:abc');
    expect(keys.index('alice')).toBe('sessions-index:acme:shop:alice');
    expect(keys.scanPatterns()).toEqual(['sessions:acme:shop:*', 'sessions-index:acme:shop:*']);
  });

  it('escapes glob characters of a custom template in scan patterns', () => {
    const keys = new TenantKeys(
      { keyPrefix: 's[{tenant}]*', indexPrefix: 'i?{tenant}' },
      'acme',
      'x',
    );
    expect(keys.scanPatterns()).toEqual(['s\\[acme\\]\\**', 'i\\?acme*']);
    expect(escapeGlob('a\\b')).toBe('a\\\\b');
  });

  it('finds a session id only in its own tenant session keys', () => {
    const keys = new TenantKeys(templates, 'acme', 'shop');
    expect(keys.sessionPattern()).toBe('sessions:acme:shop:*');
    expect(keys.sidOf('sessions:acme:shop:abc')).toBe('abc');
    expect(keys.sidOf('sessions:acme:shop2:abc')).toBeUndefined();
    expect(keys.sidOf('sessions-index:acme:shop:alice')).toBeUndefined();
  });
});

describe('TenantKeyFamily', () => {
  it("finds every tenant's keys of one app and names the tenant of each", () => {
    const sessions = new TenantKeyFamily('sessions:{tenant}:{app}:', 'shop');
    expect(sessions.pattern).toBe('sessions:*:shop:*');
    expect(sessions.tenantOf('sessions:acme:shop:abc')).toBe('acme');
    expect(sessions.tenantOf('sessions:acme:shop2:abc')).toBeUndefined();
    expect(sessions.tenantOf('sessions:a:b:shop:abc')).toBeUndefined();
    expect(sessions.tenantOf('sessions-index:acme:shop:alice')).toBeUndefined();
  });

  it('reads a template that names the tenant twice, or glob and regex characters', () => {
    const family = new TenantKeyFamily('s[{tenant}].{app}/{tenant}:', 'x');
    expect(family.pattern).toBe('s\\[*\\].x/*:*');
    expect(family.tenantOf('s[acme].x/acme:sid')).toBe('acme');
    expect(family.tenantOf('s[acme].x/globex:sid')).toBeUndefined();
    expect(family.tenantOf('s[acme]-x/acme:sid')).toBeUndefined();
  });
});
