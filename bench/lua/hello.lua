-- The baseline: GET /hello on the hello-world server.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local prepared
function init(args) prepared = wrk.format("GET", "/hello") end
function request() return prepared end
function response(status) tally(status, 200) end
