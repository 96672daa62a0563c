"""Assistant threads: /api/v1/chat-threads (contract: "Assistant threads")."""

import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_422, expect_error, expect_ts  # noqa: E402

SRV = None
T = "/api/v1/chat-threads"
# contract v2 ("Organize") adds pinned, archived and tags to both shapes
THREAD_KEYS = {"id", "user_id", "title", "messages", "created_at", "updated_at", "pinned",
               "archived", "tags"}
SUMMARY_KEYS = {"id", "title", "created_at", "updated_at", "message_count", "pinned", "archived",
                "tags"}
APPEND_KEYS = {"thread_id", "index", "message", "title", "updated_at"}
IMPORT_KEYS = {"imported", "skipped", "threads"}
ELL = "\u2026"


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def user(tag="th"):
    """A fresh user: (keep-alive client with its token, user json)."""
    return cv.new_client(SRV, tag)


def check_thread(js, what="thread"):
    assert isinstance(js, dict) and set(js) == THREAD_KEYS, "%s keys: %r" % (what, js)
    assert isinstance(js["id"], int) and not isinstance(js["id"], bool), js
    assert isinstance(js["messages"], list), js
    expect_ts(js["created_at"], what + ".created_at")
    expect_ts(js["updated_at"], what + ".updated_at")
    assert js["updated_at"] >= js["created_at"], js
    return js


def create(c, body=None, status=201):
    r = c.post(T, json={} if body is None else body)
    expect(r, status, "create thread")
    return check_thread(r.json) if status == 201 else r


def get(c, tid):
    return check_thread(expect(c.get("%s/%d" % (T, tid)), 200, "get thread").json)


def listing(c, query=""):
    r = expect(c.get(T + query), 200, "list " + query)
    assert isinstance(r.json, list), r
    for s in r.json:
        assert isinstance(s, dict) and set(s) == SUMMARY_KEYS, "summary keys: %r" % (s,)
        expect_ts(s["created_at"])
        expect_ts(s["updated_at"])
    total = r.header("X-Total-Count")
    assert total is not None and total.isdigit(), "X-Total-Count: %r" % total
    return r.json, int(total)


def append(c, tid, role, content, status=201, **extra):
    body = {"role": role, "content": content}
    body.update(extra)
    r = c.post("%s/%d/messages" % (T, tid), json=body)
    expect(r, status, "append")
    return r


def tick():
    """Let the millisecond clock move so updated_at strictly increases."""
    time.sleep(0.015)


# --- create / get ---------------------------------------------------------------------------

def test_create_empty_thread_defaults():
    c, u = user()
    t = create(c)
    assert t["title"] == "New chat", t
    assert t["messages"] == [], t
    assert t["user_id"] == u["id"], (t, u)
    assert get(c, t["id"]) == t


def test_create_with_title_and_messages_drops_extra_keys():
    c, _ = user()
    t = create(c, {"title": "My title", "messages": [
        {"role": "user", "content": "hi", "id": 7, "timestamp": "x"},
        {"role": "assistant", "content": "hello", "model": "gpt"}]})
    assert t["title"] == "My title", t
    assert t["messages"] == [{"role": "user", "content": "hi"},
                             {"role": "assistant", "content": "hello"}], t["messages"]
    assert get(c, t["id"]) == t


def test_create_validation_422():
    c, _ = user()
    expect_422(c.post(T, json={"title": ""}), loc=["body", "title"], what="empty title")
    expect_422(c.post(T, json={"title": "x" * 256}), loc=["body", "title"], what="256-char title")
    expect_422(c.post(T, json={"title": 123}), loc=["body", "title"], what="numeric title")
    expect_422(c.post(T, json={"title": ["a"]}), loc=["body", "title"], what="array title")
    expect_422(c.post(T, json={"messages": "hello"}), loc=["body", "messages"], what="messages str")
    expect_422(c.post(T, json={"messages": {"role": "user", "content": "x"}}),
               loc=["body", "messages"], what="messages object")
    bad_messages = [
        ([{"role": "system", "content": "x"}], "system role"),
        ([{"role": "User", "content": "x"}], "role case"),
        ([{"role": "tool", "content": "x"}], "tool role"),
        ([{"role": None, "content": "x"}], "null role"),
        ([{"content": "x"}], "missing role"),
        ([{"role": "user"}], "missing content"),
        ([{"role": "user", "content": 5}], "numeric content"),
        ([{"role": "user", "content": None}], "null content"),
        ([{"role": "user", "content": ["x"]}], "array content"),
        (["just text"], "string message"),
        ([{"role": "user", "content": "ok"}, {"role": "system", "content": "x"}], "second bad"),
    ]
    for msgs, what in bad_messages:
        expect_422(c.post(T, json={"messages": msgs}), loc_prefix=["body", "messages"], what=what)
    expect_422(c.post(T, json={"messages": [{"role": "user", "content": "ok"},
                                            {"role": "system", "content": "x"}]}),
               loc_prefix=["body", "messages", 1], what="loc names the bad element")
    expect_422(c.post(T, json=[]), what="array body")
    expect_422(c.post(T, json="title"), what="string body")
    _, total = listing(c)
    assert total == 0, "a rejected create stored something: X-Total-Count %d" % total


def test_title_length_counts_characters():
    c, _ = user()
    t = create(c, {"title": "x" * 255})
    assert t["title"] == "x" * 255
    emoji = "\U0001F600" * 255           # 255 characters, 1020 bytes
    t = create(c, {"title": emoji})
    assert t["title"] == emoji
    assert get(c, t["id"])["title"] == emoji
    expect_422(c.post(T, json={"title": "\U0001F600" * 256}), loc=["body", "title"],
               what="256 emoji")
    cjk = "\u6f22" * 255
    assert create(c, {"title": cjk})["title"] == cjk
    expect_422(c.post(T, json={"title": "\u6f22" * 256}), loc=["body", "title"], what="256 CJK")
    # PUT applies the same rule.
    expect(c.put("%s/%d" % (T, t["id"]), json={"title": "\u00e9" * 255}), 200)
    expect_422(c.put("%s/%d" % (T, t["id"]), json={"title": "\u00e9" * 256}), loc=["body", "title"])


def test_get_unknown_thread_404():
    c, _ = user()
    expect_error(c.get("%s/%d" % (T, 2_000_000_000)), 404)


def test_bad_thread_ids_are_not_500():
    # FastAPI would answer 422 (path parameter not an int); a router matching only digits
    # answers 404. Either is acceptable; a crash or 500 is not.
    c, _ = user()
    for tid in ("abc", "0", "-1", "1.5", "99999999999999999999999", "1e3", "%00", "1%20"):
        r = c.get("%s/%s" % (T, tid))
        if tid == "%00":
            # an encoded NUL byte in a path is refused before routing (400 Malformed path)
            assert r.status == 400, "GET %s/%s: %r" % (T, tid, r)
            continue
        assert r.status in (404, 422), "GET %s/%s: %r" % (T, tid, r)
        if r.status == 404:
            expect_error(r, 404, tid)
        else:
            expect_422(r, what=tid)
    expect(SRV.req("GET", "/healthz"), 200)


# --- list -----------------------------------------------------------------------------------

def test_list_summaries_counts_and_order():
    c, _ = user()
    a = create(c, {"title": "A"})
    tick()
    b = create(c, {"title": "B", "messages": [{"role": "user", "content": "1"},
                                               {"role": "assistant", "content": "2"}]})
    tick()
    d = create(c, {"title": "D", "messages": [{"role": "user", "content": "1"}]})
    items, total = listing(c)
    assert total == 3, total
    assert [s["id"] for s in items] == [d["id"], b["id"], a["id"]], items
    counts = {s["id"]: s["message_count"] for s in items}
    assert counts == {a["id"]: 0, b["id"]: 2, d["id"]: 1}, counts
    for s, full in zip(items, (d, b, a)):
        assert (s["title"], s["created_at"], s["updated_at"]) == \
            (full["title"], full["created_at"], full["updated_at"]), (s, full)
    # Appending to the oldest moves it to the top and updates its count.
    tick()
    append(c, a["id"], "user", "bump")
    items, _ = listing(c)
    assert [s["id"] for s in items] == [a["id"], d["id"], b["id"]], items
    assert items[0]["message_count"] == 1, items[0]
    # PUT also counts as an update.
    tick()
    expect(c.put("%s/%d" % (T, b["id"]), json={"title": "B2"}), 200)
    items, _ = listing(c)
    assert [s["id"] for s in items] == [b["id"], a["id"], d["id"]], items


def test_list_ties_broken_by_higher_id_first():
    c, _ = user()
    same = "2024-05-05T05:05:05.555Z"
    payload = [{"client_id": "tie-%d" % i, "title": "tie %d" % i, "created_at": same,
                "updated_at": same} for i in range(4)]
    r = expect(c.post(T + "/import", json=payload), 200)
    ids = [x["id"] for x in r.json["threads"]]
    newer = create(c, {"title": "now"})
    items, total = listing(c)
    assert total == 5
    assert [s["id"] for s in items] == [newer["id"]] + sorted(ids, reverse=True), \
        "expected newest first then ties by id desc: %r" % [(s["id"], s["updated_at"]) for s in items]


def test_list_pagination():
    c, _ = user()
    made = []
    for i in range(5):
        made.append(create(c, {"title": "p%d" % i})["id"])
        tick()
    full, total = listing(c)
    assert total == 5 and [s["id"] for s in full] == made[::-1], full
    pages = []
    for off in (0, 2, 4):
        items, total = listing(c, "?limit=2&offset=%d" % off)
        assert total == 5, "X-Total-Count is the total, not the page size: %d" % total
        pages += items
    assert [s["id"] for s in pages] == [s["id"] for s in full], pages
    items, total = listing(c, "?limit=2&offset=4")
    assert len(items) == 1
    items, total = listing(c, "?offset=5")
    assert items == [] and total == 5
    items, total = listing(c, "?offset=1000&limit=200")
    assert items == [] and total == 5
    items, _ = listing(c, "?limit=1")
    assert [s["id"] for s in items] == [made[-1]]
    items, _ = listing(c, "?limit=200&offset=0")
    assert len(items) == 5


def test_list_query_validation_422():
    c, _ = user()
    for q, name in (("limit=0", "limit"), ("limit=201", "limit"), ("limit=-1", "limit"),
                    ("limit=abc", "limit"), ("limit=1.5", "limit"), ("limit=", "limit"),
                    ("limit=99999999999999999999999", "limit"),
                    ("offset=-1", "offset"), ("offset=x", "offset"), ("offset=1.5", "offset")):
        expect_422(c.get(T + "?" + q), loc=["query", name], what=q)


def test_list_default_limit_is_50():
    c, _ = user()
    payload = [{"client_id": "many-%d" % i, "title": "t%d" % i} for i in range(55)]
    r = expect(c.post(T + "/import", json=payload), 200)
    assert r.json["imported"] == 55, r.json
    items, total = listing(c)
    assert total == 55 and len(items) == 50, (total, len(items))
    items, total = listing(c, "?offset=50")
    assert len(items) == 5


# --- put ------------------------------------------------------------------------------------

def test_put_title_only_keeps_messages():
    c, _ = user()
    msgs = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    t = create(c, {"title": "old", "messages": msgs})
    tick()
    r = expect(c.put("%s/%d" % (T, t["id"]), json={"title": "new"}), 200)
    u = check_thread(r.json)
    assert u["title"] == "new" and u["messages"] == msgs, u
    assert u["id"] == t["id"] and u["created_at"] == t["created_at"], (u, t)
    assert u["updated_at"] > t["updated_at"], "updated_at did not move: %r -> %r" % (
        t["updated_at"], u["updated_at"])
    assert get(c, t["id"]) == u


def test_put_messages_replaces_array():
    c, _ = user()
    t = create(c, {"title": "keep", "messages": [{"role": "user", "content": "1"},
                                                  {"role": "assistant", "content": "2"},
                                                  {"role": "user", "content": "3"}]})
    new = [{"role": "assistant", "content": "only", "junk": True}]
    u = expect(c.put("%s/%d" % (T, t["id"]), json={"messages": new}), 200).json
    assert u["messages"] == [{"role": "assistant", "content": "only"}], u
    assert u["title"] == "keep", u
    u = expect(c.put("%s/%d" % (T, t["id"]), json={"messages": []}), 200).json
    assert u["messages"] == [], u
    items, _ = listing(c)
    assert items[0]["message_count"] == 0, items
    u = expect(c.put("%s/%d" % (T, t["id"]), json={"title": "both", "messages": [
        {"role": "user", "content": "x"}]}), 200).json
    assert u["title"] == "both" and u["messages"] == [{"role": "user", "content": "x"}], u
    assert get(c, t["id"]) == u
    items, _ = listing(c)
    assert items[0]["message_count"] == 1, items


def test_put_needs_at_least_one_field_and_valid_values():
    c, _ = user()
    t = create(c, {"title": "v"})
    p = "%s/%d" % (T, t["id"])
    expect_422(c.put(p, json={}), what="empty PUT body")
    expect_422(c.put(p, json={"unknown": 1}), what="only unknown keys")
    expect_422(c.put(p, json={"title": ""}), loc=["body", "title"])
    expect_422(c.put(p, json={"title": 5}), loc=["body", "title"])
    expect_422(c.put(p, json={"messages": "x"}), loc=["body", "messages"])
    expect_422(c.put(p, json={"messages": [{"role": "system", "content": "x"}]}),
               loc_prefix=["body", "messages"])
    expect_422(c.put(p, json=[]))
    assert get(c, t["id"]) == t, "a rejected PUT changed the thread"


def test_put_unknown_thread_404():
    c, _ = user()
    expect_error(c.put("%s/%d" % (T, 2_000_000_001), json={"title": "x"}), 404)


# --- delete ---------------------------------------------------------------------------------

def test_delete_then_404():
    c, _ = user()
    t = create(c, {"title": "gone"})
    keep = create(c, {"title": "kept"})
    p = "%s/%d" % (T, t["id"])
    r = expect(c.delete(p), 204)
    assert r.body == b"", "204 with a body: %r" % r.body
    expect_error(c.get(p), 404, "GET after DELETE")
    expect_error(c.delete(p), 404, "DELETE twice")
    expect_error(c.put(p, json={"title": "x"}), 404, "PUT after DELETE")
    expect_error(c.post(p + "/messages", json={"role": "user", "content": "x"}), 404,
                 "append after DELETE")
    items, total = listing(c)
    assert total == 1 and [s["id"] for s in items] == [keep["id"]], items


# --- append ---------------------------------------------------------------------------------

def test_append_returns_index_and_message():
    c, _ = user()
    t = create(c, {"title": "ap"})
    got = []
    for i, (role, content) in enumerate((("user", "one"), ("assistant", "two"), ("user", "three"))):
        tick()
        r = append(c, t["id"], role, content, extra="dropped")
        js = r.json
        assert set(js) == APPEND_KEYS, js
        assert js["thread_id"] == t["id"] and js["index"] == i, js
        assert js["message"] == {"role": role, "content": content}, js
        assert js["title"] == "ap", js
        expect_ts(js["updated_at"])
        got.append(js)
    full = get(c, t["id"])
    assert full["messages"] == [{"role": "user", "content": "one"},
                                {"role": "assistant", "content": "two"},
                                {"role": "user", "content": "three"}], full["messages"]
    assert full["updated_at"] == got[-1]["updated_at"], (full, got[-1])
    assert got[0]["updated_at"] < got[-1]["updated_at"], got
    items, _ = listing(c)
    assert items[0]["message_count"] == 3, items


def test_append_validation_422():
    c, _ = user()
    t = create(c)
    p = "%s/%d/messages" % (T, t["id"])
    expect_422(c.post(p, json={"role": "system", "content": "x"}), loc=["body", "role"])
    expect_422(c.post(p, json={"role": "admin", "content": "x"}), loc=["body", "role"])
    expect_422(c.post(p, json={"content": "x"}), loc=["body", "role"])
    expect_422(c.post(p, json={"role": "user"}), loc=["body", "content"])
    expect_422(c.post(p, json={"role": "user", "content": 1}), loc=["body", "content"])
    expect_422(c.post(p, json={"role": "user", "content": {"a": 1}}), loc=["body", "content"])
    expect_422(c.post(p, json=[{"role": "user", "content": "x"}]))
    expect_422(c.post(p, body=b'{"role":"user","content":"x"'))
    assert get(c, t["id"])["messages"] == [], "a rejected append stored something"


def test_append_unknown_thread_404():
    c, _ = user()
    expect_error(c.post("%s/%d/messages" % (T, 2_000_000_002),
                        json={"role": "user", "content": "x"}), 404)


def test_concurrent_appends_none_lost():
    _, tok, _ = cv.new_user(SRV, "conc")
    c = cv.Client(SRV, tok)
    t = create(c, {"title": "hot", "messages": [{"role": "user", "content": "seed"}]})
    n = 50
    contents = ["m-%02d-%s" % (i, uuid.uuid4().hex[:8]) for i in range(n)]

    def one(content):
        return cv.request(SRV, "POST", "%s/%d/messages" % (T, t["id"]), token=tok,
                          json={"role": "user", "content": content})
    results = cv.parallel(one, [(x,) for x in contents])
    bad = [(x, r) for x, r in zip(contents, results) if not isinstance(r, cv.Resp) or r.status != 201]
    assert not bad, "%d of %d appends failed, e.g. %r" % (len(bad), n, bad[:3])
    msgs = get(c, t["id"])["messages"]
    assert len(msgs) == n + 1, "expected %d messages, found %d" % (n + 1, len(msgs))
    stored = [m["content"] for m in msgs]
    missing = [x for x in contents if x not in stored]
    assert not missing, "lost appends: %r" % missing
    idx = sorted(r.json["index"] for r in results)
    assert idx == list(range(1, n + 1)), "indexes are not 1..%d: %r" % (n, idx)
    for x, r in zip(contents, results):
        assert msgs[r.json["index"]]["content"] == x, "index %d does not hold %r" % (r.json["index"], x)
    items, _ = listing(c)
    assert items[0]["message_count"] == n + 1, items[0]


def test_import_refuses_times_in_the_future():
    # issue 10 item 5: a far-future updated_at would pin every later write of the user at the
    # end of the representable range (and once wrapped to year 0000); a few minutes of clock
    # skew are accepted
    c, _ = user()
    r = c.post(T + "/import", json=[{"client_id": "f1", "updated_at": "9999-12-31T23:59:59.999Z"}])
    detail = expect_422(r, loc_prefix=["body"])
    assert any(e["type"] == "datetime_future" for e in detail), detail
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
    r = expect(c.post(T + "/import", json=[{"client_id": "f2", "created_at": soon}]), 200)
    assert r.json["imported"] == 1, r.json


def segment_cap():
    """CONV_SEG_MESSAGES, the messages a segment holds at most (src/store_conv.h)."""
    import re
    with open(os.path.join(cv.ROOT, "src", "store_conv.h"), encoding="utf-8") as f:
        return int(re.search(r"#define CONV_SEG_MESSAGES (\d+)", f.read()).group(1))


def test_200_concurrent_appends_at_the_segment_cap():
    # a thread holding N-1 messages (short ones: the message cap binds, not the byte cap), then
    # 200 appends at once: 200 more, indexes distinct, each message at its index, order kept
    cap = segment_cap()
    _, tok, _ = cv.new_user(SRV, "cap")
    c = cv.Client(SRV, tok)
    t = create(c, {"title": "at the cap", "messages": [{"role": "user", "content": "p%d" % i}
                                                      for i in range(cap - 1)]})
    n = 200
    contents = ["c%03d" % i for i in range(n)]

    def one(content):
        return cv.request(SRV, "POST", "%s/%d/messages" % (T, t["id"]), token=tok,
                          json={"role": "user", "content": content})
    results = cv.parallel(one, [(x,) for x in contents])
    bad = [(x, r) for x, r in zip(contents, results) if not isinstance(r, cv.Resp) or r.status != 201]
    assert not bad, "%d of %d appends failed, e.g. %r" % (len(bad), n, bad[:3])
    idx = sorted(r.json["index"] for r in results)
    assert idx == list(range(cap - 1, cap - 1 + n)), "indexes not distinct and contiguous: %r" % idx
    msgs = get(c, t["id"])["messages"]
    assert len(msgs) == cap - 1 + n
    assert [m["content"] for m in msgs[:cap - 1]] == ["p%d" % i for i in range(cap - 1)]
    for x, r in zip(contents, results):
        assert msgs[r.json["index"]]["content"] == x, "index %d does not hold %r" % (r.json["index"], x)
    # the page route agrees with the whole thread across the segment boundaries
    before = cap + 50
    page = expect(c.get("%s/%d/messages?before=%d&limit=100" % (T, t["id"], before)), 200)
    assert [(m["index"], m["content"]) for m in page.json] == \
        [(i, msgs[i]["content"]) for i in range(max(0, before - 100), before)]


def test_messages_page_route():
    c, _ = user()
    t = create(c, {"messages": [{"role": "user" if i % 2 == 0 else "assistant", "content": "m%d" % i}
                                for i in range(130)]})
    p = "%s/%d/messages" % (T, t["id"])
    r = expect(c.get(p), 200)           # default: the last 50
    assert r.header("X-Total-Count") == "130"
    assert [m["index"] for m in r.json] == list(range(80, 130))
    assert r.json[0] == {"index": 80, "role": "user", "content": "m80"}
    assert [m["index"] for m in expect(c.get(p + "?before=10&limit=500"), 200).json] == list(range(10))
    assert expect(c.get(p + "?before=0"), 200).json == []
    assert [m["index"] for m in expect(c.get(p + "?before=999999&limit=2"), 200).json] == [128, 129]
    for q in ("?limit=0", "?limit=501", "?before=-1", "?limit=x"):
        expect_422(c.get(p + q))
    other, _ = user()
    expect_error(other.get(p), 403)
    expect_error(c.get("%s/%d/messages" % (T, 2_000_000_003)), 404)
    empty = create(c, {})
    r = expect(c.get("%s/%d/messages" % (T, empty["id"])), 200)
    assert r.json == [] and r.header("X-Total-Count") == "0"


def test_concurrent_appends_of_owner_and_stranger_in_one_batch():
    # Appends to one thread are applied in groups (one UPDATE per batch); a stranger's appends
    # landing in the owner's group must get 403 and change nothing, and every caller of a batch
    # gets the title the thread has after it (the automatic one, from the first user message).
    c, _ = user("mix-owner")
    _, tok_b, _ = cv.new_user(SRV, "mix-stranger")
    t = create(c)
    assert t["title"] == "New chat", t
    tok_a = c.token
    jobs = [(tok_a if i % 2 == 0 else tok_b, "mix-%02d-%s" % (i, uuid.uuid4().hex[:8]))
            for i in range(60)]

    def one(tok, content):
        return cv.request(SRV, "POST", "%s/%d/messages" % (T, t["id"]), token=tok,
                          json={"role": "user", "content": content})
    results = cv.parallel(one, jobs)
    final = get(c, t["id"])
    stored = [m["content"] for m in final["messages"]]
    for (tok, content), r in zip(jobs, results):
        assert isinstance(r, cv.Resp), r
        if tok == tok_a:
            assert r.status == 201, (content, r)
            assert r.json["title"] == final["title"], (r.json, final["title"])
            assert content in stored, content
        else:
            expect_error(r, 403, "stranger append")
            assert content not in stored, content
    assert len(stored) == 30 and final["title"] == stored[0], (len(stored), final["title"])


# --- auto-title -----------------------------------------------------------------------------

def autotitle(first_user_message):
    c, _ = user("title")
    t = create(c)
    r = append(c, t["id"], "user", first_user_message)
    assert get(c, t["id"])["title"] == r.json["title"]
    return r.json["title"]


def test_autotitle_first_line():
    got = autotitle("Hello world\nsecond line\nthird")
    assert got == "Hello world", repr(got)


def test_autotitle_exactly_60_chars_is_not_cut():
    line = ("abcd " * 12)[:59] + "z"          # 60 characters
    assert len(line) == 60
    got = autotitle(line + "\nmore")
    assert got == line, repr(got)


def test_autotitle_cut_at_word_boundary_with_ellipsis():
    # 10-character words: the 60-character cut falls on a space after the 6th word.
    line = " ".join(["abcdefghi"] * 10)
    got = autotitle(line)
    assert got == " ".join(["abcdefghi"] * 6) + ELL, repr(got)
    # A word straddling character 60 is dropped whole.
    line = "x" * 55 + " " + "y" * 10 + " tail"
    got = autotitle(line)
    assert got == "x" * 55 + ELL, repr(got)


def test_autotitle_counts_characters_not_bytes():
    line = " ".join(["\u00fc\u00e9\u00f6\u00e4\u00df\u00e7\u00f1\u00f8\u00e5"] * 10)  # 2-byte letters
    got = autotitle(line)
    assert got == " ".join(["\u00fc\u00e9\u00f6\u00e4\u00df\u00e7\u00f1\u00f8\u00e5"] * 6) + ELL, repr(got)
    line = " ".join(["\U0001F600" * 4] * 20)                          # 4-byte emoji words
    got = autotitle(line)
    assert got == " ".join(["\U0001F600" * 4] * 12) + ELL, repr(got)


def test_autotitle_only_from_user_message_and_only_once():
    c, _ = user("title")
    t = create(c)
    r = append(c, t["id"], "assistant", "I am the assistant")
    assert r.json["title"] == "New chat", r.json
    r = append(c, t["id"], "user", "First question")
    assert r.json["title"] == "First question", r.json
    r = append(c, t["id"], "user", "Second question")
    assert r.json["title"] == "First question", r.json
    assert get(c, t["id"])["title"] == "First question"


def test_autotitle_on_create_with_messages():
    c, _ = user("title")
    t = create(c, {"messages": [{"role": "assistant", "content": "Welcome"},
                                {"role": "user", "content": "Plan my trip\nto Rome"}]})
    assert t["title"] == "Plan my trip", t


def test_explicit_title_is_never_replaced():
    c, _ = user("title")
    t = create(c, {"title": "Mine"})
    r = append(c, t["id"], "user", "Something else entirely")
    assert r.json["title"] == "Mine" and get(c, t["id"])["title"] == "Mine"


# --- import ---------------------------------------------------------------------------------

def test_import_keeps_data_and_timestamps():
    c, u = user("imp")
    payload = [
        {"client_id": "local-1", "title": "From browser",
         "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
         "created_at": "2024-01-02T03:04:05.678Z", "updated_at": "2024-02-03T04:05:06.789Z"},
        {"client_id": "local-2", "title": "Second", "messages": [],
         "created_at": "2023-12-31T23:59:59.001Z", "updated_at": "2024-01-01T00:00:00.000Z"},
    ]
    r = expect(c.post(T + "/import", json=payload), 200)
    js = r.json
    assert set(js) == IMPORT_KEYS, js
    assert js["imported"] == 2 and js["skipped"] == 0, js
    assert [x["client_id"] for x in js["threads"]] == ["local-1", "local-2"], js
    for x in js["threads"]:
        assert set(x) == {"client_id", "id"} and isinstance(x["id"], int), x
    for x, p in zip(js["threads"], payload):
        t = get(c, x["id"])
        assert t["user_id"] == u["id"]
        assert t["title"] == p["title"], t
        assert t["messages"] == p["messages"], t
        assert t["created_at"] == p["created_at"], (t["created_at"], p["created_at"])
        assert t["updated_at"] == p["updated_at"], (t["updated_at"], p["updated_at"])
    items, total = listing(c)
    assert total == 2 and [s["id"] for s in items] == [x["id"] for x in js["threads"]], items
    assert [s["message_count"] for s in items] == [2, 0], items


def test_import_is_idempotent():
    c, _ = user("imp")
    payload = [{"client_id": "c-%d" % i, "title": "t%d" % i,
                "messages": [{"role": "user", "content": "m%d" % i}],
                "created_at": "2025-06-01T12:00:00.%03dZ" % i,
                "updated_at": "2025-06-02T12:00:00.%03dZ" % i} for i in range(3)]
    first = expect(c.post(T + "/import", json=payload), 200).json
    assert first["imported"] == 3 and first["skipped"] == 0, first
    second = expect(c.post(T + "/import", json=payload), 200).json
    assert second["imported"] == 0 and second["skipped"] == 3, second
    assert second["threads"] == first["threads"], (first, second)
    items, total = listing(c)
    assert total == 3, total
    for x, p in zip(first["threads"], payload):
        t = get(c, x["id"])
        assert t["messages"] == p["messages"] and t["updated_at"] == p["updated_at"], t
    # A payload mixing known and new client_ids imports only the new ones.
    third = expect(c.post(T + "/import", json=payload[:1] + [{"client_id": "c-new"}]), 200).json
    assert third["imported"] == 1 and third["skipped"] == 1, third
    _, total = listing(c)
    assert total == 4


def test_import_duplicate_client_id_in_one_payload():
    c, _ = user("imp")
    r = expect(c.post(T + "/import", json=[{"client_id": "same", "title": "one"},
                                            {"client_id": "same", "title": "two"}]), 200).json
    assert r["imported"] == 1 and r["skipped"] == 1, r
    assert r["threads"][0]["id"] == r["threads"][1]["id"], r
    _, total = listing(c)
    assert total == 1


def test_import_normalizes_timestamps_to_contract_format():
    # "The same instant, written in the contract's format."
    c, _ = user("imp")
    cases = [("2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000Z"),
             ("2024-01-02T03:04:05.5+02:00", "2024-01-02T01:04:05.500Z"),
             ("2024-03-01T00:30:00.250-01:00", "2024-03-01T01:30:00.250Z")]
    payload = [{"client_id": "ts-%d" % i, "created_at": given, "updated_at": given}
               for i, (given, _) in enumerate(cases)]
    r = expect(c.post(T + "/import", json=payload), 200).json
    for x, (given, want) in zip(r["threads"], cases):
        t = get(c, x["id"])
        assert t["created_at"] == want and t["updated_at"] == want, \
            "%s should come back as %s, got %r / %r" % (given, want, t["created_at"], t["updated_at"])


def test_import_defaults():
    c, _ = user("imp")
    before = time.time()
    r = expect(c.post(T + "/import", json=[{"client_id": "bare"}]), 200).json
    t = get(c, r["threads"][0]["id"])
    assert t["messages"] == [], t
    assert isinstance(t["title"], str) and 1 <= len(t["title"]) <= 255, t
    expect_ts(t["created_at"])
    assert t["created_at"][:4] == time.strftime("%Y", time.gmtime(before)), t
    r = expect(c.post(T + "/import", json=[]), 200).json
    assert r == {"imported": 0, "skipped": 0, "threads": []}, r


def test_import_is_per_user():
    a, _ = user("impa")
    b, _ = user("impb")
    ra = expect(a.post(T + "/import", json=[{"client_id": "shared-id", "title": "A"}]), 200).json
    rb = expect(b.post(T + "/import", json=[{"client_id": "shared-id", "title": "B"}]), 200).json
    assert ra["imported"] == 1 and rb["imported"] == 1, (ra, rb)
    assert ra["threads"][0]["id"] != rb["threads"][0]["id"]
    assert get(b, rb["threads"][0]["id"])["title"] == "B"


def test_import_validation_rejects_whole_request():
    c, _ = user("imp")
    good = {"client_id": "fine", "title": "fine"}
    expect_422(c.post(T + "/import", json={"client_id": "x"}), what="object instead of array")
    expect_422(c.post(T + "/import", json=[good, {"title": "no id"}]),
               loc=["body", 1, "client_id"], what="missing client_id")
    expect_422(c.post(T + "/import", json=[good, {"client_id": "b", "created_at": "yesterday"}]),
               loc_prefix=["body", 1, "created_at"], what="bad created_at")
    expect_422(c.post(T + "/import", json=[good, {"client_id": "b", "updated_at": 12}]),
               loc_prefix=["body", 1, "updated_at"], what="numeric updated_at")
    expect_422(c.post(T + "/import", json=[good, {"client_id": "b", "messages": [
        {"role": "system", "content": "x"}]}]), loc_prefix=["body", 1, "messages"],
        what="system message")
    expect_422(c.post(T + "/import", json=[good, {"client_id": "b", "title": ""}]),
               loc_prefix=["body", 1, "title"], what="empty title")
    expect_422(c.post(T + "/import", json=[good, {"client_id": "b", "title": "a\u0000b"}]),
               loc_prefix=["body", 1, "title"], what="NUL in title")
    _, total = listing(c)
    assert total == 0, "an import that answered 422 stored %d threads" % total


# --- strings round-trip ---------------------------------------------------------------------

ODD_STRINGS = [
    "'; DROP TABLE chat_threads; --",
    "\" OR 1=1 --",
    "Robert'); DELETE FROM users WHERE ('1'='1",
    "1; SELECT * FROM tokens /* */ UNION SELECT NULL,NULL--",
    "%s %d %n %x %%",
    "${jndi:ldap://x/a} {{7*7}} $(id) `id`",
    "null",
    "\U0001F469\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466 \U0001F3F3\ufe0f\u200d\U0001F308 \U0001F600",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 \u202eabc\u202c \u05e9\u05dc\u05d5\u05dd",
    "e\u0301 a\u0308 Z\u0351\u0352\u0353\u0354\u0355 \u0915\u094d\u0937",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "&lt;&amp;&#0; \"quoted\" 'single' \\back\\slash\\ /slash/",
    "  leading and trailing spaces  ",
    "tab\there\r\nCRLF\nLF",
    "\u2028\u2029 line separators",
    "\ufeffBOM \ufffd replacement \u200b zero-width",
    "\U0001D573\U0001D58A\U0001D591\U0001D591\U0001D594 \u6f22\u5b57\u30c6\u30b9\u30c8",
    "controls \x01\x1f\x7f",
    "\U0010FFFD last plane",
]


def test_odd_strings_round_trip_byte_for_byte():
    c, _ = user("odd")
    for s in ODD_STRINGS:
        assert len(s) <= 255
        t = create(c, {"title": s, "messages": [{"role": "user", "content": s},
                                                 {"role": "assistant", "content": s * 3}]})
        assert t["title"] == s, "title %r came back as %r" % (s, t["title"])
        g = get(c, t["id"])
        assert g["title"] == s and g["messages"][0]["content"] == s and \
            g["messages"][1]["content"] == s * 3, "%r came back as %r" % (s, g)
        r = append(c, t["id"], "user", s)
        assert r.json["message"]["content"] == s
        assert get(c, t["id"])["messages"][2]["content"] == s
    items, total = listing(c, "?limit=200")
    assert total == len(ODD_STRINGS)
    assert sorted(x["title"] for x in items) == sorted(ODD_STRINGS)


def test_json_escapes_are_decoded():
    c, _ = user("esc")
    body = (b'{"title":"\\ud83d\\ude00 \\u00e9\\n\\t\\"\\\\\\/",'
            b'"messages":[{"role":"user","content":"\\u0041\\u00DF\\u6F22\\uD834\\uDD1E"}]}')
    r = expect(c.post(T, body=body), 201)
    assert r.json["title"] == "\U0001F600 \u00e9\n\t\"\\/", repr(r.json["title"])
    assert r.json["messages"][0]["content"] == "A\u00df\u6f22\U0001D11E", r.json


def test_large_message_round_trips():
    c, _ = user("big")
    content = ("0123456789abcdef\U0001F600" * 20000)[:300000]
    t = create(c, {"messages": [{"role": "assistant", "content": content}]})
    assert get(c, t["id"])["messages"][0]["content"] == content


def test_nul_in_strings_422():
    c, _ = user("nul")
    expect_422(c.post(T, json={"title": "a\u0000b"}), loc=["body", "title"])
    expect_422(c.post(T, json={"messages": [{"role": "user", "content": "x\u0000"}]}),
               loc_prefix=["body", "messages"])
    t = create(c)
    expect_422(c.post("%s/%d/messages" % (T, t["id"]), json={"role": "user", "content": "\u0000"}),
               loc=["body", "content"])
    expect_422(c.put("%s/%d" % (T, t["id"]), json={"title": "\u0000"}), loc=["body", "title"])
    assert get(c, t["id"]) == t


# --- isolation ------------------------------------------------------------------------------

def test_user_isolation_403_and_no_leak():
    a, _ = user("isoa")
    b, _ = user("isob")
    secret_title = "SECRET-TITLE-" + uuid.uuid4().hex
    secret_msg = "SECRET-MSG-" + uuid.uuid4().hex
    t = create(a, {"title": secret_title, "messages": [{"role": "user", "content": secret_msg}]})
    p = "%s/%d" % (T, t["id"])
    attempts = [
        ("GET", b.get(p)),
        ("PUT", b.put(p, json={"title": "pwned"})),
        ("PUT messages", b.put(p, json={"messages": []})),
        ("DELETE", b.delete(p)),
        ("append", b.post(p + "/messages", json={"role": "user", "content": "pwned"})),
    ]
    for what, r in attempts:
        expect_error(r, 403, "user B %s on A's thread" % what)
        for s in (secret_title, secret_msg):
            assert s.encode() not in r.body, "%s leaked A's data: %r" % (what, r)
    items, total = listing(b)
    assert items == [] and total == 0, (items, total)
    # A's thread is untouched.
    assert get(a, t["id"]) == t


def test_user_isolation_complete_403():
    a, _ = user("isoc")
    b, _ = user("isod")
    secret = "SECRET-" + uuid.uuid4().hex
    t = create(a, {"title": secret})
    r = b.post("%s/%d/complete" % (T, t["id"]), json={"content": "hello"})
    expect_error(r, 403, "user B complete on A's thread")
    assert secret.encode() not in r.body
    assert get(a, t["id"]) == t


def test_every_thread_route_needs_auth():
    a, _ = user("auth")
    t = create(a)
    p = "%s/%d" % (T, t["id"])
    for method, path, body in (("GET", T, None), ("POST", T, {}), ("GET", p, None),
                               ("PUT", p, {"title": "x"}), ("DELETE", p, None),
                               ("POST", p + "/messages", {"role": "user", "content": "x"}),
                               ("POST", T + "/import", [])):
        kw = {} if body is None else {"json": body}
        expect_401(SRV.req(method, path, **kw), "%s %s without a token" % (method, path))
    assert get(a, t["id"]) == t
