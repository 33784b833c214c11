-- Complete API password logins: GET /self-service/login/api, then POST the password to the
-- flow. One connection per thread, so each answer belongs to the request before it. Only the
-- POST answers count; a login is completed when it answers 200 with a session.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local identities = {}
local password = os.getenv("BENCH_PASSWORD")
local flow = nil
local start

function init(args)
  math.randomseed(os.time() + (thread_number or 0) * 7919)
  identities = lines_of("BENCH_IDENTITIES")
  start = wrk.format("GET", "/self-service/login/api", { Accept = "application/json" })
end

function request()
  if flow == nil then return start end
  local body = string.format('{"method":"password","identifier":"%s","password":"%s"}',
    identities[math.random(#identities)], password)
  return wrk.format("POST", "/self-service/login?flow=" .. flow,
    { ["Content-Type"] = "application/json", Accept = "application/json" }, body)
end

function response(status, headers, body)
  if flow == nil then
    flow = status == 200 and string.match(body, '"id":"([^"]+)"') or nil
    if flow == nil then unexpected = unexpected + 1 end
  else
    flow = nil
    tally(status, 200)
  end
end
