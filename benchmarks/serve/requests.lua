-- wrk script for aisle-serve's load test: POSTs /v1/recommend bodies read
-- from BODIES_FILE (one JSON body a line: real users and histories drawn
-- from the data), each connection walking the list from its own offset,
-- and prints one JSON line of results at the end (WRK_RESULT {...}).
-- A line "SHOPPER<TAB>BODY" also sends "X-Aisle-User: SHOPPER", on which a
-- load balancer keeps the shopper on one replica (scripts/serve-cluster).

local bodies = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("BODIES_FILE")
  if path and path ~= "" then
    for line in io.lines(path) do
      local shopper, body = line:match("^([^\t]*)\t(.*)$")
      if shopper then
        table.insert(bodies, {body = body, headers = {["Content-Type"] = "application/json", ["X-Aisle-User"] = shopper}})
      else
        table.insert(bodies, {body = line, headers = {["Content-Type"] = "application/json"}})
      end
    end
  end
  next_body = math.random(1, math.max(#bodies, 1))
  non_2xx = 0
end

function request()
  if #bodies == 0 then return wrk.format("GET") end
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, bodies[next_body].headers, bodies[next_body].body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then non_2xx = non_2xx + 1 end
end

function done(summary, latency, requests)
  local bad_status = 0
  for _, thread in ipairs(threads) do bad_status = bad_status + (thread:get("non_2xx") or 0) end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_s": %.3f, "rps": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, ' ..
    '"max_ms": %.3f, "errors": %d, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    bad_status + e.connect + e.read + e.write + e.timeout, bad_status, e.connect + e.read + e.write + e.timeout))
end
