/** Lua: recreate a lost sequence hash, run while the MySQL reservation row is locked. */
export const initScript = `
--[[
  init-1: recreates a conversation's sequence hash after Redis lost it (or for a new
  conversation). The caller holds the MySQL row lock of sequence_reservations and
  passes the committed reserved_until (the value before its own uncommitted block):
  every number ever issued is <= it, and no reservation can commit while the lock is
  held, so cur = ceil = that value is safe. The transaction's own block becomes usable only after its commit (raise-1).

  KEYS[1]  sequence hash (RedisKeys.sequence)
  ARGV[1]  committed reserved_until, read under the row lock (decimal string)
  ARGV[2]  idle TTL in ms; 0 keeps the hash forever

  Returns
    1  created (cur = ceil = ARGV[1])
    0  already present and complete (someone else recovered it): nothing changed
]]
local v = redis.call('HMGET', KEYS[1], 'cur', 'ceil')
if tonumber(v[1]) ~= nil and tonumber(v[2]) ~= nil then
  return 0
end
redis.call('HSET', KEYS[1], 'cur', ARGV[1], 'ceil', ARGV[1])
if ARGV[2] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
`;
