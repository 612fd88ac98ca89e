/** Lua: issue the next number of each listed conversation, below its reserved ceiling. */
export const nextManyScript = `
--[[
  next-many: issues one sequence number per listed key, in list order (a key may be
  listed several times). One script call serves every request a process has queued
  in the same event-loop turn: one command and one round trip for the whole batch.

  Numbers are issued only below the ceiling, and the ceiling is only ever set to a
  value already committed in MySQL (sequence_reservations.reserved_until), so every
  number issued is covered by a durable reservation.

  KEYS[1..n]  sequence hashes (RedisKeys.sequence): cur = last number issued,
              ceil = highest number that may be issued. All on one Redis node: with
              Redis Cluster use batches of one (maxBatch 1).
  ARGV[1]     idle TTL in ms; '0' keeps the hashes forever

  Returns an array, one entry per key:
    n > 0  the number issued (cur is now n)
    -1     NO_STATE: the hash is missing or incomplete (new conversation, or Redis lost
           it) - recover from MySQL under the row lock
    -2     EXHAUSTED: cur has reached ceil - reserve a block in MySQL, then raise
]]
local ttl = ARGV[1]
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local v = redis.call('HMGET', key, 'cur', 'ceil')
  local cur = tonumber(v[1])
  local ceil = tonumber(v[2])
  if cur == nil or ceil == nil then
    out[i] = -1
  elseif cur >= ceil then
    out[i] = -2
  else
    out[i] = redis.call('HINCRBY', key, 'cur', 1)
    if ttl ~= '0' then
      redis.call('PEXPIRE', key, ttl)
    end
  end
end
return out
`;
