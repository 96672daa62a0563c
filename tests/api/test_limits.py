"""Size caps of conversations and accounts (issue 10: one user must not fill the disk or hold
the server with one conversation): --max-conversation-messages, --max-conversation-bytes,
--max-user-bytes. A write that would grow a conversation or an account past a cap answers 413
and changes nothing; shrinking always works; other users are not affected; the file stays
consistent (`chatvault check` also verifies the byte counts). The store's side, with grouped
appends, is tests/unit/test_store_conv.c."""

import os
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_error  # noqa: E402

SRV = None
MAX_MESSAGES = 5
MAX_CONV_BYTES = 4096
MAX_USER_BYTES = 3 * 4096   # counted per conversation in 4 KiB steps


def setup_module():
    global SRV
    SRV = cv.Server(args=["--max-conversation-messages", str(MAX_MESSAGES),
                          "--max-conversation-bytes", str(MAX_CONV_BYTES),
                          "--max-user-bytes", str(MAX_USER_BYTES)])


def teardown_module():
    if SRV:
        SRV.close()


def msgs(n, size=1, role="user"):
    return [{"role": role, "content": ("m%d-" % i) + "x" * size} for i in range(n)]


def full(r):
    expect_error(r, 413)
    assert "is full" in r.json["detail"] and "%d messages" % MAX_MESSAGES in r.json["detail"], r


def thread(c, tid):
    return expect(c.get("/api/v1/chat-threads/%d" % tid), 200).json


def check_file():
    res = cv.run_cli(["check", "--db", SRV.db])
    assert res.returncode == 0, res


def test_message_cap_of_a_thread():
    """Create, append, PUT and complete (plain and streamed) past the message cap: 413, the
    thread unchanged; shrinking works and then it grows again."""
    c, _ = cv.new_client(SRV, "cap")
    full(c.post("/api/v1/chat-threads", json={"messages": msgs(MAX_MESSAGES + 1)}))
    assert expect(c.get("/api/v1/chat-threads"), 200).json == []       # nothing was created
    t = expect(c.post("/api/v1/chat-threads", json={"messages": msgs(MAX_MESSAGES - 1)}), 201).json
    expect(c.post("/api/v1/chat-threads/%d/messages" % t["id"],
                  json={"role": "assistant", "content": "last one"}), 201)
    before = thread(c, t["id"])
    assert len(before["messages"]) == MAX_MESSAGES
    full(c.post("/api/v1/chat-threads/%d/messages" % t["id"], json={"role": "user", "content": "one more"}))
    full(c.put("/api/v1/chat-threads/%d" % t["id"], json={"messages": msgs(MAX_MESSAGES + 1)}))
    full(c.post("/api/v1/chat-threads/%d/complete" % t["id"], json={"content": "hello?"}))
    full(c.post("/api/v1/chat-threads/%d/complete" % t["id"], json={"content": "hello?", "stream": True}))
    assert thread(c, t["id"]) == before                                   # nothing changed
    # shrinking works, and then it grows again
    t2 = expect(c.put("/api/v1/chat-threads/%d" % t["id"], json={"messages": msgs(1)}), 200).json
    assert len(t2["messages"]) == 1
    expect(c.post("/api/v1/chat-threads/%d/messages" % t["id"], json={"role": "user", "content": "again"}), 201)
    check_file()


def test_byte_cap_of_a_thread():
    """1,200-character appends stop with 413 at the byte cap (3 fit in 4,096 bytes); a small
    one still fits."""
    c, _ = cv.new_client(SRV, "bytes")
    t = expect(c.post("/api/v1/chat-threads", json={}), 201).json
    n = 0
    while True:
        r = c.post("/api/v1/chat-threads/%d/messages" % t["id"], json={"role": "user", "content": "b" * 1200})
        if r.status == 413:
            break
        expect(r, 201)
        n += 1
        assert n < MAX_MESSAGES, "the byte cap never answered"
    assert n == 3, n                  # 3 x ~1,230 bytes fit in 4,096; a fourth does not
    assert len(thread(c, t["id"])["messages"]) == 3
    # a small message still fits under the byte cap
    expect(c.post("/api/v1/chat-threads/%d/messages" % t["id"], json={"role": "user", "content": "ok"}), 201)
    # a thread created (or imported) past the byte cap at once: 413, and no thread is left
    # (its header is written after its messages, once they passed the caps)
    listed = expect(c.get("/api/v1/chat-threads"), 200).json
    expect_error(c.post("/api/v1/chat-threads", json={"messages": msgs(4, size=1200)}), 413)
    expect_error(c.post("/api/v1/chat-threads/import",
                        json=[{"client_id": "too-big", "messages": msgs(4, size=1200)}]), 413)
    assert expect(c.get("/api/v1/chat-threads"), 200).json == listed
    check_file()


def test_character_chat_turns_stop_at_the_cap():
    """POST /api/chat at the cap: 413; when only the reply does not fit, the user's message
    stays (like a 502)."""
    c, _ = cv.new_client(SRV, "chat")
    cid = str(uuid.uuid4())
    expect(c.post("/api/chat", json={"chat_id": cid, "message": "one"}), 200)     # 2 messages
    expect(c.post("/api/chat", json={"chat_id": cid, "message": "two"}), 200)     # 4
    # the user's message is the 5th and is kept; the reply would be the 6th: 413, like an
    # upstream failure keeps the user's message (contract: the user message is saved first)
    full(c.post("/api/chat", json={"chat_id": cid, "message": "three"}))
    full(c.post("/api/chat", json={"chat_id": cid, "message": "four", "stream": True}))
    h = expect(c.get("/api/chat-history"), 200).json
    e = [x for x in h["items"] if x["chat_id"] == cid][0]
    assert [m["content"] for m in e["messages"] if m["role"] == "user"] == ["one", "two", "three"], e
    assert len(e["messages"]) == MAX_MESSAGES
    check_file()


def test_account_cap_counts_every_conversation_and_frees_on_delete():
    """The account cap counts every thread (in 4 KiB steps), refuses an import whole, does not
    touch another user, and frees a deleted thread's bytes."""
    c, _ = cv.new_client(SRV, "acct")
    other, _ = cv.new_client(SRV, "bystander")
    big = [{"role": "user", "content": "a" * 3000}]
    ids = []
    while True:
        r = c.post("/api/v1/chat-threads", json={"messages": big})
        if r.status == 413:
            break
        ids.append(expect(r, 201).json["id"])
        assert len(ids) < 10, "the account cap never answered"
    assert len(ids) == 3, ids          # each ~3,030 bytes counts 4 KiB: 3 fit in 12 KiB
    # imports count too: refused whole, nothing imported
    r = c.post("/api/v1/chat-threads/import", json=[{"client_id": "imp-1", "messages": big}])
    expect_error(r, 413)
    assert len(expect(c.get("/api/v1/chat-threads"), 200).json) == 3
    # another user is not affected
    expect(other.post("/api/v1/chat-threads", json={"messages": big}), 201)
    # deleting a thread frees its bytes
    expect(c.delete("/api/v1/chat-threads/%d" % ids[0]), 204)
    expect(c.post("/api/v1/chat-threads", json={"messages": big}), 201)
    check_file()


def test_bad_cap_values_are_refused_at_start():
    """Out-of-range or non-numeric cap values stop `serve` with exit 2 and a message."""
    for flag, value in (("--max-conversation-messages", "0"), ("--max-conversation-bytes", "100"),
                        ("--max-user-bytes", "lots")):
        res = cv.run_cli(["serve", "--db", os.path.join(SRV.dir, "unused.db"), "--listen",
                          "127.0.0.1:0", flag, value], timeout=20)
        assert res.returncode == 2 and ("bad value for %s" % flag) in res.stderr, res
