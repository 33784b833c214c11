-- Complete API password logins: GET /self-service/login/api, then POST the password to the
-- flow. One connection per thread, so each answer belongs to the request before it. Only the
-- POST answers count; a login is completed when it answers 200 with a session.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local identities = {}
local password = os.getenv("BENCH_PASSWORD")

function init(args)
  math.randomseed(os.time() + (thread_number or 0) * 7919)
  identities = lines_of("BENCH_IDENTITIES")
end

local function body()
  return string.format('{"method":"password","identifier":"%s","password":"%s"}',
    identities[math.random(#identities)], password)
end

function request() return flow_request("login", body) end
function response(status, headers, answer) flow_step(status, answer) end
