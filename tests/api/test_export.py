"""Export (contract v2 "Export and import"): GET /api/v1/export, the whole account as one
streamed JSON document, and one conversation as a file: GET /api/v1/chat-threads/{id}/export
and GET /api/chat/export?chat_id= with format=json|md|txt.

What the export must equal is what the GET routes answer: every thread is
GET /api/v1/chat-threads/{id} plus client_id, every chat the entry of GET /api/chat-history,
personas GET /api/personas, characters GET /api/characters/{id} (only those the caller
created). A thread or chat that is another user's or unknown is answered as its GET answers.
"""

import json
import os
import sys
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_422, expect_error, expect_ts  # noqa: E402

SRV = None
T = "/api/v1/chat-threads"
DOC_KEYS = ["format", "version", "exported_at", "user", "threads", "chats", "personas",
            "characters"]
THREAD_KEYS = ["id", "user_id", "title", "messages", "created_at", "updated_at", "pinned",
               "archived", "tags", "client_id"]
ENTRY_KEYS = ["chat_id", "character_id", "character_name", "character_picture", "scene_id",
              "scene_name", "scene_picture", "persona_id", "title", "messages", "last_updated",
              "created_at"]


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def user(tag="ex"):
    return cv.new_client(SRV, tag)


def ordered(body):
    """The JSON document with every object as a list of (key, value) pairs, in order."""
    return json.loads(body.decode("utf-8"), object_pairs_hook=lambda pairs: pairs)


def export(c):
    r = expect(c.get("/api/v1/export"), 200, "export")
    assert (r.header("Content-Type") or "").startswith("application/json"), r.headers
    assert r.body.startswith(b'{"format":"chatvault"'), r.body[:100]
    return r


def thread_of(c, tid):
    return expect(c.get("%s/%d" % (T, tid)), 200, "get thread").json


def history(c):
    return expect(c.get("/api/chat-history?limit=100"), 200, "history").json["items"]


def make_chat(c, **kw):
    body = {"message": kw.pop("message", "hello there")}
    body.update(kw)
    return expect(c.post("/api/chat", json=body), 200, "chat").json


def test_document_shape_key_order_and_equality_with_the_get_routes():
    """Keys in the contract's order ("format" first) at every level; each thread equals its
    GET plus client_id, each chat its history entry, personas and characters their GETs."""
    c, u = user()
    other, _ = user("other")
    t1 = expect(c.post(T, json={"title": "First", "messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}), 201).json
    t2 = expect(c.post(T, json={}), 201).json
    expect(c.put("%s/%d" % (T, t2["id"]), json={"pinned": True, "archived": True,
                                                "tags": ["Zeta", "alpha"]}), 200)
    p1 = expect(c.post("/api/personas", json={"name": "Me", "description": "a persona"}), 201).json
    ch = expect(c.post("/api/characters", json={"name": "Bob", "description": "d",
                                                 "greeting": "Hi!"}), 201).json
    foreign = expect(other.post("/api/characters", json={"name": "NotMine"}), 201).json
    chat1 = make_chat(c, character_id=ch["id"], persona_id=p1["id"])
    chat2 = make_chat(c, character_id=foreign["id"], message="second")
    r = export(c)
    doc = ordered(r.body)
    assert [k for k, _ in doc] == DOC_KEYS, doc
    js = r.json
    assert js["format"] == "chatvault" and js["version"] == 1
    expect_ts(js["exported_at"], "exported_at")
    assert [k for k, _ in dict(doc)["user"]] == ["email", "display_name"]
    assert js["user"] == {"email": u["email"], "display_name": u["display_name"]}
    assert [t["id"] for t in js["threads"]] == [t1["id"], t2["id"]]      # id order
    for pairs in dict(doc)["threads"]:
        assert [k for k, _ in pairs] == THREAD_KEYS, pairs
    for t in js["threads"]:
        got = dict(t)
        assert got.pop("client_id") is None
        assert got == thread_of(c, t["id"])
    assert js["threads"][1]["pinned"] is True and js["threads"][1]["tags"] == ["alpha", "Zeta"]
    for pairs in dict(doc)["chats"]:
        assert [k for k, _ in pairs] == ENTRY_KEYS, pairs
    by_id = {e["chat_id"]: e for e in history(c)}
    assert [e["chat_id"] for e in js["chats"]] == [chat1["chat_id"], chat2["chat_id"]]
    for e in js["chats"]:
        assert e == by_id[e["chat_id"]]
    assert js["personas"] == expect(c.get("/api/personas"), 200).json
    assert js["characters"] == [expect(c.get("/api/characters/%d" % ch["id"]), 200).json]
    assert foreign["id"] not in [x["id"] for x in js["characters"]]


def test_empty_account():
    c, u = user()
    js = export(c).json
    assert js["threads"] == [] and js["chats"] == [] and js["personas"] == [] \
        and js["characters"] == []
    assert js["user"]["email"] == u["email"]


def test_client_id_number_string_and_null():
    """client_id as the import stored it: all digits (a browser's numeric id) -> a number;
    anything else (digits with a leading zero too) -> a string; none -> null."""
    c, _ = user()
    items = [{"client_id": 1700000000123, "title": "num"},
             {"client_id": -5, "title": "neg"},
             {"client_id": "abc-1", "title": "str"},
             {"client_id": "007", "title": "zero"},
             {"client_id": "42", "title": "digits as a string"}]
    expect(c.post(T + "/import", json=items), 200)
    expect(c.post(T, json={"title": "plain"}), 201)
    got = {t["title"]: t["client_id"] for t in export(c).json["threads"]}
    assert got["num"] == 1700000000123 and isinstance(got["num"], int)
    assert got["neg"] == -5
    assert got["str"] == "abc-1"
    assert got["zero"] == "007"
    assert got["digits as a string"] == 42     # stored as text either way: one key on re-import
    assert got["plain"] is None


def test_many_threads_chats_and_a_long_thread_streamed_chunked():
    """300 threads, a 5,000-message thread, several chats: one parseable document, sent chunked
    (streamed, not built in memory), with every message in order."""
    c, _ = user()
    batch = [{"client_id": "b%d" % i, "title": "t%d" % i,
              "messages": [{"role": "user", "content": "m%d-%d" % (i, j)} for j in range(3)]}
             for i in range(300)]
    expect(c.post(T + "/import", json=batch), 200)
    long_msgs = [{"role": "user" if j % 2 == 0 else "assistant", "content": "message %d" % j}
                 for j in range(5000)]
    long_t = expect(c.post(T, json={"title": "long", "messages": long_msgs}), 201).json
    ch = expect(c.post("/api/characters", json={"name": "Ann"}), 201).json
    for i in range(5):
        make_chat(c, character_id=ch["id"], message="chat %d" % i)
    r = export(c)
    assert (r.header("Transfer-Encoding") or "").lower() == "chunked", r.headers
    assert r.header("Content-Length") is None
    js = r.json
    assert len(js["threads"]) == 301 and len(js["chats"]) == 5
    lt = [t for t in js["threads"] if t["id"] == long_t["id"]][0]
    assert lt["messages"] == long_msgs
    assert js["threads"][0]["messages"][2]["content"] == "m0-2"
    # the one-thread export of the long thread is streamed too
    r = expect(c.get("%s/%d/export?format=md" % (T, long_t["id"])), 200)
    assert (r.header("Transfer-Encoding") or "").lower() == "chunked"
    text = r.body.decode("utf-8")
    assert text.count("\n## User\n") == 2500 and text.count("\n## Assistant\n") == 2500
    assert text.endswith("\n## Assistant\n\nmessage 4999\n")


def test_isolation_and_foreign_ids_answered_as_get():
    """Nothing of another user's appears in an export; another user's thread or chat export is
    answered exactly as GET (or rename) of it is (403), an unknown one as 404."""
    a, _ = user("a")
    b, _ = user("b")
    ta = expect(a.post(T, json={"title": "secret-a", "messages": [
        {"role": "user", "content": "a-private"}]}), 201).json
    expect(a.post("/api/personas", json={"name": "persona-a"}), 201)
    cha = expect(a.post("/api/characters", json={"name": "char-a"}), 201).json
    chat_a = make_chat(a, character_id=cha["id"], message="a-chat-private")
    expect(b.post(T, json={"title": "b-thread"}), 201)
    body = export(b).body.decode("utf-8")
    for secret in ("secret-a", "a-private", "persona-a", "a-chat-private", chat_a["chat_id"]):
        assert secret not in body, secret
    assert export(b).json["characters"] == []          # char-a is A's, not B's
    for fmt in ("json", "md", "txt"):
        got = b.get("%s/%d/export?format=%s" % (T, ta["id"], fmt))
        want = b.get("%s/%d" % (T, ta["id"]))
        assert (got.status, got.json) == (want.status, want.json), (got, want)
        expect_error(got, 403)
        assert b"a-private" not in got.body
        got = b.get("%s/%d/export?format=%s" % (T, 999999, fmt))
        want = b.get("%s/%d" % (T, 999999))
        assert (got.status, got.json) == (want.status, want.json) and got.status == 404
        got = b.get("/api/chat/export?chat_id=%s&format=%s" % (chat_a["chat_id"], fmt))
        want = b.post("/api/chat/rename", json={"chat_id": chat_a["chat_id"], "title": "x"})
        assert (got.status, got.json) == (want.status, want.json) and got.status == 403
        assert b"a-chat-private" not in got.body
        unknown = str(uuid.uuid4())
        got = b.get("/api/chat/export?chat_id=%s&format=%s" % (unknown, fmt))
        want = b.post("/api/chat/rename", json={"chat_id": unknown, "title": "x"})
        assert (got.status, got.json) == (want.status, want.json) and got.status == 404
    # A's own export is intact
    assert [t["title"] for t in export(a).json["threads"]] == ["secret-a"]


def test_401_without_or_with_a_bad_token():
    c, _ = user()
    tid = expect(c.post(T, json={}), 201).json["id"]
    for path in ("/api/v1/export", "%s/%d/export" % (T, tid),
                 "/api/chat/export?chat_id=%s" % uuid.uuid4()):
        expect_401(cv.request(SRV, "GET", path), path)
        expect_401(cv.request(SRV, "GET", path, token="not-a-token"), path)


HOSTILE = 'Q"uo\'te / back\\slash\nnew\rline\ttab <b>#1</b> Caf\u00e9 \u2603 \U0001F600 ##'


def disposition(r):
    """(ascii filename, decoded filename*) of an attachment's Content-Disposition."""
    cd = r.header("Content-Disposition") or ""
    assert cd.startswith("attachment; "), cd
    assert all(32 <= ord(ch) < 127 for ch in cd), cd
    head, star = cd.split("; filename*=", 1)
    assert head.startswith('attachment; filename="') and head.endswith('"'), cd
    ascii_name = head[len('attachment; filename="'):-1]
    assert '"' not in ascii_name and "\\" not in ascii_name and "/" not in ascii_name
    assert star.startswith("UTF-8''") and ";" not in star and '"' not in star, cd
    return ascii_name, urllib.parse.unquote(star[len("UTF-8''"):], encoding="utf-8",
                                            errors="strict")


def test_thread_files_md_txt_json_and_their_names():
    """Markdown: the title as "# " heading (line breaks made spaces, a trailing '#' run
    escaped), "## User" / "## Assistant" above each message, contents as they are. Text: the
    title line, "User:" / "Assistant:". JSON: ChatThreadOut. The file name: an ASCII-only
    fallback and the UTF-8 name in filename*, both without quotes, slashes or controls."""
    c, _ = user()
    msgs = [{"role": "user", "content": "# not a heading?\n\n* item\n```\ncode\n```"},
            {"role": "assistant", "content": "Reply with \u00e9moji \U0001F600 and \"quotes\""}]
    t = expect(c.post(T, json={"title": HOSTILE, "messages": msgs}), 201).json
    base = "%s/%d/export" % (T, t["id"])
    flat = HOSTILE.replace("\n", " ").replace("\r", " ").replace("\t", " ")

    r = expect(c.get(base + "?format=md"), 200)
    assert r.header("Content-Type") == "text/markdown; charset=utf-8"
    md = r.body.decode("utf-8")
    assert md == ("# " + flat[:-2] + "\\##\n"
                  "\n## User\n\n" + msgs[0]["content"] + "\n"
                  "\n## Assistant\n\n" + msgs[1]["content"] + "\n"), md
    a, u = disposition(r)
    assert a.endswith(".md") and u.endswith(".md")
    assert all(ch.isalnum() or ch in " -_.,()[]+=@&!#$~'" for ch in a), a
    assert "Caf" in a and "\u00e9" not in a
    assert u.startswith("Q\"uo'te _ back_slash_new_line_tab <b>#1<_b> Caf\u00e9 \u2603 \U0001F600"), u

    r = expect(c.get(base + "?format=txt"), 200)
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert r.body.decode("utf-8") == (flat + "\n\nUser:\n" + msgs[0]["content"] + "\n"
                                      "\nAssistant:\n" + msgs[1]["content"] + "\n")
    assert disposition(r)[0].endswith(".txt")

    for q in ("?format=json", ""):                  # json is the default
        r = expect(c.get(base + q), 200)
        assert r.header("Content-Type") == "application/json"
        assert r.json == thread_of(c, t["id"])
        assert disposition(r)[1].endswith(".json")


def test_file_names_fallbacks_and_length():
    c, _ = user()
    for title, want_ascii in (("\u65e5\u672c\u8a9e", "thread.md"), ("...", "thread.md"),
                              ("a/b", "a_b.md"), ("x" * 255, "x" * 80 + ".md")):
        t = expect(c.post(T, json={"title": title}), 201).json
        a, u = disposition(expect(c.get("%s/%d/export?format=md" % (T, t["id"])), 200))
        assert a == want_ascii, (title, a)
        if title == "\u65e5\u672c\u8a9e":
            assert u == title + ".md"
        if title == "...":
            assert u == "thread.md"
        if title.startswith("xxx"):
            assert u == "x" * 80 + ".md"


def test_chat_files_speakers_persona_and_character():
    c, _ = user()
    p = expect(c.post("/api/personas", json={"name": "Captain\nKirk"}), 201).json
    ch = expect(c.post("/api/characters", json={"name": "Spock #"}), 201).json
    chat = make_chat(c, character_id=ch["id"], persona_id=p["id"], message="Status?")
    cid = chat["chat_id"]
    reply = chat["reply"]
    r = expect(c.get("/api/chat/export?chat_id=%s&format=md" % cid.upper()), 200)
    md = r.body.decode("utf-8")
    title = chat["chat"]["title"]
    assert md == ("# %s\n\n## Captain Kirk\n\nStatus?\n\n## Spock \\#\n\n%s\n" % (title, reply)), md
    r = expect(c.get("/api/chat/export?chat_id=%s&format=txt" % cid), 200)
    assert r.body.decode("utf-8") == "%s\n\nCaptain Kirk:\nStatus?\n\nSpock #:\n%s\n" % (title, reply)
    r = expect(c.get("/api/chat/export?chat_id=%s" % cid), 200)
    assert r.json == [e for e in history(c) if e["chat_id"] == cid][0]
    assert disposition(r)[0].endswith(".json")
    # no persona: "You"; the character deleted: its copied name stays the speaker
    chat2 = make_chat(c, character_id=ch["id"], message="Alone")
    expect(c.delete("/api/characters/%d" % ch["id"]), 204)
    md = expect(c.get("/api/chat/export?chat_id=%s&format=md" % chat2["chat_id"]),
                200).body.decode("utf-8")
    assert "\n## You\n\nAlone\n" in md and "\n## Spock \\#\n\n" in md
    # untitled chat: "Chat with <character>"
    expect(c.post("/api/chat/rename", json={"chat_id": cid, "title": "Bridge log"}), 200)
    md = expect(c.get("/api/chat/export?chat_id=%s&format=md" % cid), 200).body.decode("utf-8")
    assert md.startswith("# Bridge log\n")


def test_422_bad_format_and_bad_ids():
    c, _ = user()
    tid = expect(c.post(T, json={}), 201).json["id"]
    for fmt in ("pdf", "JSON", "", "md%00"):
        expect_422(c.get("%s/%d/export?format=%s" % (T, tid, fmt)), loc=["query", "format"])
    expect_422(c.get("%s/abc/export" % T), loc=["path", "id"])
    expect_422(c.get("/api/chat/export"), loc=["query", "chat_id"])
    expect_422(c.get("/api/chat/export?chat_id=nope"), loc=["query", "chat_id"])
    expect_422(c.get("/api/chat/export?chat_id=%s&format=doc" % uuid.uuid4()),
               loc=["query", "format"])
    # the format is checked before the id: an unknown thread with a bad format is a 422
    expect_422(c.get("%s/999999/export?format=pdf" % T), loc=["query", "format"])


def test_head_and_wrong_method():
    c, _ = user()
    t = expect(c.post(T, json={"title": "h", "messages": [{"role": "user", "content": "x"}]}),
               201).json
    for path in ("/api/v1/export", "%s/%d/export?format=md" % (T, t["id"])):
        g = expect(c.get(path), 200)
        h = expect(c.request("HEAD", path), 200)
        assert h.body == b""
        assert h.header("Content-Type") == g.header("Content-Type")
        if "chat-threads" in path:
            assert h.header("Content-Length") == g.header("Content-Length")
            assert h.header("Content-Disposition") == g.header("Content-Disposition")
    r = c.post("/api/v1/export", json={})
    expect(r, 405)
    assert "GET" in (r.header("Allow") or "")


def test_unicode_and_big_messages_round_trip_equal_to_get():
    """Emoji, RTL, combining marks, controls, <script>, a 100,000-character message and a
    big thread: the export parses as JSON and equals what the GET routes answer."""
    c, _ = user()
    weird = ("\U0001F600\u200d\U0001F469 \u05e9\u05dc\u05d5\u05dd e\u0301 <script>x</script>"
             " \"q\" \\ \u0001\u001f \u2028\u2029 \ufeff")
    big = "\u00e9" * 100000
    msgs = [{"role": "user", "content": weird}, {"role": "assistant", "content": big},
            {"role": "user", "content": "x" * 70000}]
    t = expect(c.post(T, json={"title": weird[:50], "messages": msgs}), 201).json
    ch = expect(c.post("/api/characters", json={"name": "\u00c9lodie \U0001F600",
                                                 "description": weird}), 201).json
    chat = make_chat(c, character_id=ch["id"], message=weird)
    js = export(c).json
    got = dict(js["threads"][0])
    got.pop("client_id")
    assert got == thread_of(c, t["id"]) and got["messages"] == msgs
    assert js["chats"] == [e for e in history(c) if e["chat_id"] == chat["chat_id"]]
    assert js["characters"] == [expect(c.get("/api/characters/%d" % ch["id"]), 200).json]
    md = expect(c.get("%s/%d/export?format=md" % (T, t["id"])), 200).body.decode("utf-8")
    assert big in md and weird in md


def test_export_is_one_snapshot_while_writes_go_on():
    """The export reads one snapshot: a writer appends "late N" to thread X, then to thread Y,
    over and over, while exports run; X is first in the document and Y last, with filler in
    between, so without a snapshot Y would be read later and hold more late messages than X.
    In every export X holds as many as Y, or one more."""
    import threading
    c, _ = user()
    x = expect(c.post(T, json={"title": "X"}), 201).json["id"]
    for k in range(4):
        batch = [{"client_id": "f%d-%d" % (k, i), "title": "filler",
                  "messages": [{"role": "user", "content": "y" * 500} for _ in range(20)]}
                 for i in range(40)]
        expect(c.post(T + "/import", json=batch), 200)
    y = expect(c.post(T, json={"title": "Y"}), 201).json["id"]
    w = cv.Client(SRV, c.token)
    stop = threading.Event()
    errors = []

    def writer():
        i = 0
        while not stop.is_set():
            for tid in (x, y):
                r = w.post("%s/%d/messages" % (T, tid), json={"role": "user", "content": "late %d" % i})
                if r.status != 201:
                    errors.append(r)
            i += 1
    th = threading.Thread(target=writer)
    th.start()
    seen = []
    try:
        for _ in range(6):
            js = export(c).json
            assert js["threads"][0]["id"] == x and js["threads"][-1]["id"] == y
            nx, ny = len(js["threads"][0]["messages"]), len(js["threads"][-1]["messages"])
            assert nx - ny in (0, 1), (nx, ny)
            seen.append(nx)
    finally:
        stop.set()
        th.join()
        w.close()
    assert not errors, errors[:3]
    assert seen[-1] > 0, seen
