import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';

/** Secrets copied from tutorials and defaults; a cookie signed with one of these can be forged. */
const WELL_KNOWN_SECRETS = new Set([
  'keyboard cat',
  'keyboard-cat',
  'keyboardcat',
  'secret',
  'mysecret',
  'my-secret',
  'my secret',
  'session-secret',
  'sessionsecret',
  'session secret',
  'supersecret',
  'super-secret',
  'changeme',
  'change-me',
  'change me',
  'changethis',
  'your-secret',
  'your secret',
  'yoursecret',
  'your-secret-key',
  'secret-key',
  'secretkey',
  'password',
  'abc123',
  'shhhh',
  'default',
  'test',
  'development',
  'replace-me',
]);

const MIN_SECRET_LENGTH = 16;

/**
 * Checks one or several secrets and returns them as a non-empty array (the first one signs), a
 * copy: secrets are read once, at start, so verified cookies and seals can be remembered with the
 * array that verified them; changing the app's own array later changes nothing.
 */
export function checkSecrets(secret: string | string[] | undefined, where: string): string[] {
  const secrets = Array.isArray(secret) ? secret : secret === undefined ? [] : [secret];
  if (secrets.length === 0) {
    throw new InvalidTenantSessionOptionsError(
      `${where}: a secret is required to sign session cookies`,
    );
  }
  for (const value of secrets) {
    if (typeof value === 'string' && WELL_KNOWN_SECRETS.has(value.trim().toLowerCase())) {
      throw new InvalidTenantSessionOptionsError(
        `${where}: "${value}" is a well-known example secret; use a long random one`,
      );
    }
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) {
      throw new InvalidTenantSessionOptionsError(
        `${where}: each secret must be a string of at least ${MIN_SECRET_LENGTH} characters`,
      );
    }
  }
  return [...secrets];
}
