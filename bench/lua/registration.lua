-- Complete API registrations with a new address each: GET /self-service/registration/api,
-- then POST traits and password. Only the POST answers count (200: identity and session).
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local password = os.getenv("BENCH_PASSWORD")
local flow = nil
local sequence = 0
local start

function init(args)
  math.randomseed(os.time() + (thread_number or 0) * 7919)
  start = wrk.format("GET", "/self-service/registration/api", { Accept = "application/json" })
end

function request()
  if flow == nil then return start end
  sequence = sequence + 1
  local email = string.format("new-%d-%d-%d@example.org", thread_number or 0, sequence,
    math.random(1000000000))
  local body = string.format('{"method":"password","password":"%s","traits":{"email":"%s"}}',
    password, email)
  return wrk.format("POST", "/self-service/registration?flow=" .. flow,
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
