import { createHash } from 'node:crypto';

/**
 * The public name of a session in listings: a one-way digest of the session id, so a listing
 * (or a log of it) never hands out ids that could be replayed as cookies.
 */
export function sessionHandle(sid: string): string {
  return createHash('sha256')
    .update(`tenant-session:handle:${sid}`)
    .digest('base64url')
    .slice(0, 22);
}
