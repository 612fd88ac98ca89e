/**
 * Runs a one-key Lua script for many keys in one EVALSHA: the script's own text becomes
 * a local function of (KEYS, ARGV), so the batched form can never drift from the single
 * one. Each key's call is protected (pcall): a failing entry answers an error reply in
 * its own place (ioredis hands it over as an Error) and the others still run.
 *
 * Call shape: numberOfKeys = n, KEYS = the n keys, ARGV = [argsPerKey, args of key 1...,
 * args of key 2..., ...]. The reply has one entry per key, in order. All keys must live
 * on one Redis node (no Redis Cluster slots are checked here).
 */

export function manyScript(single: string): string {
  return `
local function one(KEYS, ARGV)
${single}
end
local per = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local args = {}
  local base = 1 + (i - 1) * per
  for j = 1, per do args[j] = ARGV[base + j] end
  local ok, res = pcall(one, {KEYS[i]}, args)
  if ok then
    out[i] = res
  else
    out[i] = redis.error_reply(type(res) == 'table' and res.err or tostring(res))
  end
end
return out
`;
}

/** Flattens per-key calls into the argument list manyScript expects (after numberOfKeys). */
export function manyArgs(calls: readonly { key: string; args: readonly (string | number)[] }[]): (string | number)[] {
  const per = calls[0]?.args.length ?? 0;
  const out: (string | number)[] = calls.map((c) => c.key);
  out.push(per);
  for (const c of calls) {
    if (c.args.length !== per) throw new Error('manyArgs: every call needs the same number of arguments');
    for (const a of c.args) out.push(a);
  }
  return out;
}
