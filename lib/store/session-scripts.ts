/**
 * Lua scripts on one session key alone (Redis Cluster safe); the index's scripts are in
 * scripts.ts. Named in their first line, as those are, so MONITOR and SCRIPT logs show which ran.
 */

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
