"""Search: GET /api/v1/search (contract v2: "Search"), on the real binary and file.

What people type finds their own messages and titles in both chat models, ignoring case and
accents, with phrases, prefixes and Chinese/Japanese/Korean runs; nothing they type is an
error; nobody else's data is ever found; a change, deletion or retention drop is what the next
search sees, also after kill -9; ranking, snippet and highlights (in characters) as written.
"""

import os
import sqlite3
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_422  # noqa: E402

SRV = None
T = "/api/v1/chat-threads"
HIT_THREAD = {"kind", "thread_id", "title", "index", "role", "snippet", "highlights", "updated_at"}
HIT_CHAT = {"kind", "chat_id", "title", "index", "role", "snippet", "highlights", "updated_at"}


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def user(tag="se", srv=None):
    return cv.new_client(srv or SRV, tag)


def thread(c, messages, title=None):
    body = {"messages": [{"role": r, "content": t} for r, t in messages]}
    if title is not None:
        body["title"] = title
    return expect(c.post(T, json=body), 201, "create").json


def search(c, q, status=200, **params):
    params["q"] = q
    r = c.get("/api/v1/search?" + urllib.parse.urlencode(params))
    expect(r, status, "search %r" % q)
    if status != 200:
        return r
    js = r.json
    assert set(js) == {"items", "total"}, js
    assert isinstance(js["total"], int) and js["total"] >= len(js["items"]), js
    for h in js["items"]:
        assert set(h) == (HIT_THREAD if h["kind"] == "thread" else HIT_CHAT), h
        assert len(h["snippet"]) <= 200, h
        if h["index"] == -1:
            assert h["role"] is None and h["snippet"] == h["title"], h
        else:
            assert h["role"] in ("user", "assistant"), h
        for start, length in h["highlights"]:
            assert start >= 0 and length >= 1 and start + length <= len(h["snippet"]), h
    return js


def marked(h):
    """The highlighted pieces of a hit's snippet (Python str indexes are characters)."""
    return [h["snippet"][s:s + n] for s, n in h["highlights"]]


def test_words_in_any_order_ignoring_case():
    c, _ = user()
    t = thread(c, [("user", "The quick brown Fox jumps over the lazy dog"),
                   ("assistant", "A slow green turtle")])
    js = search(c, "fox QUICK")
    assert js["total"] == 1 and len(js["items"]) == 1, js
    h = js["items"][0]
    assert h["kind"] == "thread" and h["thread_id"] == t["id"] and h["index"] == 0, h
    assert h["role"] == "user" and h["snippet"] == t["messages"][0]["content"], h
    assert marked(h) == ["quick", "Fox"], h
    assert h["updated_at"] == t["updated_at"] and h["title"] == t["title"], h
    assert search(c, "fox turtle")["total"] == 0          # every word must match one message
    assert search(c, "turtle")["items"][0]["index"] == 1


def test_accents_fold_both_ways():
    c, _ = user()
    thread(c, [("user", "Un café crème, s'il vous plaît")])
    thread(c, [("user", "plain cafe here")])
    js = search(c, "cafe")
    assert js["total"] == 2, js
    hits = {h["snippet"]: marked(h) for h in js["items"]}
    assert hits["Un café crème, s'il vous plaît"] == ["café"], hits
    assert hits["plain cafe here"] == ["cafe"], hits
    assert search(c, "CAFÉ CREME")["total"] == 1
    assert search(c, "Ångström")["total"] == 0


def test_phrases_and_prefixes():
    c, _ = user()
    thread(c, [("user", "east of eden is a novel"), ("user", "eden lies east")])
    js = search(c, '"east of eden"')
    assert js["total"] == 1 and marked(js["items"][0]) == ["east of eden"], js
    assert search(c, "east eden")["total"] == 2
    assert search(c, '"eden east"')["total"] == 0
    js = search(c, "nov*")
    assert js["total"] == 1 and marked(js["items"][0]) == ["novel"], js
    assert search(c, "nov")["total"] == 0
    assert search(c, '"east of"*')["total"] == 1


def test_chinese_japanese_korean_runs():
    c, _ = user()
    t = thread(c, [("user", "昨日は東京タワーに行きました。とても高かった！"),
                   ("assistant", "北京烤鸭很好吃"),
                   ("user", "한국어 문장을 검색합니다")])
    for q, index, piece in [("東京タワー", 0, "東京タワー"), ("タワー", 0, "タワー"),
                            ("行き", 0, "行き"), ("高かった", 0, "高かった"),
                            ("烤鸭", 1, "烤鸭"), ("北京烤鸭很好吃", 1, "北京烤鸭很好吃"),
                            ("검색", 2, "검색")]:
        js = search(c, q)
        assert js["total"] == 1, (q, js)
        h = js["items"][0]
        assert h["thread_id"] == t["id"] and h["index"] == index, (q, h)
        assert marked(h) == [piece], (q, h)
    assert search(c, "大阪")["total"] == 0
    assert search(c, "京タ")["total"] == 1                  # any run of 2, across scripts' words
    assert search(c, "タワー 北京")["total"] == 0           # two messages, not one


def test_nothing_typed_is_an_error():
    """40 hostile or odd queries (operators, lone quotes, column filters, punctuation, emoji, RTL marks, 200 characters): always 200, never an FTS5 error; operators are words."""
    c, _ = user()
    thread(c, [("user", 'hello "world" AND OR NOT NEAR(x y) col:z ^w -v a*b')])
    for q in ['"', '"""', '"unbalanced hello', "*", "**", "hello*world", "AND", "OR NOT",
              "NEAR(hello world, 3)", "body:hello", "^hello", "-hello", "hello -", "(", ")",
              "{hello}", "[x]", "'", "\\", "%", "_", "hello:", ":", "+", "hello AND", "NOT hello",
              ".", "...", "!!!", "\u2026", "🙂", "🙂hello", "\u202ehello", "<script>",
              "x" * 200, "é" * 200, "東" * 200, "a " * 100, '"' * 200, "\t hello \n"]:
        js = search(c, q)
        assert isinstance(js["items"], list), q
    assert search(c, '"hello')["total"] == 1                 # the lone quote is white space
    assert search(c, '"unbalanced hello')["total"] == 0      # ... so both words must match
    assert search(c, "NEAR(x y)")["total"] == 1              # operators are words
    assert search(c, "hello AND")["total"] == 1
    assert search(c, "...")["total"] == 0


def test_bad_parameters_422():
    """Missing, empty, 201-character or invalid-UTF-8 q, bad limit/offset/kind/archived/tag: 422; no or a bad token: 401."""
    c, _ = user()
    for qs in ["", "q=", "q=" + "x" * 201, "q=%FF", "q=%C3", "q=a&limit=0", "q=a&limit=101",
               "q=a&limit=x", "q=a&offset=-1", "q=a&kind=both", "q=a&archived=maybe",
               "q=a&tag=", "q=a&tag=" + "t" * 51, "limit=5"]:
        r = c.get("/api/v1/search?" + qs)
        expect_422(r, what=qs)
    r = c.get("/api/v1/search?q=" + urllib.parse.quote("é" * 200))
    expect(r, 200, "200 characters of two bytes")
    expect_401(cv.request(SRV, "GET", "/api/v1/search?q=x"))
    expect_401(cv.request(SRV, "GET", "/api/v1/search?q=x", token="not-a-token"))


def test_only_the_callers_data_is_found():
    """Two users with the same words, threads and a chat: each finds only their own; another user's id or the owner marker typed into the query reaches nothing."""
    a, _ = user("sa")
    b, _ = user("sb")
    thread(a, [("user", "shared zebra word alpha")], title="zebra title")
    thread(b, [("user", "shared zebra word beta")], title="zebra title")
    expect(b.post("/api/chat", json={"message": "zebra in a chat of b"}), 200, "chat")
    ja, jb = search(a, "zebra"), search(b, "zebra")
    assert ja["total"] == 1 and jb["total"] == 3, (ja, jb)   # b's chat: message and echo
    assert all("beta" not in h["snippet"] and "chat of b" not in h["snippet"]
               for h in ja["items"]), ja
    assert search(a, "beta")["total"] == 0 and search(b, "alpha")["total"] == 0
    # a user id inside the query text does not reach another user's terms
    uid_b = expect(b.get("/api/v1/auth/me"), 200).json["id"]
    assert search(a, "%d:beta" % uid_b)["total"] == 0
    assert search(a, "\x01%d\x01beta" % uid_b)["total"] == 0


def test_titles_match_with_index_minus_one():
    c, _ = user()
    t = thread(c, [("user", "nothing here")], title="Quarterly budget review")
    js = search(c, "budget")
    assert js["total"] == 1, js
    h = js["items"][0]
    assert h["index"] == -1 and h["role"] is None and h["thread_id"] == t["id"], h
    assert h["snippet"] == "Quarterly budget review" and marked(h) == ["budget"], h
    expect(c.put("%s/%d" % (T, t["id"]), json={"title": "Annual plan"}), 200, "rename")
    assert search(c, "budget")["total"] == 0
    assert search(c, "annual")["items"][0]["index"] == -1
    # a title is a hit only when no message of its conversation is: an automatic title
    # repeats the first message, and the conversation is listed once
    t2 = thread(c, [("user", "Gardening tips for tomatoes")])
    js = search(c, "gardening")
    assert [(h["thread_id"], h["index"]) for h in js["items"]] == [(t2["id"], 0)], js
    t3 = thread(c, [("user", "water them daily"), ("user", "more gardening")], title="Gardening")
    js = search(c, "gardening")
    assert {(h["thread_id"], h["index"]) for h in js["items"]} == {(t2["id"], 0), (t3["id"], 1)}


def test_character_chats_are_found():
    c, _ = user()
    ch = expect(c.post("/api/characters", json={"name": "Marvin"}), 201, "character").json
    r = expect(c.post("/api/chat", json={"character_id": ch["id"],
                                          "message": "Tell me about the improbability drive"}),
               200, "chat")
    chat_id = r.json["chat_id"]
    js = search(c, "improbability")
    h = [h for h in js["items"] if h["index"] == 0][0]     # the echo ties with it (newer)
    assert h["kind"] == "chat" and h["chat_id"] == chat_id and h["index"] == 0, h
    assert h["role"] == "user" and h["updated_at"] == r.json["chat"]["last_updated"], h
    assert {h["index"] for h in js["items"]} <= {0, 1}, js     # the responder may echo it
    assert search(c, "improbability", kind="thread")["total"] == 0
    assert search(c, "improbability", kind="chat")["total"] == js["total"]
    expect(c.post("/api/chat/rename", json={"chat_id": chat_id, "title": "Hitchhiking"}), 200)
    js = search(c, "hitchhiking")
    assert js["total"] == 1 and js["items"][0]["index"] == -1, js
    expect(c.post("/api/chat/delete", json={"chat_id": chat_id}), 200)
    assert search(c, "improbability")["total"] == 0 and search(c, "hitchhiking")["total"] == 0


def test_changes_are_what_the_next_search_sees():
    """An append, a replacement of the messages and a delete are what the very next search sees (the index changes in the same transaction)."""
    c, _ = user()
    t = thread(c, [("user", "first kiwi"), ("assistant", "second kiwi"), ("user", "third mango")])
    assert search(c, "kiwi")["total"] == 2
    expect(c.post("%s/%d/messages" % (T, t["id"]), json={"role": "user", "content": "fourth kiwi"}),
           201, "append")
    js = search(c, "kiwi")
    assert js["total"] == 3 and {h["index"] for h in js["items"]} == {0, 1, 3}, js
    # replacing the messages drops the old ones from the index
    expect(c.put("%s/%d" % (T, t["id"]), json={"messages": [{"role": "user", "content": "only papaya"}]}),
           200, "replace")
    assert search(c, "mango")["total"] == 0
    js = search(c, "kiwi")            # only the automatic title "first kiwi" is left
    assert [h["index"] for h in js["items"]] == [-1], js
    assert search(c, "papaya")["items"][0]["index"] == 0
    expect(c.delete("%s/%d" % (T, t["id"])), 204, "delete")
    assert search(c, "papaya")["total"] == 0


def test_long_threads_across_segments():
    c, _ = user()
    msgs = [("user" if i % 2 == 0 else "assistant", "message number %d %s" % (i, "pad " * 40))
            for i in range(300)]
    msgs[257] = ("assistant", "the needle is here")
    t = thread(c, msgs)
    js = search(c, "needle")
    assert js["total"] == 1 and js["items"][0]["index"] == 257, js
    for i in range(70):
        expect(c.post("%s/%d/messages" % (T, t["id"]),
                      json={"role": "user", "content": "appended haystack %d" % i}), 201)
    js = search(c, "haystack", limit=100)
    assert js["total"] == 70 and {h["index"] for h in js["items"]} == set(range(300, 370)), js


def test_retention_drop_is_not_found():
    """A chat dropped by the retention trigger (--history-limit 2) is never found again."""
    with cv.Server(args=["--history-limit", "2"]) as srv:
        c, _ = user(srv=srv)
        ids = []
        for word in ("oldest", "middle", "newest"):
            r = expect(c.post("/api/chat", json={"message": "retention %s" % word}), 200, word)
            ids.append(r.json["chat_id"])
        js = search(c, "retention")
        # each chat: the user's message and the offline responder's echo of it
        assert {h["chat_id"] for h in js["items"]} == set(ids[1:]), js
        assert js["total"] == 4, js
        assert search(c, "oldest")["total"] == 0


def test_ranking_and_ties_newest_first():
    """bm25 without document lengths (schema version 12: the index keeps none): more of the
    words, and rarer ones, rank first; a word once in a long message ties with it once in a
    short one, and ties are newest first."""
    c, _ = user()
    t0 = thread(c, [("user", "walrus walrus and the walrus again")])
    t1 = thread(c, [("user", "walrus")])
    t2 = thread(c, [("user", "walrus")])
    t3 = thread(c, [("user", "a long message that mentions walrus once among many many other words"
                             " about the sea and the ice and the fish")])
    js = search(c, "walrus")
    order = [h["thread_id"] for h in js["items"]]
    assert order == [t0["id"], t3["id"], t2["id"], t1["id"]], js   # equal scores: newest first
    js = search(c, "walrus fish")
    assert [h["thread_id"] for h in js["items"]] == [t3["id"]], js
    expect(c.delete("%s/%d" % (T, t0["id"])), 204)
    js = search(c, "walrus")
    assert [h["thread_id"] for h in js["items"]] == [t3["id"], t2["id"], t1["id"]], js
    js = search(c, "walrus", limit=1, offset=1)
    assert js["total"] == 3 and [h["thread_id"] for h in js["items"]] == [t2["id"]], js
    js = search(c, "walrus", offset=10)
    assert js["items"] == [] and js["total"] == 3, js


def test_snippet_and_highlights_in_characters():
    c, _ = user()
    long_text = ("🙂 " * 150) + "the ocelot sleeps " + ("zz " * 300)
    thread(c, [("assistant", long_text)])
    js = search(c, "ocelot")
    h = js["items"][0]
    assert len(h["snippet"]) == 200 and h["snippet"] in long_text, h
    assert marked(h) == ["ocelot"], h
    start = h["highlights"][0][0]
    assert 0 < start <= 50, h                              # a little context before it
    thread(c, [("user", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 then lynx")])
    h = search(c, "lynx")["items"][0]
    assert h["highlights"] == [[len("𝔘𝔫𝔦𝔠𝔬𝔡𝔢 then "), 4]], h   # astral characters count once


def test_filters_archived_and_tags():
    c, _ = user()
    t1 = thread(c, [("user", "ibis one")])
    t2 = thread(c, [("user", "ibis two")])
    expect(c.put("%s/%d" % (T, t1["id"]), json={"archived": True, "tags": ["Birds"]}), 200, "organize")
    assert search(c, "ibis")["total"] == 2                       # default: archived found too
    js = search(c, "ibis", archived="false")
    assert [h["thread_id"] for h in js["items"]] == [t2["id"]], js
    js = search(c, "ibis", archived="true")
    assert [h["thread_id"] for h in js["items"]] == [t1["id"]], js
    js = search(c, "ibis", archived="1")          # read as the thread list reads it
    assert [h["thread_id"] for h in js["items"]] == [t1["id"]], js
    js = search(c, "ibis", tag="  birds ")        # trimmed, as the list's ?tag=
    assert [h["thread_id"] for h in js["items"]] == [t1["id"]], js
    js = search(c, "ibis", tag="BIRDS")
    assert [h["thread_id"] for h in js["items"]] == [t1["id"]], js
    assert search(c, "ibis", tag="fish")["total"] == 0


def test_acknowledged_writes_are_searchable_after_kill9():
    """An acknowledged append and chat are found after kill -9 and a restart; check passes."""
    with cv.Server() as srv:
        c, _ = user(srv=srv)
        t = thread(c, [("user", "before the crash")])
        expect(c.post("%s/%d/messages" % (T, t["id"]), json={"role": "user", "content": "quokka"}),
               201, "append")
        expect(c.post("/api/chat", json={"message": "wombat in a chat"}), 200, "chat")
        c.close()
        srv.kill9()
        srv.start()
        c2 = cv.Client(srv, c.token)
        assert search(c2, "quokka")["items"][0]["index"] == 1
        assert {h["index"] for h in search(c2, "wombat")["items"]} == {0, 1}
        r = cv.run_cli(["check"], db=srv.db)
        assert r.returncode == 0, r


def test_an_idle_server_merges_the_index_and_finds_the_same():
    """Each write transaction adds a segment to the index; FTS5 merges little as they come
    (automerge 8, schema version 14), and the server merges them once it is idle (db.c): down
    to one segment, every message still found, a deleted thread still gone, check passing.
    A write after the merging is found too."""
    with cv.Server() as srv:
        c, _ = user(srv=srv)
        t = thread(c, [("user", "numbat start")])
        for i in range(30):
            expect(c.post("%s/%d/messages" % (T, t["id"]),
                          json={"role": "user", "content": "numbat %d bilby%d" % (i, i)}), 201)
        gone = thread(c, [("user", "numbat soon deleted")])
        expect(c.delete("%s/%d" % (T, gone["id"])), 204, "delete")
        assert search(c, "numbat", limit=100)["total"] == 31
        segs = cv.wait_index_merged(srv.db)
        assert segs == 1, segs
        js = search(c, "numbat", limit=100)
        assert js["total"] == 31 and {h["index"] for h in js["items"]} == set(range(31)), js
        assert search(c, "bilby17")["items"][0]["index"] == 18
        assert search(c, "deleted")["total"] == 0
        expect(c.post("%s/%d/messages" % (T, t["id"]),
                      json={"role": "user", "content": "numbat after"}), 201)
        assert search(c, "after")["items"][0]["index"] == 31
        c.close()
        srv.stop()
        r = cv.run_cli(["check"], db=srv.db)
        assert r.returncode == 0, r


def test_migration_indexes_what_the_file_holds():
    """A file whose search index is missing (as a version-5 file is) gets every message and
    title indexed when it is opened."""
    with cv.Server() as srv:
        c, _ = user(srv=srv)
        thread(c, [("user", "platypus in a thread"), ("assistant", "echidna reply")], title="Monotremes")
        expect(c.post("/api/chat", json={"message": "platypus in a chat"}), 200, "chat")
        c.close()
        srv.stop()
        db = sqlite3.connect(srv.db)
        names = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type='trigger' AND name LIKE '%search%'")]
        assert len(names) == 11, names
        for n in names:
            db.execute("DROP TRIGGER %s" % n)
        db.execute("DROP VIEW search_messages")      # version 12: what the index holds
        db.execute("DROP VIEW search_titles")
        # the FTS5 table itself: its tokenizer is chatvault's, so remove it as rows
        db.execute("PRAGMA writable_schema=ON")
        db.execute("DELETE FROM sqlite_master WHERE name='search_index'")
        db.execute("PRAGMA writable_schema=OFF")
        for shadow in ("data", "idx", "config"):   # columnsize=0: no docsize
            db.execute("DROP TABLE search_index_%s" % shadow)
        db.execute("DROP TABLE search_queue")
        # what later versions added goes too: the file is as version 5 left it
        version = db.execute("PRAGMA user_version").fetchone()[0]
        assert version >= 7, version
        db.execute("DROP TABLE pictures")
        # version 8: thread sharing's table; retention that archives (its flag, the list index
        # that leads with it, the triggers) and refreshed copies, back as version 5 had them
        db.execute("DROP TABLE IF EXISTS thread_members")
        # version 9: the OpenAI endpoint's thread fingerprints
        db.execute("DROP TABLE IF EXISTS thread_fingerprints")
        db.execute("DROP TRIGGER IF EXISTS chat_threads_fingerprint_stale")
        # version 10: share links
        db.execute("DROP TABLE IF EXISTS share_links")
        # version 11: the change log and its triggers
        for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'"
                               " AND name LIKE 'changes_%'").fetchall():
            db.execute("DROP TRIGGER %s" % n)
        db.execute("DROP VIEW IF EXISTS change_log")        # with its INSTEAD OF trigger
        db.execute("DROP TABLE IF EXISTS changes")
        # version 13: the cluster's batch keys
        db.execute("DROP TABLE IF EXISTS cluster_batches")
        # versions 14 and 15: the index's merge settings and leaf size, rows of
        # search_index_config (dropped above)
        for n in ("chat_histories_retention", "chat_histories_retention_restore",
                  "characters_refresh_copies", "scenes_refresh_copies"):
            db.execute("DROP TRIGGER %s" % n)
        db.execute("DROP INDEX chat_histories_user_updated")
        db.execute("ALTER TABLE chat_histories DROP COLUMN archived")
        db.execute("CREATE INDEX chat_histories_user_updated"
                   " ON chat_histories(user_id, last_updated DESC, id DESC)")
        db.execute("""CREATE TRIGGER chat_histories_retention AFTER INSERT ON chat_histories
  WHEN EXISTS (SELECT 1 FROM chat_histories WHERE user_id = NEW.user_id
                LIMIT 1 OFFSET coalesce((SELECT max(CAST(value AS INTEGER), 1)
                                           FROM settings WHERE key = 'history_limit'), 30))
BEGIN
  DELETE FROM chat_histories
   WHERE user_id = NEW.user_id
     AND id NOT IN (SELECT id FROM chat_histories WHERE user_id = NEW.user_id
                     ORDER BY last_updated DESC, id DESC
                     LIMIT coalesce((SELECT max(CAST(value AS INTEGER), 1)
                                       FROM settings WHERE key = 'history_limit'), 30));
END""")
        db.execute("DELETE FROM settings WHERE key IN ('history_overflow', 'refresh_copies')")
        db.execute("PRAGMA user_version=5")
        db.commit()
        db.close()
        srv.start()
        c2 = cv.Client(srv, c.token)
        js = search(c2, "platypus")
        assert {(h["kind"], h["index"]) for h in js["items"]} == {
            ("thread", 0), ("chat", 0), ("chat", 1)}, js
        assert search(c2, "echidna")["total"] == 1 and search(c2, "monotremes")["total"] == 1


def test_check_compares_the_index_with_the_data():
    """The index is deleted from with the texts it was indexed with (schema version 12), so
    `chatvault check` rebuilds it from the data and compares them term by term: after edits,
    truncations, renames, deletions of a thread, a chat and an account it is clean; a message
    changed behind the index's back (no trigger sees an UPDATE that keeps n) is reported."""
    with cv.Server(args=["--history-limit", "2"]) as srv:
        c, _ = user(srv=srv)
        t1 = thread(c, [("user", "kestrel one"), ("assistant", "kestrel reply"),
                        ("user", "heron three")], title="Birds")
        t2 = thread(c, [("user", "kestrel elsewhere")] * 20)
        expect(c.request("PATCH", "%s/%d/messages/0" % (T, t1["id"]), json={"content": "osprey"}), 200)
        expect(c.put("%s/%d" % (T, t1["id"]), json={"title": "Raptors"}), 200)
        expect(c.delete("%s/%d" % (T, t2["id"])), 204)
        for word in ("first", "second", "third"):          # retention drops the first
            expect(c.post("/api/chat", json={"message": "kestrel chat " + word}), 200, word)
        other, _ = user(srv=srv)
        thread(other, [("user", "kestrel of another")])
        expect(other.delete("/api/users/me"), 204)
        js = search(c, "kestrel")
        assert js["total"] == 5, js              # t1's reply, two chats of two messages
        assert search(c, "osprey")["total"] == 1 and search(c, "raptors")["total"] == 1
        assert search(c, "birds")["total"] == 0
        c.close()
        srv.stop()
        r = cv.run_cli(["check"], db=srv.db)
        assert r.returncode == 0 and "search index: ok" in r.stdout, r
        db = sqlite3.connect(srv.db)
        db.execute("UPDATE segments SET messages = json_replace(messages, '$[0].content',"
                   " 'tampered text') WHERE id = (SELECT min(id) FROM segments)")
        db.commit()
        db.close()
        r = cv.run_cli(["check"], db=srv.db)
        assert r.returncode != 0, r
        assert "terms differ from the data" in r.stdout + r.stderr and "tampered" in r.stdout + r.stderr, r
        # what the check builds from is gone: it says it cannot check, and fails
        db = sqlite3.connect(srv.db)
        db.execute("DROP VIEW search_titles")
        db.commit()
        db.close()
        r = cv.run_cli(["check"], db=srv.db)
        assert r.returncode != 0 and "search index: cannot check" in r.stdout + r.stderr, r
