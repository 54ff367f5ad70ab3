import { createHmac } from 'node:crypto';
import { LruCache } from './lru-cache.js';

/**
 * Recent results, process-wide: every request in token-mode CSRF checks the same token again
 * (cookie and owner seals are remembered by session-cookie.ts and owner-seals.ts themselves), and
 * a lookup costs a tenth of an HMAC. Bounded: 4,096 entries, about 1.5 MB.
 */
const recent = new LruCache<string, string>(4096);

/** HMAC-SHA256 of `payload` under `secret`, in `encoding`. */
export function hmacSha256(
  secret: string,
  payload: string,
  encoding: 'base64' | 'base64url',
): string {
  // The secret's length makes the key unambiguous, whatever characters secret and payload hold.
  const key = `${encoding}:${secret.length}:${secret}${payload}`;
  let digest = recent.get(key);
  if (digest === undefined) {
    digest = createHmac('sha256', secret).update(payload).digest(encoding);
    recent.set(key, digest);
  }
  return digest;
}

/**
 * Whether two digests are equal, in time that depends on their length only (no early exit, so
 * a forger learns nothing from how long a wrong one took); strings, so no buffers per check.
 */
export function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
