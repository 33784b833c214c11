-- GET /self-service/login/api: a new API login flow per request.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local prepared
function init(args)
  prepared = wrk.format("GET", "/self-service/login/api", { Accept = "application/json" })
end
function request() return prepared end
function response(status) tally(status, 200) end
