/** Lua: issue the next number of a conversation below its reserved ceiling. */
export const nextScript = `
--[[
  next-1: issues the next sequence number of one conversation.

  Numbers are issued only below the ceiling, and the ceiling is only ever set to a
  value already committed in MySQL (sequence_reservations.reserved_until), so every
  number issued is covered by a durable reservation.

  KEYS[1]  sequence hash (RedisKeys.sequence): cur = last number issued,
           ceil = highest number that may be issued
  ARGV[1]  idle TTL in ms; 0 keeps the hash forever

  Returns
    n > 0  the number issued (cur is now n)
    -1     NO_STATE: the hash is missing or incomplete (new conversation, or Redis lost
           it) - recover from MySQL under the row lock
    -2     EXHAUSTED: cur has reached ceil - reserve a block in MySQL, then raise
]]
local v = redis.call('HMGET', KEYS[1], 'cur', 'ceil')
local cur = tonumber(v[1])
local ceil = tonumber(v[2])
if cur == nil or ceil == nil then
  return -1
end
if cur >= ceil then
  return -2
end
local n = redis.call('HINCRBY', KEYS[1], 'cur', 1)
if ARGV[1] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`;
