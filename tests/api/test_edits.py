"""Message edits (contract v2, "Messages of a thread"; issue 13): PATCH …/messages/{index},
DELETE …/messages?from=N, complete with regenerate, fork. docs/api.md, "Editing messages".

Each route: success, 403 (another user's thread, and a member of a shared thread on the
writes), 404 (missing thread, index past the end), 422 (bad input); search follows the edits
(edited-away or removed text is never found, new text is); message_count and X-Total-Count;
regenerate replaces exactly the trailing assistant messages; a fork copies 0..N-1 and is
independent of its source; an acknowledged PATCH survives kill -9.
"""

import os
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_422, expect_error  # noqa: E402

SRV = None
T = "/api/v1/chat-threads"
THREAD_KEYS = {"id", "user_id", "title", "messages", "created_at", "updated_at", "pinned",
               "archived", "tags"}


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def word(tag):
    """A word no other test writes (letters only: one search token)."""
    return tag + uuid.uuid4().hex[:10].translate(str.maketrans("0123456789", "ghijklmnop"))


def user(tag="ed", srv=None):
    c, u = cv.new_client(srv or SRV, tag)
    return c, u


def thread(c, msgs, title=None):
    body = {"messages": [{"role": r, "content": t} for r, t in msgs]}
    if title:
        body["title"] = title
    r = expect(c.post(T, json=body), 201, "create")
    return r.json["id"]


def get(c, tid):
    r = expect(c.get("%s/%d" % (T, tid)), 200, "get")
    assert set(r.json) == THREAD_KEYS, r
    return r.json


def contents(c, tid):
    return [(m["role"], m["content"]) for m in get(c, tid)["messages"]]


def patch(c, tid, index, body, status=200):
    r = c.request("PATCH", "%s/%d/messages/%s" % (T, tid, index), json=body)
    expect(r, status, "PATCH message %s" % index)
    return r


def truncate(c, tid, frm, status=204):
    r = c.delete("%s/%d/messages?from=%s" % (T, tid, frm))
    expect(r, status, "DELETE from=%s" % frm)
    return r


def summary(c, tid):
    r = expect(c.get(T + "?limit=200&archived=any"), 200)
    for s in r.json:
        if s["id"] == tid:
            return s
    raise AssertionError("thread %d not listed" % tid)


def total_count(c, tid):
    r = expect(c.get("%s/%d/messages?limit=1" % (T, tid)), 200)
    return int(r.header("X-Total-Count"))


def found(c, q):
    """(thread_id, index) of the messages that match q (titles, index -1, left out: a thread
    keeps the automatic title it got from its first message whatever happens to it)."""
    r = expect(c.get("/api/v1/search?" + urllib.parse.urlencode({"q": q, "limit": 50})), 200)
    return [(h["thread_id"], h["index"]) for h in r.json["items"]
            if h["kind"] == "thread" and h["index"] >= 0]


def tick():
    time.sleep(0.003)


# --------------------------------------------------------------------------------------------
# PATCH …/messages/{index}

def test_patch_replaces_content_keeps_role_and_moves_updated_at():
    c, _ = user()
    old, new = word("old"), word("new")
    tid = thread(c, [("user", "hello " + old), ("assistant", "hi"), ("user", "more")])
    before = get(c, tid)
    tick()
    r = patch(c, tid, 0, {"content": "hello " + new})
    assert r.json == {"index": 0, "role": "user", "content": "hello " + new}, r
    after = get(c, tid)
    assert [m["content"] for m in after["messages"]] == ["hello " + new, "hi", "more"], after
    assert [m["role"] for m in after["messages"]] == ["user", "assistant", "user"], after
    assert after["updated_at"] > before["updated_at"], (before, after)
    assert summary(c, tid)["message_count"] == 3
    assert total_count(c, tid) == 3
    # search: the edited-away word is gone, the new one is found at that index
    assert found(c, old) == [], found(c, old)
    assert found(c, new) == [(tid, 0)], found(c, new)
    # an assistant message, any Unicode, empty content
    patch(c, tid, 1, {"content": "é 🙂 <script>\"q\"\n"})
    patch(c, tid, 2, {"content": ""})
    assert contents(c, tid) == [("user", "hello " + new), ("assistant", "é 🙂 <script>\"q\"\n"),
                                ("user", "")]


def test_patch_role_must_stay():
    c, _ = user()
    tid = thread(c, [("user", "a"), ("assistant", "b")])
    r = patch(c, tid, 1, {"role": "assistant", "content": "same role is fine"})
    assert r.json["role"] == "assistant"
    expect_422(patch(c, tid, 1, {"role": "user", "content": "x"}, 422), ["body", "role"])
    expect_422(patch(c, tid, 0, {"role": "system", "content": "x"}, 422), ["body", "role"])
    assert contents(c, tid) == [("user", "a"), ("assistant", "same role is fine")]


def test_patch_errors():
    c, _ = user()
    other, _ = user("other")
    tid = thread(c, [("user", "a"), ("assistant", "b")])
    expect_error(patch(c, tid, 2, {"content": "x"}, 404), 404, "index past the end")
    expect_error(patch(c, tid, 99999, {"content": "x"}, 404), 404)
    expect_error(patch(c, 2_000_000_000, 0, {"content": "x"}, 404), 404, "missing thread")
    expect_error(patch(other, tid, 0, {"content": "x"}, 403), 403, "another user's")
    expect_422(patch(c, tid, -1, {"content": "x"}, 422), ["path", "index"])
    expect_422(patch(c, tid, "abc", {"content": "x"}, 422), ["path", "index"])
    expect_422(patch(c, tid, 0, {}, 422), ["body", "content"])
    expect_422(patch(c, tid, 0, {"content": 5}, 422), ["body", "content"])
    expect_422(patch(c, tid, 0, {"content": "a\u0000b"}, 422))
    expect_422(patch(c, tid, 0, [1], 422))
    assert contents(c, tid) == [("user", "a"), ("assistant", "b")]
    # an empty thread has no index 0
    empty = thread(c, [])
    expect_error(patch(c, empty, 0, {"content": "x"}, 404), 404)


def test_patch_in_a_long_thread_touches_one_segment_and_repacks_when_grown():
    c, _ = user()
    words = [word("w%d" % i) for i in range(200)]
    tid = thread(c, [("user" if i % 2 == 0 else "assistant", "m%d %s" % (i, words[i]))
                     for i in range(200)])
    for i in (0, 63, 64, 130, 199):
        patch(c, tid, i, {"content": "edited %d" % i})
    # grown far past a segment's 4,000 bytes: the segment is split, order and count stay
    big = word("big") + " " + "x" * 9000
    patch(c, tid, 100, {"content": big})
    msgs = contents(c, tid)
    assert len(msgs) == 200
    for i, (role, text) in enumerate(msgs):
        assert role == ("user" if i % 2 == 0 else "assistant"), (i, role)
        if i in (0, 63, 64, 130, 199):
            assert text == "edited %d" % i, (i, text)
        elif i == 100:
            assert text == big
        else:
            assert text == "m%d %s" % (i, words[i]), (i, text)
    assert found(c, words[100]) == [] and found(c, words[63]) == []
    assert found(c, words[101]) == [(tid, 101)] and found(c, words[99]) == [(tid, 99)]
    assert found(c, big.split()[0]) == [(tid, 100)]
    # edits after the split land at the right place, appends continue at the end
    patch(c, tid, 101, {"content": "after split"})
    r = expect(c.post("%s/%d/messages" % (T, tid), json={"role": "user", "content": "tail"}), 201)
    assert r.json["index"] == 200
    msgs = contents(c, tid)
    assert msgs[101] == ("assistant", "after split") and msgs[200] == ("user", "tail")
    assert total_count(c, tid) == 201


def test_patch_over_the_size_cap_is_413_and_changes_nothing():
    srv = cv.Server(args=["--max-conversation-bytes", "3000"])
    try:
        c, _ = user("cap", srv)
        tid = thread(c, [("user", "small"), ("assistant", "reply")])
        r = c.request("PATCH", "%s/%d/messages/0" % (T, tid), json={"content": "y" * 5000})
        expect_error(r, 413, "over the cap")
        assert contents(c, tid) == [("user", "small"), ("assistant", "reply")]
        # shrinking is always allowed
        expect(c.request("PATCH", "%s/%d/messages/1" % (T, tid), json={"content": ""}), 200)
        c.close()
    finally:
        srv.close()


# --------------------------------------------------------------------------------------------
# DELETE …/messages?from=N

def test_truncate_removes_the_tail_and_search_forgets_it():
    c, _ = user()
    ws = [word("t%d" % i) for i in range(150)]
    tid = thread(c, [("user" if i % 2 == 0 else "assistant", ws[i]) for i in range(150)])
    before = get(c, tid)
    tick()
    r = truncate(c, tid, 70)
    assert r.body in (b"", None), r
    after = get(c, tid)
    assert [m["content"] for m in after["messages"]] == ws[:70]
    assert after["updated_at"] > before["updated_at"]
    assert summary(c, tid)["message_count"] == 70 and total_count(c, tid) == 70
    assert found(c, ws[70]) == [] and found(c, ws[149]) == []
    assert found(c, ws[69]) == [(tid, 69)]
    # from == count: nothing changes (not even updated_at)
    truncate(c, tid, 70)
    assert get(c, tid)["updated_at"] == after["updated_at"]
    # appends continue at the new end
    r = expect(c.post("%s/%d/messages" % (T, tid), json={"role": "user", "content": "again"}), 201)
    assert r.json["index"] == 70
    truncate(c, tid, 0)
    assert contents(c, tid) == [] and total_count(c, tid) == 0
    assert found(c, ws[0]) == []


def test_truncate_errors():
    c, _ = user()
    other, _ = user("other")
    tid = thread(c, [("user", "a"), ("assistant", "b")])
    expect_error(truncate(c, tid, 3, 404), 404, "from past the end")
    expect_error(truncate(c, 2_000_000_000, 0, 404), 404)
    expect_error(truncate(other, tid, 0, 403), 403)
    expect_422(truncate(c, tid, -1, 422), ["query", "from"])
    expect_422(truncate(c, tid, "x", 422), ["query", "from"])
    expect_422(expect(c.delete("%s/%d/messages" % (T, tid)), 422), ["query", "from"])
    assert contents(c, tid) == [("user", "a"), ("assistant", "b")]


# --------------------------------------------------------------------------------------------
# complete with regenerate

def complete(c, tid, body, status=200):
    r = c.post("%s/%d/complete" % (T, tid), json=body)
    expect(r, status, "complete %r" % (body,))
    return r


def test_regenerate_replaces_exactly_the_trailing_assistant_messages():
    c, _ = user()
    stale = word("stale")
    tid = thread(c, [("user", "first"), ("assistant", "keep me"), ("user", "second question"),
                     ("assistant", "old reply " + stale), ("assistant", "and more " + stale)])
    # what the offline responder answers to "second question" (deterministic)
    ref = thread(c, [])
    want = complete(c, ref, {"content": "second question"}).json["reply"]
    r = complete(c, tid, {"regenerate": True})
    assert r.json["reply"] == want, r
    assert r.json["thread_id"] == tid
    msgs = contents(c, tid)
    assert msgs == [("user", "first"), ("assistant", "keep me"), ("user", "second question"),
                    ("assistant", want)], msgs
    assert r.json["thread"]["messages"] == [{"role": a, "content": b} for a, b in msgs]
    assert summary(c, tid)["message_count"] == 4 and total_count(c, tid) == 4
    assert found(c, stale) == []
    # again: still one reply after the last user message
    complete(c, tid, {"regenerate": True})
    assert len(contents(c, tid)) == 4
    # a thread ending with a user message: the reply is added, nothing removed
    tid2 = thread(c, [("user", "q1"), ("assistant", "a1"), ("user", "second question")])
    complete(c, tid2, {"regenerate": True})
    assert contents(c, tid2) == [("user", "q1"), ("assistant", "a1"),
                                 ("user", "second question"), ("assistant", want)]


def test_regenerate_streams_like_complete():
    c, _ = user()
    tid = thread(c, [("user", "stream it"), ("assistant", "old")])
    r = complete(c, tid, {"regenerate": True, "stream": True})
    assert (r.header("Content-Type") or "").startswith("text/event-stream"), r
    text = r.body.decode()
    assert "event: done" in text, text
    msgs = contents(c, tid)
    assert len(msgs) == 2 and msgs[1][0] == "assistant" and msgs[1][1] != "old", msgs


def test_regenerate_errors():
    c, _ = user()
    other, _ = user("other")
    tid = thread(c, [("user", "q"), ("assistant", "a")])
    expect_error(complete(other, tid, {"regenerate": True}, 403), 403)
    expect_error(complete(c, 2_000_000_000, {"regenerate": True}, 404), 404)
    expect_422(complete(c, tid, {"regenerate": True, "content": "x"}, 422), ["body", "content"])
    expect_422(complete(c, tid, {"regenerate": "yes please"}, 422), ["body", "regenerate"])
    expect_422(complete(c, tid, {"regenerate": False}, 422), ["body", "content"])
    only_asst = thread(c, [("assistant", "hello")])
    expect_422(complete(c, only_asst, {"regenerate": True}, 422), ["body", "regenerate"])
    empty = thread(c, [])
    expect_422(complete(c, empty, {"regenerate": True}, 422), ["body", "regenerate"])
    assert contents(c, tid) == [("user", "q"), ("assistant", "a")]
    assert contents(c, only_asst) == [("assistant", "hello")]


# --------------------------------------------------------------------------------------------
# fork

def fork(c, tid, body=None, status=201):
    kw = {} if body is None else {"json": body}
    r = c.post("%s/%d/fork" % (T, tid), **kw)
    expect(r, status, "fork %r" % (body,))
    return r


def test_fork_copies_the_prefix_and_is_independent():
    c, u = user()
    ws = [word("f%d" % i) for i in range(140)]
    msgs = [("user" if i % 2 == 0 else "assistant", ws[i]) for i in range(140)]
    tid = thread(c, msgs, title="Source title")
    r = fork(c, tid, {"upto": 70})
    js = r.json
    assert set(js) == THREAD_KEYS and js["id"] != tid and js["user_id"] == u["id"], js
    assert js["title"] == "Source title" and js["pinned"] is False and js["tags"] == []
    assert [(m["role"], m["content"]) for m in js["messages"]] == msgs[:70]
    fid = js["id"]
    assert summary(c, fid)["message_count"] == 70 and total_count(c, fid) == 70
    # search finds the copy's messages in both, the tail only in the source
    assert sorted(found(c, ws[10])) == sorted([(tid, 10), (fid, 10)])
    assert found(c, ws[100]) == [(tid, 100)]
    # independent: editing and truncating the fork leave the source alone, and the reverse
    patch(c, fid, 10, {"content": "fork only"})
    truncate(c, fid, 20)
    expect(c.post("%s/%d/messages" % (T, fid), json={"role": "user", "content": "x"}), 201)
    assert contents(c, tid) == msgs
    patch(c, tid, 5, {"content": "source only"})
    assert contents(c, fid)[5] == msgs[5]
    assert found(c, ws[10]) == [(tid, 10)]
    # default: everything; title given; upto 0: an empty thread
    js = fork(c, tid, {"title": "Mine now"}).json
    assert js["title"] == "Mine now" and len(js["messages"]) == 140
    js = fork(c, tid).json                                   # no body at all
    assert js["title"] == "Source title" and len(js["messages"]) == 140
    js = fork(c, tid, {"upto": 0}).json
    assert js["messages"] == [] and js["title"] == "Source title"
    # the whole thread when upto is its length; 64 (a segment's edge) and 1
    assert len(fork(c, tid, {"upto": 140}).json["messages"]) == 140
    assert len(fork(c, tid, {"upto": 64}).json["messages"]) == 64
    assert len(fork(c, tid, {"upto": 1}).json["messages"]) == 1
    chk_srv_consistent()


def test_fork_errors():
    c, _ = user()
    other, _ = user("other")
    tid = thread(c, [("user", "a"), ("assistant", "b")])
    expect_error(fork(c, tid, {"upto": 3}, 404), 404, "upto past the end")
    expect_error(fork(c, 2_000_000_000, {}, 404), 404)
    expect_error(fork(other, tid, {}, 403), 403, "a stranger")
    expect_422(fork(c, tid, {"upto": -1}, 422), ["body", "upto"])
    expect_422(fork(c, tid, {"upto": "2"}, 422), ["body", "upto"])
    expect_422(fork(c, tid, {"title": ""}, 422), ["body", "title"])
    expect_422(fork(c, tid, [1], 422))
    r = c.post("%s/%d/fork" % (T, tid), body=b"{not json", headers={"Content-Type": "application/json"})
    expect_422(r)


# --------------------------------------------------------------------------------------------
# members of a shared thread: read, fork into their own copy, never write

def test_member_may_fork_but_never_edit():
    c, owner = user("own")
    m, mem = user("mem")
    tid = thread(c, [("user", "shared q"), ("assistant", "shared a")], title="Shared")
    email = expect(m.get("/api/v1/auth/me"), 200).json["email"]
    expect(c.post("%s/%d/members" % (T, tid), json={"email": email}), 201)
    expect_error(patch(m, tid, 0, {"content": "x"}, 403), 403)
    expect_error(truncate(m, tid, 0, 403), 403)
    expect_error(complete(m, tid, {"regenerate": True}, 403), 403)
    js = fork(m, tid, {"upto": 1}).json
    assert js["user_id"] == mem["id"] and js["title"] == "Shared", js
    assert js["messages"] == [{"role": "user", "content": "shared q"}] and "owner" not in js
    # the copy is the member's own: it edits it, the owner cannot see it
    patch(m, js["id"], 0, {"content": "member's edit"})
    expect_error(c.get("%s/%d" % (T, js["id"])), 403)
    assert contents(c, tid) == [("user", "shared q"), ("assistant", "shared a")]


# --------------------------------------------------------------------------------------------
# durability

def chk_srv_consistent():
    """The shared server's file passes `chatvault check` (read while it runs: WAL readers)."""
    chk = cv.run_cli(["check"], db=SRV.db)
    assert chk.returncode == 0, chk


def test_acknowledged_patch_survives_kill9():
    srv = cv.Server()
    try:
        c, _ = user("dur", srv)
        new = word("durable")
        tid = thread(c, [("user", "before")] + [("assistant", "x%d" % i) for i in range(100)])
        expect(c.request("PATCH", "%s/%d/messages/0" % (T, tid), json={"content": new}), 200)
        expect(c.delete("%s/%d/messages?from=50" % (T, tid)), 204)
        c.close()
        srv.kill9()
        srv.start()
        c = cv.Client(srv, c.token)
        msgs = contents(c, tid)
        assert msgs[0] == ("user", new) and len(msgs) == 50, msgs[:2]
        assert found(c, new) == [(tid, 0)]
        c.close()
        srv.stop()
        chk = cv.run_cli(["check"], db=srv.db)
        assert chk.returncode == 0, chk
    finally:
        srv.close(check=False)
