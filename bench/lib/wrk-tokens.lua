-- wrk script of the HTTP benchmark (bench/lib/wrk.ts): every request carries the bearer
-- token of the next line of a file (one token per line), so the load spreads over many
-- users as real clients do; done() prints the figures as one JSON line for the bench.
--   wrk -s wrk-tokens.lua URL -- <path> <tokens-file>
local requests = {}
local n = 0

function init(args)
  local path, file = args[1], args[2]
  for token in io.lines(file) do
    requests[#requests + 1] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
  end
  -- Threads start at different places of the list (math.random is seeded per thread).
  n = math.random(#requests) - 1
end

function request()
  n = n % #requests + 1
  return requests[n]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,' ..
      '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
