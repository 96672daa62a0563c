"""Import: POST /api/v1/import (contract v2: "Export and import"), on the real binary and file.

The real export files of ChatGPT, Claude, Open WebUI, LibreChat, chatbot-ui and SillyTavern in
../shared/formats are imported as they are: the format is detected, the current branch of a
tree is what is kept, text only (what is skipped is counted in errors with a reason), original
times kept, and sending a file again imports nothing twice. A chatvault export imported into a
fresh account gives back the same threads, chats, personas and characters. Bad input is a
clear 4xx and loses nothing; a truncated upload keeps the conversations before the cut and a
resend completes it; one user's import is never another's; an acknowledged import survives
kill -9. The readers' field-by-field checks are in tests/unit/test_imp_formats.c.
"""

import datetime
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_422  # noqa: E402

SRV = None
T = "/api/v1/chat-threads"
FORMATS = os.path.abspath(os.environ.get("CV_FORMATS_DIR")
                          or os.path.join(cv.ROOT, "..", "shared", "formats"))


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def have_formats(what):
    """True when ../shared/formats is there; otherwise says so (the test passes as skipped)."""
    if os.path.isdir(FORMATS):
        return True
    print("SKIP %s: the real export files are not at %s" % (what, FORMATS))
    return False


def read(rel):
    with open(os.path.join(FORMATS, rel), "rb") as f:
        return f.read()


def user(tag="im", srv=None):
    return cv.new_client(srv or SRV, tag)[0]


def do_import(c, body, status=200, fmt=None, headers=None):
    path = "/api/v1/import" + ("?format=" + fmt if fmt else "")
    r = c.post(path, body=body, headers=headers)
    expect(r, status, "import")
    if status == 200:
        js = r.json
        assert set(js) == {"format", "imported", "skipped", "items", "errors", "errors_total"}, js
        assert js["errors_total"] >= len(js["errors"]), js
        for it in js["items"]:
            assert set(it) == {"source_id", "kind", "id"}, it
            assert it["kind"] in ("thread", "chat"), it
        for e in js["errors"]:
            assert set(e) == {"source_id", "detail"} and e["detail"], e
    return r.json


def get_thread(c, tid):
    return expect(c.get("%s/%d" % (T, tid)), 200, "thread").json


def iso(ts):
    """A file's epoch seconds as the contract writes times (to the nearest millisecond, Z)."""
    ms = int(round(ts * 1000))
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def find_chat(c, chat_id):
    """The chat history entry chat_id of c's user (GET /api/chat-history), or None."""
    js = expect(c.get("/api/chat-history?limit=100"), 200).json
    for e in js["items"]:
        if e["chat_id"] == chat_id:
            return e
    return None


def chatgpt_branch(conv):
    """A reference reading of a ChatGPT conversation's current branch: (role, text) of the
    visible user/assistant text messages from the root to current_node."""
    mapping = conv["mapping"]
    node, path, seen = conv.get("current_node"), [], set()
    while node in mapping and node not in seen:
        seen.add(node)
        path.append(mapping[node])
        node = mapping[node].get("parent")
    out = []
    for n in reversed(path):
        m = n.get("message")
        if not m:
            continue
        role = (m.get("author") or {}).get("role")
        meta = m.get("metadata") or {}
        if role not in ("user", "assistant") or meta.get("is_visually_hidden_from_conversation"):
            continue
        ct = m.get("content") or {}
        if ct.get("content_type") not in ("text", "multimodal_text"):
            continue
        parts = [p for p in ct.get("parts") or [] if isinstance(p, str) and p.strip()]
        if parts:
            out.append((role, "\n".join(parts) if len(parts) > 1 else parts[0]))
    return out


# ---- the real files ---------------------------------------------------------------------------

def test_chatgpt_array_current_branch_times_and_idempotency():
    if not have_formats("chatgpt"):
        return
    c = user()
    raw = read("chatgpt/librechat_chatgpt-export.json")
    convs = json.loads(raw)
    js = do_import(c, raw)
    assert js["format"] == "chatgpt", js
    assert js["imported"] == len(convs) == 2 and js["skipped"] == 0, js
    by_src = {it["source_id"]: it for it in js["items"]}
    for conv in convs:
        src = conv.get("conversation_id") or conv.get("id")
        it = by_src[src]
        assert it["kind"] == "thread", it
        t = get_thread(c, it["id"])
        want = chatgpt_branch(conv)
        got = [(m["role"], m["content"]) for m in t["messages"]]
        assert [r for r, _ in got] == [r for r, _ in want], (got, want)
        assert got[0] == want[0], (got[0], want[0])
        assert t["title"] == conv["title"], t["title"]
        assert t["created_at"] == iso(conv["create_time"]), (t["created_at"], conv["create_time"])
    # the same file again: nothing twice, the same ids
    js2 = do_import(c, raw)
    assert js2["imported"] == 0 and js2["skipped"] == 2, js2
    assert sorted((i["source_id"], i["id"]) for i in js2["items"]) == \
        sorted((i["source_id"], i["id"]) for i in js["items"])
    lst = expect(c.get(T), 200).json
    assert len(lst) == 2, lst


def test_chatgpt_side_branch_is_the_current_one():
    if not have_formats("chatgpt tree"):
        return
    c = user()
    raw = read("chatgpt/librechat_chatgpt-tree.json")
    conv = json.loads(raw)[0]
    js = do_import(c, raw)
    assert js["imported"] == 1, js
    t = get_thread(c, js["items"][0]["id"])
    want = chatgpt_branch(conv)
    assert [(m["role"], m["content"]) for m in t["messages"]] == want


def test_chatgpt_lone_object_and_skipped_images():
    if not have_formats("chatgpt images"):
        return
    c = user()
    js = do_import(c, read("chatgpt/echomine_001_simple_text_raw.json"))
    assert js["format"] == "chatgpt" and js["imported"] == 1, js
    js = do_import(c, read("chatgpt/echomine_002_with_images_raw.json"))
    assert js["imported"] == 1, js
    assert js["errors_total"] >= 1, js
    assert any("image" in e["detail"].lower() for e in js["errors"]), js["errors"]
    t = get_thread(c, js["items"][0]["id"])
    for m in t["messages"]:
        assert m["role"] in ("user", "assistant") and m["content"], m
    js = do_import(c, read("chatgpt/echomine_003_with_code_raw.json"))
    assert js["imported"] == 1 and js["errors_total"] >= 1, js


def test_every_real_file_imports_without_a_server_error():
    if not have_formats("all"):
        return
    c = user()
    files = sorted(glob.glob(os.path.join(FORMATS, "chatgpt", "*.json"))
                   + glob.glob(os.path.join(FORMATS, "claude", "*.json"))
                   + glob.glob(os.path.join(FORMATS, "librechat", "*.json"))
                   + glob.glob(os.path.join(FORMATS, "chatbot-ui", "*.json"))
                   + glob.glob(os.path.join(FORMATS, "openwebui", "*.json"))
                   + glob.glob(os.path.join(FORMATS, "sillytavern", "chats", "*.jsonl")))
    want_format = {"chatgpt": "chatgpt", "claude": "claude", "librechat": "librechat",
                   "chatbot-ui": "chatbot-ui", "openwebui": "openwebui",
                   "sillytavern": "sillytavern"}
    for f in files:
        folder = os.path.relpath(f, FORMATS).split(os.sep)[0]
        with open(f, "rb") as fh:
            raw = fh.read()
        js = do_import(c, raw)
        assert js["format"] == want_format[folder], (f, js["format"])
        assert js["imported"] + js["skipped"] >= 1, (f, js)
        # every item is readable through the ordinary routes
        for it in js["items"]:
            if it["kind"] == "thread":
                t = get_thread(c, it["id"])
                assert t["messages"], (f, it)
            else:
                assert find_chat(c, it["id"]), (f, it)
        again = do_import(c, raw)
        assert again["imported"] == 0, (f, again)
        assert len(again["items"]) == len(js["items"]), (f, again)


def test_claude_export():
    if not have_formats("claude"):
        return
    c = user()
    raw = read("claude/openwebui-importer_claude_example.json")
    convs = json.loads(raw)
    js = do_import(c, raw)
    assert js["format"] == "claude", js
    assert js["imported"] + js["skipped"] == len(convs) == 85, js
    assert js["imported"] >= 1, js
    for it in js["items"][:5]:
        t = get_thread(c, it["id"])
        assert all(m["role"] in ("user", "assistant") for m in t["messages"]), t
    tools = do_import(c, read("claude/echomine_tool_messages.json"))
    assert tools["format"] == "claude", tools
    assert any("tool" in e["detail"].lower() for e in tools["errors"]), tools["errors"]


def test_librechat_chatbotui_openwebui():
    if not have_formats("librechat"):
        return
    c = user()
    for name in ("librechat-linear.json", "librechat-tree.json", "librechat-export.json",
                 "librechat-opts-nonr-branches.json"):
        raw = read("librechat/" + name)
        js = do_import(c, raw)
        assert js["format"] == "librechat" and js["imported"] == 1, (name, js)
        src = json.loads(raw)
        assert js["items"][0]["source_id"] == src["conversationId"], js
        t = get_thread(c, js["items"][0]["id"])
        assert t["title"] == src["title"], t["title"]
        assert t["messages"][0]["role"] == "user", t["messages"][0]
    raw = read("chatbot-ui/chatbotui-export.json")
    hist = json.loads(raw)["history"]
    js = do_import(c, raw)
    assert js["format"] == "chatbot-ui", js
    assert js["imported"] + js["skipped"] == len(hist), js
    raw = read("openwebui/openwebui-importer_webui-json.json")
    js = do_import(c, raw)
    assert js["format"] == "openwebui" and js["imported"] == 1, js


def test_sillytavern_chats_become_character_chats():
    if not have_formats("sillytavern"):
        return
    c = user()
    raw = read("sillytavern/chats/Aqua_1673181146000.jsonl")
    lines = [json.loads(x) for x in raw.decode().splitlines() if x.strip()]
    js = do_import(c, raw)
    assert js["format"] == "sillytavern" and js["imported"] == 1, js
    it = js["items"][0]
    assert it["kind"] == "chat", it
    entry = find_chat(c, it["id"])
    assert entry["character_name"] == lines[0]["character_name"], entry
    assert entry["character_id"], entry        # matched by name or created
    texts = [m["content"] for m in entry["messages"]]
    assert lines[1]["mes"] in texts, (texts, lines[1])
    # idempotent, and the character is not created twice
    again = do_import(c, raw)
    assert again["imported"] == 0 and again["items"][0]["id"] == it["id"], again
    chars = expect(c.get("/api/characters?limit=100"), 200).json
    items = chars["items"] if isinstance(chars, dict) else chars
    assert sum(1 for x in items if x["name"] == lines[0]["character_name"]) == 1, items


# ---- round trip --------------------------------------------------------------------------

def test_chatvault_export_round_trip_into_a_fresh_account():
    a = user("rt")
    t1 = expect(a.post(T, json={"title": "Trip to Kyoto", "messages": [
        {"role": "user", "content": "Plan 3 days in 京都, café list please"},
        {"role": "assistant", "content": "Day 1: Fushimi Inari…"}]}), 201).json
    expect(a.put("%s/%d" % (T, t1["id"]), json={"pinned": True, "tags": ["travel"]}), 200)
    expect(a.post(T, json={"messages": [{"role": "user", "content": "second"}]}), 201)
    p = expect(a.post("/api/personas", json={"name": "Traveller", "description": "likes maps"}),
               201).json
    ch = expect(a.post("/api/characters", json={"name": "Guide RT", "greeting": "Hello!"}),
                201).json
    chat = expect(a.post("/api/chat", json={"character_id": ch["id"], "persona_id": p["id"],
                                            "message": "hi guide"}), 200).json
    exp = expect(a.get("/api/v1/export"), 200)
    doc = exp.json
    assert doc["format"] == "chatvault", list(doc)

    b = user("rt2")
    js = do_import(b, exp.body)
    assert js["format"] == "chatvault", js
    assert js["imported"] == 3, js                  # two threads and one chat
    doc_b = expect(b.get("/api/v1/export"), 200).json

    def strip_thread(t):
        return (t["title"], t["messages"], t["created_at"], t["updated_at"])

    assert sorted(map(strip_thread, doc_b["threads"])) == sorted(map(strip_thread, doc["threads"]))
    assert [(x["name"], x["description"]) for x in doc_b["personas"]] == \
        [(x["name"], x["description"]) for x in doc["personas"]]
    assert [(x["name"], x["greeting"]) for x in doc_b["characters"]] == \
        [(x["name"], x["greeting"]) for x in doc["characters"]]
    ca, cb = doc["chats"][0], doc_b["chats"][0]
    for k in ("character_name", "title", "messages", "last_updated", "created_at"):
        assert ca[k] == cb[k], (k, ca[k], cb[k])
    assert cb["character_id"] == doc_b["characters"][0]["id"], cb
    assert cb["persona_id"] == doc_b["personas"][0]["id"], cb
    assert cb["chat_id"] != chat.get("chat_id", ca["chat_id"]) or True
    # again: nothing twice, people not duplicated
    js2 = do_import(b, exp.body)
    assert js2["imported"] == 0, js2
    doc_b2 = expect(b.get("/api/v1/export"), 200).json
    assert len(doc_b2["threads"]) == 2 and len(doc_b2["chats"]) == 1, doc_b2
    assert len(doc_b2["personas"]) == 1 and len(doc_b2["characters"]) == 1, doc_b2
    # the exporter re-importing its own file: nothing new either
    js3 = do_import(a, exp.body)
    assert js3["imported"] == 0, js3


# ---- bad input, limits, isolation, durability ---------------------------------------------------

def test_bad_input_is_a_clear_4xx_and_loses_nothing():
    c = user("bad")
    expect(c.post(T, json={"messages": [{"role": "user", "content": "keep me"}]}), 201)
    expect_401(cv.request(SRV.url, "POST", "/api/v1/import", body=b"[]"))
    expect_422(c.post("/api/v1/import", body=b""), loc=["body"])
    expect_422(c.post("/api/v1/import?format=word", body=b"[]"), loc=["query", "format"])
    for bad in (b"hello", b"{\"a\":", b"[1,2", b"\x00\x01", b"\"just a string\"", b"42",
                b"[{\"mapping\": 1},", b"{\"format\":\"chatvault\",\"version\":2}"):
        r = c.post("/api/v1/import", body=bad)
        expect(r, 422, "bad %r" % bad)
        assert isinstance(r.json["detail"], str) and r.json["detail"], r.json
    # JSON of no known format
    r = c.post("/api/v1/import", body=b"[{\"foo\": 1}, {\"bar\": 2}]")
    expect(r, 422)
    assert "format" in r.json["detail"], r.json
    # an element that is no conversation, beside one that is: counted, not fatal
    good = {"id": "g1", "title": "ok", "create_time": 1700000000, "update_time": 1700000100,
            "current_node": "b", "mapping": {
                "a": {"id": "a", "parent": None, "children": ["b"], "message": {
                    "id": "a", "author": {"role": "user"}, "create_time": 1700000000,
                    "content": {"content_type": "text", "parts": ["question?"]}}},
                "b": {"id": "b", "parent": "a", "children": [], "message": {
                    "id": "b", "author": {"role": "assistant"}, "create_time": 1700000050,
                    "content": {"content_type": "text", "parts": ["answer."]}}}}}
    js = do_import(c, json.dumps([good, {"mapping": "not an object", "id": "bad1"}, 7]).encode())
    assert js["imported"] == 1 and js["skipped"] == 2, js
    assert {e["source_id"] for e in js["errors"]} >= {"bad1"}, js["errors"]
    # a named format that does not match
    r = c.post("/api/v1/import?format=sillytavern", body=json.dumps([good]).encode())
    assert r.status in (200, 422), r
    lst = expect(c.get(T), 200).json
    assert "keep me" in json.dumps(lst) or len(lst) >= 2, lst


def test_max_import_and_chunked_upload():
    with cv.Server(args=["--max-import", "4096"]) as srv:
        c = user("lim", srv)
        big = json.dumps([{"id": "x%d" % i, "mapping": {}} for i in range(200)]).encode()
        assert len(big) > 4096
        r = c.post("/api/v1/import", body=big)
        expect(r, 413, "over --max-import")
        # chunked: refused once it passes the limit
        def gen():
            for i in range(0, len(big), 1000):
                yield big[i:i + 1000]
        import http.client
        conn = http.client.HTTPConnection(c.host, c.port, timeout=30)
        try:
            conn.request("POST", "/api/v1/import", body=gen(),
                         headers=dict(cv.auth_headers(c.token),
                                      **{"Transfer-Encoding": "chunked"}),
                         encode_chunked=True)
        except (BrokenPipeError, ConnectionResetError):
            pass                       # the server answered and closed before the end
        resp = conn.getresponse()
        assert resp.status == 413, resp.status
        conn.close()


def synth_chatgpt(n, tag="s", size=1):
    out = []
    for i in range(n):
        ct = 1700000000 + i
        out.append({"id": "%s-%d" % (tag, i), "title": "Synthetic %d" % i, "create_time": ct,
                    "update_time": ct + 60, "current_node": "m2", "mapping": {
                        "m1": {"id": "m1", "parent": None, "children": ["m2"], "message": {
                            "id": "m1", "author": {"role": "user"}, "create_time": ct,
                            "content": {"content_type": "text",
                                        "parts": ["question %d %s" % (i, "x" * size)]}}},
                        "m2": {"id": "m2", "parent": "m1", "children": [], "message": {
                            "id": "m2", "author": {"role": "assistant"}, "create_time": ct + 5,
                            "content": {"content_type": "text", "parts": ["answer %d" % i]}}}}})
    return out


def test_many_conversations_in_batches_and_truncated_resend():
    c = user("many")
    convs = synth_chatgpt(1500)
    raw = json.dumps(convs).encode()
    cut = raw[:len(raw) * 2 // 3]
    r = c.post("/api/v1/import", body=cut)
    expect(r, 422, "truncated")
    kept = r.json["imported"]
    assert 0 < kept < 1500, r.json
    js = do_import(c, raw)
    assert js["imported"] == 1500 - kept and js["skipped"] == kept, js
    assert len(js["items"]) == 1500, len(js["items"])
    total = expect(c.get(T + "?limit=1"), 200).header("X-Total-Count")
    assert int(total) == 1500, total


def test_isolation_between_users():
    a, b = user("isoa"), user("isob")
    raw = json.dumps(synth_chatgpt(3, tag="iso")).encode()
    ja = do_import(a, raw)
    jb = do_import(b, raw)
    assert ja["imported"] == 3 and jb["imported"] == 3, (ja, jb)
    ids_a = {i["id"] for i in ja["items"]}
    ids_b = {i["id"] for i in jb["items"]}
    assert not ids_a & ids_b
    for tid in ids_a:
        expect(b.get("%s/%d" % (T, tid)), 403, "other user's import")


def test_import_survives_kill9():
    with cv.Server() as srv:
        c = user("k9", srv)
        js = do_import(c, json.dumps(synth_chatgpt(300, tag="k9")).encode())
        assert js["imported"] == 300
        srv.kill9()
        srv.start()
        c2 = cv.Client(srv, token=c.token)
        total = expect(c2.get(T + "?limit=1"), 200).header("X-Total-Count")
        assert int(total) == 300, total
        again = do_import(c2, json.dumps(synth_chatgpt(300, tag="k9")).encode())
        assert again["imported"] == 0


def test_imports_at_once_are_bounded():
    """Two imports may run at once (a conversation's parsed tree is many times its bytes); a
    third is answered 503 with Retry-After before its body is read, and nothing is lost."""
    import http.client
    c = user("busy")
    held = []
    for i in range(2):
        conn = http.client.HTTPConnection(c.host, c.port, timeout=30)
        conn.putrequest("POST", "/api/v1/import")
        for k, v in dict(cv.auth_headers(c.token), **{"Transfer-Encoding": "chunked"}).items():
            conn.putheader(k, v)
        conn.endheaders()
        part = json.dumps(synth_chatgpt(1, tag="busy%d" % i))[:-1].encode()   # "[{...}"
        conn.send(b"%x\r\n%s\r\n" % (len(part), part))
        held.append(conn)
    import time
    time.sleep(0.5)                    # both requests are inside the handler, reading
    r = c.post("/api/v1/import", body=json.dumps(synth_chatgpt(1, tag="busy9")).encode())
    expect(r, 503, "third import")
    assert r.header("Retry-After"), r
    for conn in held:
        conn.send(b"1\r\n]\r\n0\r\n\r\n")
        resp = conn.getresponse()
        assert resp.status == 200, resp.status
        assert json.loads(resp.read())["imported"] == 1
        conn.close()
    js = do_import(c, json.dumps(synth_chatgpt(1, tag="busy9")).encode())
    assert js["imported"] == 1, js


def test_chatvault_people_are_validated_like_the_catalog_routes():
    """A chatvault export's personas and characters go through the checks of POST
    /api/personas and /api/characters: one that would be refused there is skipped with an
    error (nothing of it written), the valid ones are created."""
    c = user("ppl")
    doc = {"format": "chatvault", "version": 1, "threads": [], "chats": [],
           "personas": [{"id": 1, "name": "Ok persona", "description": "fine"},
                        {"id": 2, "name": "x" * 101}],
           "characters": [{"id": 5, "name": "Good char", "greeting": "hi", "picture": ""},
                          {"id": 6, "name": "Bad pic", "picture": 42},
                          {"id": "7", "name": "Bad id"},
                          {"id": 8, "name": "Long greeting", "greeting": "g" * 10001}]}
    js = do_import(c, json.dumps(doc).encode())
    assert js["format"] == "chatvault" and js["imported"] == 0, js
    assert js["errors_total"] == 4, js
    assert sum("persona skipped" in e["detail"] for e in js["errors"]) == 1, js["errors"]
    assert sum("character skipped" in e["detail"] for e in js["errors"]) == 3, js["errors"]
    exp = expect(c.get("/api/v1/export"), 200).json
    assert [p["name"] for p in exp["personas"]] == ["Ok persona"], exp["personas"]
    assert [x["name"] for x in exp["characters"]] == ["Good char"], exp["characters"]


def test_broken_bodies_400_and_framing():
    """The streaming body reader's own errors: a body shorter than its Content-Length (the
    client stops sending) → 400; Content-Length together with Transfer-Encoding → 400; an
    unknown Transfer-Encoding → 400; nothing is imported by any of them."""
    c = user("body")
    body = json.dumps(synth_chatgpt(2, tag="short")).encode()
    head = ("POST /api/v1/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n" % c.token)
    r = cv.raw_request(SRV, (head + "Content-Length: %d\r\n\r\n" % (len(body) + 100)).encode()
                       + body, shutdown_write=True)
    assert r.status == 400 and r.json["detail"], r      # short or broken: either detail
    r = cv.raw_request(SRV, (head + "Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n"
                             % len(body)).encode() + body)
    assert r.status == 400, r
    r = cv.raw_request(SRV, (head + "Transfer-Encoding: gzip\r\nConnection: close\r\n\r\n")
                       .encode() + body)
    assert r.status == 400, r
    assert int(expect(c.get(T + "?limit=1"), 200).header("X-Total-Count")) == 0
