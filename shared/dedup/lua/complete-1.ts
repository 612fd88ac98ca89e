/** Lua: record a claimed msg_id's outcome (first outcome wins). */
export const completeScript = `
--[[
  complete-1: turns a claim into COMPLETED with its outcome and the full TTL. The first
  outcome stored is kept: a later completion (e.g. by a router that took over an
  expired claim) gets the stored one back instead of overwriting it.

  KEYS[1]  claim hash (RedisKeys.messageClaim)
  ARGV[1]  fingerprint of the request
  ARGV[2]  outcome (JSON)
  ARGV[3]  completed TTL in ms (MESSAGE_TTL)

  Returns {code, payload}
    { 1, ARGV[2]}  STORED (also when the claim had already expired: the work is done,
                   so retries must see it)
    { 0, outcome}  ALREADY_COMPLETED: the earlier outcome, unchanged
    {-1, ''}       CONFLICT: the record belongs to a different fingerprint
]]
local v = redis.call('HMGET', KEYS[1], 's', 'fp', 'out')
if v[1] and v[2] ~= ARGV[1] then
  return {-1, ''}
end
if v[1] == 'C' then
  return {0, v[3] or ''}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 's', 'C', 'fp', ARGV[1], 'out', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, ARGV[2]}
`;
