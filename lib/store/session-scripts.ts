/**
 * Lua scripts on a session key (KEYS[1]): READ, a request's read, which also reads its owner's
 * index entry on a single Redis or Sentinel's primary (a Cluster reads them in two steps), built
 * on the index scripts' PRELUDE (scripts.ts) for its clock and lease rule (`keep`); and a
 * logout's DELETE_IF_UNCHANGED, on the session key alone (Redis Cluster safe). Named in their
 * first line, as the index's are, so MONITOR and SCRIPT logs show which ran.
 */
import { OWNER_FIELD, script } from './scripts.js';

/**
 * A session read and, in the same step, the index entry of the user its stored owner names, so
 * a logged-in read stays one command. KEYS[1] session key; ARGV[1] TTL restart: 'always' (to
 * ARGV[2] ms, as GETEX PX, or at ARGV[8] when given, as PXAT: see Expiry), 'ran-down' (only when
 * less than ARGV[2] - ARGV[3] ms is left: instances sharing a session do not keep rewriting it)
 * or 'never'; ARGV[4] index prefix; ARGV[5] sid; ARGV[6] lease length and ARGV[7] renew-below
 * (ms, see `keep`). Returns {value, TTL left (ms, -1 none), owner's user id, lease}, {false, -2}
 * when there is no session (or it expired at ARGV[8]), false for the user id when the value names
 * no owner this script can read or the index key is of another type (the caller then checks the
 * index itself), false for the lease when the index does not admit it.
 *
 * The user id is found as text, not by decoding the JSON: the owner is written last, so its last
 * occurrence is taken, and one with an escape is left to the caller. It is only a guess: the
 * caller verifies the owner's seal and uses the entry only when the names match. The index key is
 * built here, not passed in KEYS, which a single Redis allows; a Cluster cannot (another slot),
 * and reads there check the index in a second step.
 */
export const READ = script(
  'read',
  `
local value = redis.call('GET', KEYS[1])
if not value then return {false, -2} end
local mode, ttl, at = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[8])
local left = mode == 'always' and ttl or redis.call('PTTL', KEYS[1])
if mode == 'always' or (mode == 'ran-down' and (left < 0 or left < ttl - tonumber(ARGV[3]))) then
  if at then redis.call('PEXPIREAT', KEYS[1], at) else redis.call('PEXPIRE', KEYS[1], ttl) end
  left = at and math.floor(at - now) or ttl
  if left <= 0 then return {false, -2} end
end
local marker, from, found = '"${OWNER_FIELD}":{"userId":"', 1, nil
while true do
  local s, e = string.find(value, marker, from, true)
  if not s then break end
  found, from = e, e + 1
end
if not found then return {value, left, false, false} end
local close = string.find(value, '"', found + 1, true)
local user = close and string.sub(value, found + 1, close - 1)
if not user or user == '' or string.find(user, '\\\\', 1, true) then
  return {value, left, false, false}
end
local key = ARGV[4] .. user
local lease = redis.pcall('ZSCORE', key, ARGV[5])
if type(lease) == 'table' then return {value, left, false, false} end
return {value, left, user, keep(key, ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), lease)}
`,
);

/**
 * Deletes a session only while it holds the value a logout read (and unindexed the owner of),
 * so a value written in between is never deleted unseen. KEYS[1] session key; ARGV[1] the value.
 * Returns 1 when deleted, else what the key holds now: its value, or nil when it is gone.
 */
export const DELETE_IF_UNCHANGED = `-- tenant-session:delete-if-unchanged
local value = redis.call('GET', KEYS[1])
if value ~= ARGV[1] then return value end
redis.call('DEL', KEYS[1])
return 1
`;
