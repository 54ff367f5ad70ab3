/**
 * Lua scripts; each touches exactly one key (Redis Cluster safe). Scores and expiries are
 * passed through as strings so Lua's number formatting never rounds a millisecond timestamp.
 */

/**
 * Adds or renews an index entry and keeps the index tidy.
 * KEYS[1] index; ARGV[1] sid, ARGV[2] indexed-until (ms), ARGV[3] now (ms).
 * Drops entries whose lease has passed (their sessions are dead), raises the entry's score
 * (never lowers it), and lets the key expire with its highest lease.
 */
export const INDEX_SESSION = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1
`;

/**
 * Empties an index in one step and returns every sid it held.
 * KEYS[1] index; ARGV[1] a sid to keep ('' for none), with its score and the key's TTL.
 */
export const DRAIN_INDEX = `
local sids = redis.call('ZRANGE', KEYS[1], 0, -1)
local keepScore = false
if ARGV[1] ~= '' then keepScore = redis.call('ZSCORE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
if keepScore then
  redis.call('ZADD', KEYS[1], keepScore, ARGV[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
end
return sids
`;
