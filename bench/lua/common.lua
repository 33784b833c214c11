-- Shared by every scenario: each thread counts the answers with the status its scenario
-- expects, and `done` prints one JSON line that bench/run records.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

completed = 0
unexpected = 0

-- Counts one answer; `expected` is the status a successful request gets.
function tally(status, expected)
  if status == expected then
    completed = completed + 1
  else
    unexpected = unexpected + 1
  end
end

-- Two-step scenarios (start a flow, then submit it): `flow` is the id of the flow waiting for
-- its submission, nil when the next request starts a new one. Only submissions are tallied.
flow = nil

function flow_step(status, body)
  if flow == nil then
    flow = status == 200 and string.match(body, '"id":"([^"]+)"') or nil
    if flow == nil then unexpected = unexpected + 1 end
  else
    flow = nil
    tally(status, 200)
  end
end

-- The request that starts a flow of `kind`, or submits the waiting one with `body()`.
function flow_request(kind, body)
  if flow == nil then
    return wrk.format("GET", "/self-service/" .. kind .. "/api", { Accept = "application/json" })
  end
  return wrk.format("POST", "/self-service/" .. kind .. "?flow=" .. flow,
    { ["Content-Type"] = "application/json", Accept = "application/json" }, body())
end

-- The non-empty lines of a file named by an environment variable.
function lines_of(variable)
  local path = os.getenv(variable)
  local found = {}
  if path then
    for line in io.lines(path) do
      if line ~= "" then table.insert(found, line) end
    end
  end
  if #found == 0 then error(variable .. " names no file with lines") end
  return found
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + (thread:get("completed") or 0)
    bad = bad + (thread:get("unexpected") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"completed":%d,"unexpected":%d,"socket_errors":%d,"duration_us":%d,"p50_us":%.1f,"p99_us":%.1f}\n',
    summary.requests, ok, bad, e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
