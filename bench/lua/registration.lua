-- Complete API registrations with a new address each: GET /self-service/registration/api,
-- then POST traits and password. Only the POST answers count (200: identity and session).
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local password = os.getenv("BENCH_PASSWORD")
local sequence = 0

function init(args)
  math.randomseed(os.time() + (thread_number or 0) * 7919)
end

local function body()
  sequence = sequence + 1
  local email = string.format("new-%d-%d-%d@example.org", thread_number or 0, sequence,
    math.random(1000000000))
  return string.format('{"method":"password","password":"%s","traits":{"email":"%s"}}',
    password, email)
end

function request() return flow_request("registration", body) end
function response(status, headers, answer) flow_step(status, answer) end
