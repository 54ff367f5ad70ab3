import { decodeEvent, encodeEvent, type SessionEvent } from './session-event.js';

const HANDLE = 'AbCdEfGhIjKlMnOpQrSt_-';
const at = new Date('2026-01-02T03:04:05.678Z');

describe('session event wire format', () => {
  it.each<[string, SessionEvent]>([
    [
      'a revocation',
      {
        type: 'revoked',
        tenant: 'acme',
        userId: 'alice',
        sessions: [HANDLE],
        reason: 'others',
        revoked: 1,
        at,
      },
    ],
    [
      'a tenant-wide revocation',
      { type: 'revoked', tenant: 'acme', sessions: [], reason: 'tenant', revoked: 7, at },
    ],
    ['a logout', { type: 'logout', tenant: 'acme', userId: '42', sessions: [HANDLE], at }],
  ])('carries %s unchanged, with its sender and an id', (_, event) => {
    const decoded = decodeEvent(encodeEvent(event, 'instance-1'));
    expect(decoded?.from).toBe('instance-1');
    expect(decoded?.id).toMatch(/^[\w-]{16}$/);
    expect(decoded?.event).toEqual(event);
  });

  it('gives every message its own id (receivers drop repeats by it)', () => {
    const event: SessionEvent = { type: 'logout', tenant: 'acme', userId: 'a', sessions: [], at };
    expect(decodeEvent(encodeEvent(event, 'x'))?.id).not.toBe(
      decodeEvent(encodeEvent(event, 'x'))?.id,
    );
  });

  const valid = JSON.parse(
    encodeEvent({ type: 'logout', tenant: 'acme', userId: 'alice', sessions: [HANDLE], at }, 'x'),
  );
  it.each([
    ['not JSON', '{'],
    ['another format version', { ...valid, v: 2 }],
    ['no id', { ...valid, id: undefined }],
    ['an invalid tenant', { ...valid, tenant: 'ac:me' }],
    ['a tenant in another case', { ...valid, tenant: 'ACME' }],
    [
      'a session id instead of a handle',
      { ...valid, sessions: ['a-full-session-id-of-32-characters'] },
    ],
    ['sessions that are not a list', { ...valid, sessions: HANDLE }],
    ['a logout of nobody', { ...valid, userId: undefined }],
    ['an unknown type', { ...valid, type: 'expired' }],
    [
      'a revocation with an unknown reason',
      { ...valid, type: 'revoked', reason: 'whim', revoked: 1 },
    ],
    ['a revocation without a count', { ...valid, type: 'revoked', reason: 'user' }],
    ['no time', { ...valid, at: 'yesterday' }],
  ])('ignores a message with %s', (_, message) => {
    expect(
      decodeEvent(typeof message === 'string' ? message : JSON.stringify(message)),
    ).toBeUndefined();
  });
});
