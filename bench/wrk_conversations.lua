-- wrk script: help-desk conversations of 10 turns on the REST channel, each sender's turns
-- spaced one round of the connections apart (so one sender is rarely in flight twice).
-- Run: wrk -t1 -c32 -d30s --latency -s bench/wrk_conversations.lua URL
-- Prints one JSON line at the end (requests/s, latency percentiles in ms, errors).
local script = {"hi", "how do I connect to the vpn", "my printer is not working", "thanks", "bye"}
local connections = 32
local turns = 10
local counter = 0
local run = tostring(math.random(1, 1e9))

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
  if args[1] then connections = tonumber(args[1]) end
end

request = function()
  local slot = counter % connections
  local round = math.floor(counter / connections)
  local conversation = math.floor(round / turns)
  local text = script[(round % turns) % #script + 1]
  counter = counter + 1
  local body = '{"sender":"wrk-' .. run .. '-' .. slot .. '-' .. conversation .. '","message":"' .. text .. '"}'
  return wrk.format(nil, nil, nil, body)
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "msgs_per_s": %.1f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    errors, summary.errors.status))
end
