import { pickSessionCookie } from './duplicate-session-cookies.js';

describe('pickSessionCookie', () => {
  it('picks the only cookie that verifies, wherever it is, without asking the store', () => {
    expect(pickSessionCookie([undefined, 'victim'])).toBe(1);
    expect(pickSessionCookie(['victim', undefined])).toBe(0);
  });

  it('picks a cookie whose session exists over one whose session is gone', () => {
    expect(pickSessionCookie(['gone', 'victim'], new Set(['victim']))).toBe(1);
    expect(pickSessionCookie(['victim', 'gone'], new Set(['victim']))).toBe(0);
    expect(pickSessionCookie([undefined, 'gone', 'victim'], new Set(['victim']))).toBe(2);
  });

  it('picks the first that verifies when no session exists', () => {
    expect(pickSessionCookie([undefined, 'one', 'two'], new Set())).toBe(1);
  });

  it('picks none of two existing sessions: nothing tells the visitor’s own from a tossed one', () => {
    expect(pickSessionCookie(['tossed', 'victim'], new Set(['tossed', 'victim']))).toBeUndefined();
  });

  it('treats the same id twice as one cookie', () => {
    expect(pickSessionCookie(['victim', 'victim'])).toBe(0);
  });

  it('picks none when nothing verifies', () => {
    expect(pickSessionCookie([undefined, undefined])).toBeUndefined();
  });
});
