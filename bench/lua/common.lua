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
