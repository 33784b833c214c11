-- GET /sessions/whoami with a random seeded session, as X-Session-Token (BENCH_CARRIER=header),
-- as the session cookie (cookie), or with a well-formed token nobody holds (invalid).
-- BENCH_DELAY_MS paces each connection (for the latency run at a fixed rate).
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local carrier = os.getenv("BENCH_CARRIER") or "header"
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local prepared = {}
local expected = 200

function init(args)
  math.randomseed(os.time() + (thread_number or 0) * 7919)
  if carrier == "invalid" then
    expected = 401
    for i = 1, 1000 do
      local token = string.format("clv_st_%032d", i)
      prepared[i] = wrk.format("GET", "/sessions/whoami", { ["X-Session-Token"] = token })
    end
    return
  end
  local file = carrier == "cookie" and "BENCH_COOKIES" or "BENCH_TOKENS"
  local header = carrier == "cookie" and "Cookie" or "X-Session-Token"
  for i, value in ipairs(lines_of(file)) do
    prepared[i] = wrk.format("GET", "/sessions/whoami", { [header] = value })
  end
end

function request() return prepared[math.random(#prepared)] end
function response(status) tally(status, expected) end
if pause > 0 then
  function delay() return pause end
end
