import { sessionHandle } from './session-handle.js';

describe('sessionHandle', () => {
  it('is stable, URL-safe and reveals nothing of the session id', () => {
    const sid = 'bJ3k9-aZ_0pQrStUvWxYz0123456789A';
    expect(sessionHandle(sid)).toBe(sessionHandle(sid));
    expect(sessionHandle(sid)).toMatch(/^[\w-]{22}$/);
    expect(sessionHandle(sid)).not.toContain(sid.slice(0, 8));
    expect(sessionHandle(sid)).not.toBe(sessionHandle(`${sid}x`));
  });
});
