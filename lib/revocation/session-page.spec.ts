import { InvalidSessionPageException } from '../errors/invalid-session-page.exception.js';
import {
  checkPageRequest,
  cursorAfter,
  DEFAULT_SESSION_PAGE_LIMIT,
  MAX_SESSION_PAGE_LIMIT,
} from './session-page.js';

const position = { until: 1_764_000_000_123, digest: 'a'.repeat(40) };

describe('checkPageRequest', () => {
  it('asks for the first page of the default size when nothing is given', () => {
    expect(checkPageRequest({})).toEqual({ limit: DEFAULT_SESSION_PAGE_LIMIT });
    expect(DEFAULT_SESSION_PAGE_LIMIT).toBe(100);
  });

  it('takes any whole limit from 1 to the maximum', () => {
    expect(checkPageRequest({ limit: 1 })).toEqual({ limit: 1 });
    expect(checkPageRequest({ limit: MAX_SESSION_PAGE_LIMIT })).toEqual({ limit: 1000 });
  });

  it.each([0, -1, 1.5, 1001, NaN, Infinity, '10'])('refuses limit %p with a 400', (limit) => {
    const check = () => checkPageRequest({ limit: limit as number });
    expect(check).toThrow(InvalidSessionPageException);
    expect(check).toThrow(/limit must be a whole number from 1 to 1000/);
  });

  it('reads back the position a cursor was made from', () => {
    expect(checkPageRequest({ cursor: cursorAfter(position), limit: 5 })).toEqual({
      limit: 5,
      after: position,
    });
  });

  it.each([
    '',
    'garbage',
    `${position.until}.${'a'.repeat(39)}`,
    `${position.until}.${'A'.repeat(40)}`,
    `-1.${'a'.repeat(40)}`,
    `1e12.${'a'.repeat(40)}`,
    `${'9'.repeat(16)}.${'a'.repeat(40)}`,
    ['1', '2'],
  ])('refuses cursor %p with a 400 that says where cursors come from', (cursor) => {
    const check = () => checkPageRequest({ cursor: cursor as string });
    expect(check).toThrow(InvalidSessionPageException);
    expect(check).toThrow(/nextCursor of an earlier page/);
  });

  it('answers 400 JSON with a machine-readable code', () => {
    try {
      checkPageRequest({ limit: 0 });
      throw new Error('not refused');
    } catch (error) {
      expect((error as InvalidSessionPageException).getStatus()).toBe(400);
      expect((error as InvalidSessionPageException).getResponse()).toMatchObject({
        code: 'INVALID_SESSION_PAGE',
      });
    }
  });
});

describe('cursorAfter', () => {
  it('names a position by its lease and digest only', () => {
    expect(cursorAfter(position)).toBe(`1764000000123.${'a'.repeat(40)}`);
  });
});
