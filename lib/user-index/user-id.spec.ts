import { InvalidUserIdException } from '../errors/invalid-user-id.exception.js';
import { checkUserId, MAX_USER_ID_LENGTH, normalizeUserId } from './user-id.js';

describe('checkUserId', () => {
  it('passes an id the index can hold, up to the longest', () => {
    expect(checkUserId('alice')).toBe('alice');
    expect(checkUserId('x'.repeat(MAX_USER_ID_LENGTH))).toBe('x'.repeat(MAX_USER_ID_LENGTH));
  });

  it.each([
    ['an empty string', ''],
    ['a 300-character string', 'x'.repeat(300)],
    ['one character too many', 'x'.repeat(MAX_USER_ID_LENGTH + 1)],
    ['a number', 42],
    ['undefined', undefined],
    ['an object', { id: 'alice' }],
  ])('refuses %s with a 400 InvalidUserIdException', (_, userId) => {
    const check = () => checkUserId(userId as string);
    expect(check).toThrow(InvalidUserIdException);
    try {
      check();
    } catch (error) {
      expect((error as InvalidUserIdException).getStatus()).toBe(400);
      expect((error as InvalidUserIdException).getResponse()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'INVALID_USER_ID',
        message: `userId must be a non-empty string of at most ${MAX_USER_ID_LENGTH} characters`,
      });
    }
  });
});

describe('normalizeUserId', () => {
  it('reads a finite number as text and drops what no index can hold', () => {
    expect(normalizeUserId(42)).toBe('42');
    expect(normalizeUserId('alice')).toBe('alice');
    for (const raw of [NaN, Infinity, '', 'x'.repeat(MAX_USER_ID_LENGTH + 1), null, {}]) {
      expect(normalizeUserId(raw)).toBeUndefined();
    }
  });
});
