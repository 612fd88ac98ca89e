/** Lua: claim a msg_id for one stage, or report what an earlier claim left. */
export const claimScript = `
--[[
  claim-1: the first caller of a (scope, msg_id) claims it; later callers learn the
  state the first one left.

  KEYS[1]  claim hash (RedisKeys.messageClaim): s = P (in progress) | C (completed),
           fp = request fingerprint, tok = claim token, out = stored outcome (JSON)
  ARGV[1]  fingerprint of this request
  ARGV[2]  token for a new claim
  ARGV[3]  in-progress TTL in ms (a crashed owner's claim expires after it)

  Returns {code, payload}
    { 1, ''}       CLAIMED: record created in progress with ARGV[2] as its token
    { 2, ''}       IN_PROGRESS: someone else holds the claim
    { 3, outcome}  COMPLETED: the first request's stored outcome
    {-1, ''}       CONFLICT: same msg_id, different fingerprint
]]
local v = redis.call('HMGET', KEYS[1], 's', 'fp', 'out')
if not v[1] then
  redis.call('HSET', KEYS[1], 's', 'P', 'fp', ARGV[1], 'tok', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1, ''}
end
if v[2] ~= ARGV[1] then
  return {-1, ''}
end
if v[1] == 'C' then
  return {3, v[3] or ''}
end
return {2, ''}
`;
