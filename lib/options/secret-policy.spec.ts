import { checkSecrets } from './secret-policy.js';

describe('checkSecrets', () => {
  it('returns secrets as an array, the first one signing', () => {
    expect(checkSecrets('a-long-random-secret-1', 'secret')).toEqual(['a-long-random-secret-1']);
    expect(checkSecrets(['new-secret-0123456789', 'old-secret-0123456789'], 'secret')).toHaveLength(
      2,
    );
  });

  it('keeps its own copy, read once at start', () => {
    const given = ['new-secret-0123456789', 'old-secret-0123456789'];
    const secrets = checkSecrets(given, 'secret');
    given.pop();
    expect(secrets).toEqual(['new-secret-0123456789', 'old-secret-0123456789']);
  });

  it.each([
    [undefined, /required/],
    [[], /required/],
    ['short', /at least 16/],
    ['Keyboard Cat', /well-known/],
    [' your-secret ', /well-known/],
    [['valid-secret-0123456789', 'short'], /at least 16/],
  ])('refuses %j', (secret, error) => {
    expect(() => checkSecrets(secret as string, 'secret')).toThrow(error);
  });
});
