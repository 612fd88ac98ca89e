/** Lua: raise a conversation's ceiling to a block just committed in MySQL. */
export const raiseScript = `
--[[
  raise-1: raises the ceiling of an existing sequence hash after a reservation has
  been committed in MySQL. Never creates the hash and never touches cur: a missing hash
  means Redis lost the state, and only the locked recovery (init-1) may recreate it -
  a reservation taken before the loss would otherwise restart the counter too low.

  KEYS[1]  sequence hash (RedisKeys.sequence)
  ARGV[1]  the committed reserved_until (decimal string, stored as given so Lua's
           number formatting never rewrites it)
  ARGV[2]  idle TTL in ms; 0 keeps the hash forever

  Returns
    cur >= 0  the hash's cur after raising ceil to max(ceil, ARGV[1]); the caller
              reserves again above cur if cur >= ARGV[1] (the MySQL row was behind)
    -1        NO_STATE: the hash is missing or incomplete - recover
]]
local v = redis.call('HMGET', KEYS[1], 'cur', 'ceil')
local cur = tonumber(v[1])
local ceil = tonumber(v[2])
if cur == nil or ceil == nil then
  return -1
end
if tonumber(ARGV[1]) > ceil then
  redis.call('HSET', KEYS[1], 'ceil', ARGV[1])
end
if ARGV[2] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return cur
`;
