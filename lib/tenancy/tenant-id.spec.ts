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
  ])('rejects %j', (id) => {
    expect(normalizeTenantId(id)).toBeUndefined();
  });

  it.each([undefined, null, 42, ['acme'], { id: 'acme' }])('rejects non-strings (%j)', (id) => {
    expect(normalizeTenantId(id)).toBeUndefined();
  });
});
