-- POST /api/chat (character chats, offline responder). $CHARACTER_ID is required;
-- $CHAT_ID set: every request appends to that one chat; empty: every request creates a chat.
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
