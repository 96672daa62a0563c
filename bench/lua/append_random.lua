-- POST /api/v1/chat-threads/{id}/messages, each request to a random one of the ids in
-- $THREAD_IDS (comma-separated; one id: every connection appends to that hot thread).
-- Messages are English-like text of ~250 bytes (the search bench's mean), different each time.
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
local words = {"the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "was", "for",
  "search", "index", "message", "thread", "append", "write", "ahead", "log", "keeps", "every",
  "acknowledged", "change", "safe", "across", "crash", "while", "reader", "sees", "snapshot",
  "plourn", "vesh", "tramolit", "kesperand", "driaflon", "moch", "gelistre", "pruvan", "zodeck"}
local seq = 0
ok2xx = 0

function init(args)
  math.randomseed(os.time() + (tid or 0) * 7919)
end

local function text(n)
  local t = {}
  for i = 1, n do t[i] = words[math.random(#words)] end
  return table.concat(t, " ")
end

function request()
  seq = seq + 1
  local id = ids[math.random(#ids)]
  local body = string.format('{"role":"user","content":"r%d-%d %s"}', tid or 0, seq, text(45))
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
