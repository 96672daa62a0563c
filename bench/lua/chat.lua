-- POST /api/chat (character chats, offline responder). $CHARACTER_ID is required.
-- $CHAT_ID set: every request appends to that one chat (it grows by 2 messages a request);
-- empty: every request creates a new chat. $TOKENS (comma-separated) rotates the bearer
-- token per request, so new chats spread over many users (each user keeps only 30 chats);
-- otherwise $TOKEN (common.lua) is used.
dofile(os.getenv("LUA_DIR") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local chat_id = os.getenv("CHAT_ID") or ""
local char_id = os.getenv("CHARACTER_ID") or "1"
local msg = "Tell me about the lighthouse on the hill and the keeper who lives there."
if chat_id ~= "" then
  wrk.body = string.format('{"chat_id":"%s","character_id":%s,"message":"%s"}', chat_id, char_id, msg)
else
  wrk.body = string.format('{"character_id":%s,"message":"%s"}', char_id, msg)
end

local tokens = {}
for t in string.gmatch(os.getenv("TOKENS") or "", "[^,]+") do tokens[#tokens + 1] = t end
local seq = 0
if #tokens > 0 then
  function request()
    seq = seq + 1
    wrk.headers["Authorization"] = "Bearer " .. tokens[(seq % #tokens) + 1]
    return wrk.format()
  end
end
