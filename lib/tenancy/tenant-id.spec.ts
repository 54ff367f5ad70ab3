import { normalizeTenantId } from './tenant-id.js';

describe('normalizeTenantId', () => {
  it.each(['acme', 'a', 'acme-eu-1', '0day', 'x'.repeat(63)])('accepts %s', (id) => {
    expect(normalizeTenantId(id)).toBe(id);
  });

  it('lower-cases', () => {
    expect(normalizeTenantId('AcMe')).toBe('acme');
  });

  it.each([
    '',
    'ac:me',
    'acme*',
    'ac me',
    ' acme',
    '{acme}',
    'acme.example',
    '-acme',
    'acme-',
    'ac\nme',
    'x'.repeat(64),
    'ａcme',
    '\u212Acme', // the Kelvin sign lower-cases to "k" with toLowerCase()
    'acme\u0130', // dotted capital I lower-cases to "i" + a combining dot
  ])('rejects %j', (id) => {
    expect(normalizeTenantId(id)).toBeUndefined();
  });

  it.each([undefined, null, 42, ['acme'], { id: 'acme' }])('rejects non-strings (%j)', (id) => {
    expect(normalizeTenantId(id)).toBeUndefined();
  });
});
