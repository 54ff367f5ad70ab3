/**
 * Lua scripts of the per-user index; each touches one index key (Redis Cluster safe), except
 * READ (session-scripts.ts), which a single Redis or Sentinel's primary runs, and reads time from the
 * Redis server (TIME), so no decision depends on app instances' clocks agreeing.
 *
 * An index is a sorted set: member sid, score "indexed until" (a lease, ms). One reserved member,
 * NOT_BEFORE, holds the time of the user's last revocation: a login that began before it is
 * refused, and it is kept NOT_BEFORE_RETENTION_MS, past which any login that could have begun
 * before it is refused for its age alone (for adopted sessions, until the adoption window ends:
 * KEPT_UNTIL_MEMBER). Entries past their lease are dead sessions', dropped on each write (`tidy`).
 *
 * The invariant these scripts keep (docs/guarantees.md): a session serves only while its user's
 * index holds its entry with a live lease. ADMIT (a login) and ADOPT (a legacy session, dated
 * before every revocation) alone create an entry; a revocation, a logout or the lease's end
 * alone removes one; a renewal (READ, LEASE) only extends an entry still there.
 */

/** The stored JSON's owner field (session-codec.ts writes it, last). */
export const OWNER_FIELD = '_owner';
/** A member that can never be a session id (ids are base64url, with an optional `.suffix`). */
export const NOT_BEFORE_MEMBER = '!not-before';

/** Scored with the adoption window's end by a revocation: keeps key and not-before till then. */
export const KEPT_UNTIL_MEMBER = '!kept-until';
/** Reserved members start with this; session ids never do. */
export const RESERVED_MEMBER_MARK = '!';

/** How long a revocation's not-before is kept, and so the longest a login may take to store. */
export const NOT_BEFORE_RETENTION_MS = 10 * 60 * 1000;

const PRELUDE = `
local NB = '${NOT_BEFORE_MEMBER}'
local t = redis.call('TIME')
-- Milliseconds with microsecond precision: a login that begins right after a revocation is
-- told apart from one that began right before it.
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
-- tidy runs first in every writing script: with memory full (noeviction) Redis lets a script
-- write only after a write that frees memory, so the ZREMRANGEBYSCORE here is what lets a
-- revocation record its not-before on a full Redis.
local function tidy(key)
  local nb = redis.call('ZSCORE', key, NB)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if nb then
    redis.call('ZADD', key, nb, NB)
    return tonumber(nb)
  end
  return nil
end
-- Members that are no session (the not-before, the kept-until).
local function reserved(m) return string.sub(m, 1, 1) == '${RESERVED_MEMBER_MARK}' end
local function expire(key, nb)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local at = 0
  if top[2] then at = tonumber(top[2]) end
  if nb then at = math.max(at, nb + ${NOT_BEFORE_RETENTION_MS}) end
  if at > now then redis.call('PEXPIREAT', key, math.ceil(at)) end
end
-- When a login began, by the earlier of: \`ago\` ms before this runs (the app measured it before
-- sending, so a command that waited in transit would date the login later than it began), and
-- \`at\`, the app's estimate of this clock then.
local function beganAt(ago, at)
  return math.min(now - tonumber(ago), tonumber(at))
end
-- The live lease of sid in the index, extended to now + leaseMs when less than belowMs is left;
-- false when the index holds no live entry for it (never added back: XX). read: ZSCORE's reply.
local function keep(key, sid, leaseMs, belowMs, read)
  local lease = tonumber(read == nil and redis.call('ZSCORE', key, sid) or read)
  if not lease or lease <= now then return false end
  if lease >= now + belowMs then return lease end
  local nb = tidy(key)
  lease = math.floor(now + leaseMs)
  redis.call('ZADD', key, 'XX', 'GT', lease, sid)
  expire(key, nb)
  return tonumber(redis.call('ZSCORE', key, sid))
end
-- Adds sid's entry (ADMIT, ADOPT): {1, now, lease, entries}, entries = the index's sessions.
local function enter(key, sid, leaseMs, nb)
  local lease = math.floor(now + tonumber(leaseMs))
  redis.call('ZADD', key, 'GT', lease, sid)
  expire(key, nb)
  local entries = redis.call('ZCARD', key)
  if nb then entries = entries - 1 end
  if redis.call('ZSCORE', key, '${KEPT_UNTIL_MEMBER}') then entries = entries - 1 end
  return {1, now, lease, entries}
end
`;

/**
 * Indexes a session whose identity just appeared (a login), unless a revocation of that user
 * happened since the login began. KEYS[1] index; ARGV[1] sid, ARGV[2] lease length (ms),
 * ARGV[3] how long before sending the login began, ARGV[4] when it began by the app's estimate
 * of this clock (see `began`). Returns {1, now, lease, entries} or {0, now};
 * entries = how many live entries the index now holds, this one included (the cap reads it).
 */
export const ADMIT = script(
  'admit',
  `
local began = beganAt(ARGV[3], ARGV[4])
if now - began > ${NOT_BEFORE_RETENTION_MS} then return {0, now} end
local nb = tidy(KEYS[1])
if nb and nb >= began then return {0, now} end
return enter(KEYS[1], ARGV[1], ARGV[2], nb)
`,
);

/**
 * Indexes a legacy session (an identity, no owner), dated before every revocation: refused while
 * the index keeps a not-before, or once the window has ended. Idempotent. KEYS[1] index; ARGV[1]
 * sid, ARGV[2] lease length (ms), ARGV[3] the window's end (ms, this clock). Replies as ADMIT.
 */
export const ADOPT = script(
  'adopt',
  `
if now >= tonumber(ARGV[3]) then return {0, now} end
local nb = tidy(KEYS[1])
if nb then return {0, now} end
return enter(KEYS[1], ARGV[1], ARGV[2], nb)
`,
);

/**
 * After the session of a login was stored: is it still indexed, with no revocation since the
 * login began? KEYS[1] index; ARGV[1] sid, ARGV[2] and ARGV[3] when the login began (as ADMIT's
 * ARGV[3] and ARGV[4]). 1 or 0.
 */
export const CONFIRM = script(
  'confirm',
  `
local nb = redis.call('ZSCORE', KEYS[1], NB)
if nb and tonumber(nb) >= beganAt(ARGV[2], ARGV[3]) then return 0 end
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
if lease and tonumber(lease) > now then return 1 end
return 0
`,
);

/**
 * A session's entry: its live lease, extended when it runs low (see `keep`), or false when the
 * index no longer admits the session. KEYS[1] index; ARGV[1] sid, ARGV[2] lease length (ms),
 * ARGV[3] extend when less than this is left (ms).
 */
export const LEASE = script(
  'lease',
  `
return keep(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
`,
);

/**
 * This clock's time (ms, as text), then the index's live entries, flat [sid, lease, ...], the
 * reserved members included. With ARGV[1] = '1' first records a revocation: not-before = now
 * (never moved back), kept at least until ARGV[2] (ms, '0' for the usual retention: see
 * KEPT_UNTIL_MEMBER). KEYS[1] index.
 * Entries are never removed here: a revocation deletes the sessions first, then the entries, so
 * an interrupted one leaves everything findable for a retry.
 */
export const ENTRIES = script(
  'entries',
  `
local nb = tidy(KEYS[1])
if ARGV[1] == '1' then
  if not nb or nb < now then nb = now end
  redis.call('ZADD', KEYS[1], nb, NB)
  local keep = tonumber(ARGV[2])
  if keep > now then redis.call('ZADD', KEYS[1], 'GT', keep, '${KEPT_UNTIL_MEMBER}') end
  expire(KEYS[1], nb)
end
local flat = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
table.insert(flat, 1, string.format('%.3f', now))
return flat
`,
);

/**
 * One page of the index's live entries in (lease, digest) order, where digest = SHA-1 of the
 * sid, after the position (lease, digest) of the previous page's last entry: read only, and
 * O(log N + limit) whatever the index holds. A position names no session id (the digest of a
 * random id is no credential), and stays meaningful after its own entry is gone: entries only
 * ever move forward (a lease is never lowered), so an entry present for a whole walk is paged
 * at least once. KEYS[1] index; ARGV[1] limit (at least 1); ARGV[2] the previous
 * page's lease ('' for the first page); ARGV[3] its digest. Returns {count, more (1 or 0),
 * last lease, last digest, sid, lease, ...}, count = live entries, the not-before excluded.
 */
export const PAGE = script(
  'page',
  `
local limit = tonumber(ARGV[1])
local count = redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
local nb = redis.call('ZSCORE', KEYS[1], NB)
-- A not-before normally lies in the past; one recorded by a clock that ran ahead does not.
if nb and tonumber(nb) > now then count = count - 1 end
local kept = redis.call('ZSCORE', KEYS[1], '${KEPT_UNTIL_MEMBER}')
if kept and tonumber(kept) > now then count = count - 1 end
local function row(sid, lease) return {sid, lease, redis.sha1hex(sid)} end
-- The members sharing one lease, in digest order: Redis orders them by sid, which a position
-- cannot name.
local function band(lease, after)
  local rows = {}
  for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], lease, lease, 'BYSCORE')) do
    local r = row(sid, lease)
    if not reserved(sid) and (after == nil or r[3] > after) then rows[#rows + 1] = r end
  end
  table.sort(rows, function(a, b) return a[3] < b[3] end)
  return rows
end
local page = {}
local from = '(' .. now
if ARGV[2] ~= '' and tonumber(ARGV[2]) > now then
  page = band(ARGV[2], ARGV[3])
  from = '(' .. ARGV[2]
end
local more = #page > limit
while #page > limit do table.remove(page) end
if not more then
  local need = limit - #page
  local flat = redis.call('ZRANGE', KEYS[1], from, '+inf', 'BYSCORE', 'LIMIT', 0, need + 2,
    'WITHSCORES')
  local rest = {}
  for i = 1, #flat, 2 do
    if not reserved(flat[i]) then rest[#rest + 1] = row(flat[i], flat[i + 1]) end
  end
  if #rest > need then
    more = true
    local edge = need > 0 and rest[need][2]
    if edge and rest[need + 1][2] == edge then
      -- The page ends inside a band: which of its members it holds goes by digest.
      local first = need
      while first > 1 and rest[first - 1][2] == edge do first = first - 1 end
      local ordered = band(edge, nil)
      for i = first, need do rest[i] = ordered[i - first + 1] end
    end
  end
  for i = 1, math.min(need, #rest) do page[#page + 1] = rest[i] end
end
table.sort(page, function(a, b)
  local x, y = tonumber(a[2]), tonumber(b[2])
  if x ~= y then return x < y end
  return a[3] < b[3]
end)
local last = page[#page]
local reply = {count, more and 1 or 0, last and last[2] or '', last and last[3] or ''}
for _, r in ipairs(page) do
  reply[#reply + 1] = r[1]
  reply[#reply + 1] = r[2]
end
return reply
`,
);

/**
 * A script on the index, with the PRELUDE's clock and rules; named in its first line, so MONITOR
 * and SCRIPT logs show which one ran.
 */
export function script(name: string, body: string): string {
  return `-- tenant-session:${name}${PRELUDE}${body}`;
}
