import { createHmac } from 'node:crypto';
import { LruCache } from '../tenancy/lru-cache.js';

/**
 * Recent results, process-wide: every request of a session checks the same cookie signature and
 * the same owner seal, and a lookup costs a tenth of an HMAC. Bounded (about 3 MB at most).
 */
const recent = new LruCache<string, string>(10_000);

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
