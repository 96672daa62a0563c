-- POST /api/v1/chat-threads/{id}/messages spread round-robin over the ids in $THREAD_IDS
-- (comma-separated), so each thread stays near its starting size during the run.
-- Uses peer-bench's common.lua ($LUA_DIR) for the auth header and the RESULT line.
dofile(os.getenv("LUA_DIR") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local counter = 0
local threads = {}
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local ids = {}
for id in string.gmatch(os.getenv("THREAD_IDS") or "", "%d+") do ids[#ids + 1] = id end
local pad = string.rep("lorem ipsum dolor sit amet ", 8)
local seq = 0
ok2xx = 0

function request()
  seq = seq + 1
  -- offset per wrk thread so two threads do not walk the ids in lockstep
  local id = ids[((seq + (tid or 0) * 7919) % #ids) + 1]
  local body = string.format('{"role":"user","content":"many-%d-%d %s"}', tid or 0, seq, pad)
  return wrk.format(nil, "/api/v1/chat-threads/" .. id .. "/messages", nil, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok2xx = ok2xx + 1 end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("ok2xx") end
  report(summary, latency, string.format(" ok2xx=%d", n))
end
