/** Lua: drop an in-progress claim after a failure so that a retry can proceed. */
export const releaseScript = `
--[[
  release-1: deletes an IN_PROGRESS claim. A COMPLETED record is never deleted (that
  would let a retry deliver twice). With a token, only that claim is released, so a
  router whose claim expired cannot release the claim of the router that took over.

  KEYS[1]  claim hash (RedisKeys.messageClaim)
  ARGV[1]  claim token, or '' to release whichever claim is in progress

  Returns
    1  released
    0  nothing released (absent, completed, or held by another token)
]]
local v = redis.call('HMGET', KEYS[1], 's', 'tok')
if v[1] ~= 'P' then
  return 0
end
if ARGV[1] ~= '' and v[2] ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
`;
