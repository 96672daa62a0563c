"""Sync across devices (issue 13; contract v2 "Sync across devices"; docs/api.md "Sync").

GET /api/v1/changes replays the caller's change log after an opaque cursor (one record per
object, its latest change; deletions, retention and account deletion as tombstones; 410 for a
cursor older than the tombstones kept); GET /api/v1/events streams the same records live to
every session of the user, resumable with Last-Event-ID, and ends when the token goes.
Tests never assert on time: waits are bounded and only decide pass/fail by what arrives.
"""

import json
import os
import select
import shutil
import socket
import sqlite3
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_422, expect_error, expect_ts  # noqa: E402

SRV = None
T = "/api/v1/chat-threads"


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


class U(cv.User):
    """cv.User with the change log's reads."""

    def __init__(self, tag, srv=None):
        super().__init__(srv or SRV, tag)

    def thread(self, title="t"):
        return expect(self.req("POST", T, {"title": title}), 201, "create thread").json["id"]

    def changes(self, since=None, limit=None, status=200):
        q = []
        if since is not None:
            q.append("since=" + since)
        if limit is not None:
            q.append("limit=%d" % limit)
        r = self.req("GET", "/api/v1/changes" + ("?" + "&".join(q) if q else ""))
        expect(r, status, "changes")
        if status == 200:
            assert set(r.json) == {"changes", "cursor", "more"}, r
            for c in r.json["changes"]:
                assert set(c) == {"kind", "id", "op", "at"}, c
                assert c["kind"] in ("thread", "chat", "persona", "character"), c
                assert c["op"] in ("upsert", "delete"), c
                expect_ts(c["at"], "change.at")
        return r

    def replay(self, since=None, limit=None):
        """Every record after since, paging until more is false: (records, cursor)."""
        out = []
        while True:
            r = self.changes(since, limit).json
            out += r["changes"]
            since = r["cursor"]
            if not r["more"]:
                return out, since


def keyed(records):
    return [(c["kind"], c["id"], c["op"]) for c in records]


class Stream:
    """A raw event-stream client: GET /api/v1/events, frames parsed as they arrive."""

    def __init__(self, srv, token, last_id=None, query=""):
        self.sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        hdr = "GET /api/v1/events%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n" % (query, token)
        if last_id is not None:
            hdr += "Last-Event-ID: %s\r\n" % last_id
        self.sock.sendall((hdr + "\r\n").encode())
        self.buf = b""
        self.closed = False
        head = self._read_until(b"\r\n\r\n", 10)
        self.status = int(head.split(b" ", 2)[1])
        self.head = head.decode("latin-1")
        self.body_start = b""
        self.frames = []                 # [(id, event, data)]
        self.comments = 0

    def _read_until(self, sep, secs):
        end = time.time() + secs
        while sep not in self.buf:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("no %r within %ss: %r" % (sep, secs, self.buf[:300]))
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                b = self.sock.recv(65536)
                if not b:
                    self.closed = True
                    raise AssertionError("closed before %r: %r" % (sep, self.buf[:300]))
                self.buf += b
        i = self.buf.index(sep)
        out, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return out

    def pump(self, secs):
        """Read what arrives within secs (returns early once the peer closes)."""
        end = time.time() + secs
        while not self.closed:
            left = end - time.time()
            if left <= 0:
                break
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                break
            b = self.sock.recv(65536)
            if not b:
                self.closed = True
                break
            self.buf += b
            self._parse()
        self._parse()

    def _parse(self):
        while b"\n\n" in self.buf:
            block, self.buf = self.buf.split(b"\n\n", 1)
            fid, ev, data = None, None, []
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("id: "):
                    fid = line[4:]
                elif line.startswith("event: "):
                    ev = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line.startswith("retry: "):
                    pass
            if ev or data:
                self.frames.append((fid, ev, json.loads("\n".join(data)) if data else None))

    def wait_for(self, pred, secs=10):
        end = time.time() + secs
        while time.time() < end:
            for f in self.frames:
                if pred(f):
                    return f
            if self.closed:
                break
            self.pump(0.2)
        raise AssertionError("no such event within %ss; got %r (closed=%s)" % (secs, self.frames, self.closed))

    def changes(self):
        return [f for f in self.frames if f[1] == "change"]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def open_stream(u, **kw):
    s = Stream(u.srv, u.token, **kw)
    assert s.status == 200, s.head
    assert "text/event-stream" in s.head.lower(), s.head
    s.wait_for(lambda f: f[1] == "ready")
    return s


# ---- GET /api/v1/changes -----------------------------------------------------------------

def test_every_kind_is_logged_once_per_object_with_tombstones():
    u = U("kinds")
    t = u.thread("first")
    expect(u.req("PUT", "%s/%d" % (T, t), {"title": "renamed"}), 200)
    expect(u.req("POST", "%s/%d/messages" % (T, t), {"role": "user", "content": "hi"}), 201)
    gone = u.thread("gone")
    expect(u.req("DELETE", "%s/%d" % (T, gone)), 204)
    per = expect(u.req("POST", "/api/personas", {"name": "Me"}), 201).json["id"]
    ch = expect(u.req("POST", "/api/characters", {"name": "Hero"}), 201).json["id"]
    chat = expect(u.req("POST", "/api/chat", {"message": "hello", "character_id": ch}), 200).json["chat_id"]
    recs, cur = u.replay()
    assert keyed(recs) == [("thread", t, "upsert"), ("thread", gone, "delete"),
                           ("persona", per, "upsert"), ("character", ch, "upsert"),
                           ("chat", chat, "upsert")], recs
    assert isinstance(cur, str) and cur
    # nothing after the cursor; a later change is the only record after it
    assert u.changes(cur).json["changes"] == []
    expect(u.req("POST", "/api/chat/delete", {"chat_id": chat}), 200)
    r = u.changes(cur).json
    assert keyed(r["changes"]) == [("chat", chat, "delete")] and r["more"] is False, r
    # organizing is a change of the thread too
    cur = r["cursor"]
    expect(u.req("PUT", "%s/%d" % (T, t), {"pinned": True, "tags": ["x"]}), 200)
    assert keyed(u.changes(cur).json["changes"]) == [("thread", t, "upsert")]


def test_changes_made_by_foreign_key_actions_are_logged():
    # deleting a character its chats reference sets their character_id to NULL (ON DELETE SET
    # NULL): the chat changed, the character is gone; deleting the account cascades to all
    u = U("fk")
    ch = expect(u.req("POST", "/api/characters", {"name": "Referenced"}), 201).json["id"]
    chat = expect(u.req("POST", "/api/chat", {"message": "hi", "character_id": ch}), 200).json["chat_id"]
    _, cur = u.replay()
    expect(u.req("DELETE", "/api/characters/%d" % ch), 204)
    assert sorted(keyed(u.changes(cur).json["changes"])) == sorted(
        [("chat", chat, "upsert"), ("character", ch, "delete")])
    expect(u.req("GET", "/api/chat-history"), 200)         # the chat is still there


def test_paging_is_exact_no_gap_no_duplicate():
    u = U("paging")
    ids = [u.thread("p%d" % i) for i in range(23)]
    recs, cur = u.replay(limit=5)
    assert [c["id"] for c in recs] == ids
    # pages: 5 records each, more until the last
    r = u.changes(limit=5).json
    assert len(r["changes"]) == 5 and r["more"] is True
    # a change of an early object moves it to the end: replaying from the first page's
    # cursor gives it once, after the others
    expect(u.req("PUT", "%s/%d" % (T, ids[0]), {"title": "moved"}), 200)
    rest, _ = u.replay(r["cursor"], limit=7)
    assert [c["id"] for c in rest] == ids[5:] + [ids[0]]
    all_, _ = u.replay(limit=1000)
    assert sorted(c["id"] for c in all_) == sorted(ids) and len(all_) == len(ids)


def test_bad_queries_are_422_and_bad_cursors_do_not_leak():
    """Bad limits and cursors (empty, garbage, not canonical, another list's): 422; no token or a bad one: 401; POST: 405."""
    u = U("bad")
    for q in ["limit=0", "limit=1001", "limit=x", "since=", "since=nope", "since=" + "A" * 500,
              "since=AAAAAAAAAAAAAAAAAAAAAA",   # 16 bytes, not a cursor
              "since=AAAAAAAAAAAAAAAAAAAAAB",   # not canonical base64url
              "since=cDF8fDc",                  # another list's cursor
              ]:
        r = u.req("GET", "/api/v1/changes?" + q)
        assert r.status == 422, (q, r)
    expect_401(SRV.req("GET", "/api/v1/changes"))
    expect_401(SRV.req("GET", "/api/v1/changes", token="x" * 43))
    expect_error(u.req("POST", "/api/v1/changes"), 405)


def test_another_users_changes_never_appear():
    """A user's replay, from the start and from its own cursor, never holds another user's records."""
    a, b = U("iso-a"), U("iso-b")
    secret = a.thread("SECRET-" + uuid.uuid4().hex)
    a.req("POST", "/api/personas", {"name": "hidden"})
    recs, cur = b.replay()
    assert recs == [], recs
    # b's cursor (the log's head, past a's records) still gives b nothing of a's
    a.thread("later")
    assert b.changes(cur).json["changes"] == []
    assert secret not in [c["id"] for c in b.replay()[0]]


def test_cursors_are_opaque_and_bound_to_their_user_and_file():
    """Cursors are 22 opaque characters, different per user; another user's or another file's cursor: 422 (changes and events)."""
    # a cursor never shows the file-wide sequence (how much others write): it is encrypted,
    # good for its own user only, and another file's cursor is refused
    a, b = U("cur-a"), U("cur-b")
    a.thread()
    ca = a.changes().json["cursor"]
    cb = b.changes().json["cursor"]
    assert len(ca) == 22 and len(cb) == 22 and ca != cb, (ca, cb)
    b.thread()
    assert b.changes().json["cursor"] != cb
    expect_422(b.req("GET", "/api/v1/changes?since=" + ca), loc=["query", "since"])
    expect(a.changes(ca), 200)
    with cv.Server() as other:
        u = U("cur-other", other)
        expect_422(u.req("GET", "/api/v1/changes?since=" + ca), loc=["query", "since"])
        s = Stream(other, u.token, last_id=ca)
        assert s.status == 422, s.head
        s.close()


def test_a_cursor_from_the_future_is_410():
    # a database restored from an older backup: a client's newer cursor is past its head
    with cv.Server() as srv:
        u = U("future", srv)
        u.thread("before the backup")
        srv.stop()
        shutil.copy(srv.db, srv.db + ".bak")
        srv.start()
        u.thread("after the backup")
        _, cur = u.replay()
        srv.stop()
        for ext in ("-wal", "-shm"):
            if os.path.exists(srv.db + ext):
                os.remove(srv.db + ext)
        shutil.copy(srv.db + ".bak", srv.db)
        srv.start()
        expect_error(u.req("GET", "/api/v1/changes?since=" + cur), 410)
        s = Stream(srv, u.token, last_id=cur)
        assert s.status == 410, s.head
        s.close()
        recs, _ = u.replay()                       # starting over works
        assert len(recs) == 1, recs


def test_tombstones_older_than_90_days_are_purged_and_old_cursors_get_410():
    with cv.Server() as srv:
        u = U("purge", srv)
        t1 = u.thread("old")
        _, before = u.replay()
        expect(u.req("DELETE", "%s/%d" % (T, t1)), 204)
        t2 = u.thread("kept")
        recs, after = u.replay()
        srv.stop()
        db = sqlite3.connect(srv.db)
        day = 86400 * 1000
        with db:                                   # the tombstone is 91 days old
            db.execute("UPDATE changes SET at_ms = at_ms - 91*?1 WHERE op = 0", (day,))
        db.close()
        srv.start()                                # the hub purges at start
        deadline = time.time() + 10
        while time.time() < deadline:
            if u.req("GET", "/api/v1/changes?since=" + before).status == 410:
                break
            time.sleep(0.1)
        expect_error(u.req("GET", "/api/v1/changes?since=" + before), 410)
        # a client that saw the deletion goes on; from the start, the tombstone is gone
        expect(u.changes(after), 200)
        recs, _ = u.replay()
        assert keyed(recs) == [("thread", t2, "upsert")], recs
        # the events stream refuses the old cursor the same way
        s = Stream(srv, u.token, last_id=before)
        assert s.status == 410, s.head
        s.close()


def test_retention_and_account_deletion_leave_tombstones():
    with cv.Server(args=["--history-limit", "2"]) as srv:
        u = U("ret", srv)
        chats = [expect(u.req("POST", "/api/chat", {"message": "m%d" % i}), 200).json["chat_id"]
                 for i in range(3)]
        recs, _ = u.replay()
        assert ("chat", chats[0], "delete") in keyed(recs), recs      # dropped by retention
        assert [k for k in keyed(recs) if k[2] == "upsert"] == [("chat", c, "upsert") for c in chats[1:]]
        t = u.thread()
        expect(u.req("DELETE", "/api/users/me"), 204)
        db = sqlite3.connect(srv.db)
        rows = db.execute("SELECT kind, obj_id, op FROM changes WHERE user_id=?", (u.id,)).fetchall()
        db.close()
        assert (1, t, 0) in rows and all(op == 0 for _, _, op in rows), rows


def test_acknowledged_change_survives_kill9_and_streams_resume_without_gap():
    """kill -9 right after an acknowledged create: after restart the change is in the log, and a stream resumed from its last event id gets exactly what it missed."""
    with cv.Server() as srv:
        u = U("kill", srv)
        s = open_stream(u)
        ready = [f for f in s.frames if f[1] == "ready"][0][2]["cursor"]
        t = u.thread("before-kill")
        f = s.wait_for(lambda f: f[1] == "change" and f[2]["id"] == t)
        last = f[0]
        t2 = u.thread("acked")                     # acknowledged, then kill -9 at once
        srv.kill9()
        s.close()
        srv.start()
        recs, _ = u.replay(ready)
        assert [c["id"] for c in recs] == [t, t2], recs
        # a stream resumed from the last event it saw gets exactly what it missed
        s2 = open_stream(u, last_id=last)
        got = s2.wait_for(lambda f: f[1] == "change")
        s2.pump(0.5)
        assert [f[2]["id"] for f in s2.changes()] == [t2], s2.frames
        assert got[0] and got[0] != last
        s2.close()


# ---- GET /api/v1/events ------------------------------------------------------------------

def test_every_session_of_the_user_gets_each_change_and_others_get_none():
    """Two sessions of a user each get every change live, with no duplicate and what a replay gives; another user's open stream gets nothing."""
    a = U("live-a")
    b = U("live-b")
    tok2 = cv.login(SRV, a.email).json["access_token"]          # a second device
    s1, s2 = open_stream(a), Stream(SRV, tok2)
    assert s2.status == 200
    sb = open_stream(b)
    t = a.thread("live")
    for s in (s1, s2):
        f = s.wait_for(lambda f: f[1] == "change" and f[2]["id"] == t)
        assert f[2]["kind"] == "thread" and f[2]["op"] == "upsert" and f[0]
    expect(a.req("POST", "%s/%d/messages" % (T, t), {"role": "user", "content": "x"}), 201)
    expect(a.req("DELETE", "%s/%d" % (T, t)), 204)
    s1.wait_for(lambda f: f[1] == "change" and f[2]["op"] == "delete" and f[2]["id"] == t)
    # what the stream sent equals what changes replays from the stream's first cursor
    ready = [f for f in s1.frames if f[1] == "ready"][0][2]["cursor"]
    recs, _ = a.replay(ready)
    ids = [f[0] for f in s1.changes()]
    assert len(ids) == len(set(ids)), "a duplicate event: %r" % s1.frames
    assert recs == [f[2] for f in s1.changes()][-len(recs):], (recs, s1.frames)
    sb.pump(1.0)
    assert sb.changes() == [], sb.frames
    for s in (s1, s2, sb):
        s.close()


def test_offline_client_catches_up_through_changes_with_no_gap_or_duplicate():
    u = U("offline")
    s = open_stream(u)
    t1 = u.thread("seen")
    f = s.wait_for(lambda f: f[1] == "change" and f[2]["id"] == t1)
    s.close()                                          # offline
    t2 = u.thread("missed-1")
    expect(u.req("PUT", "%s/%d" % (T, t1), {"title": "changed while away"}), 200)
    t3 = u.thread("missed-2")
    recs, cur = u.replay(f[0])                         # the last event id is a cursor
    assert [c["id"] for c in recs] == [t2, t1, t3], recs
    s2 = open_stream(u, last_id=cur)                   # back online from there
    t4 = u.thread("live again")
    s2.wait_for(lambda f: f[1] == "change" and f[2]["id"] == t4)
    s2.pump(0.3)
    assert [f[2]["id"] for f in s2.changes()] == [t4], s2.frames
    s2.close()


def test_since_query_and_from_now_default():
    u = U("since")
    t1 = u.thread("old")
    s = open_stream(u)                                  # no cursor: from now
    t2 = u.thread("new")
    s.wait_for(lambda f: f[1] == "change" and f[2]["id"] == t2)
    assert t1 not in [f[2]["id"] for f in s.changes()]
    s.close()
    first = u.changes(limit=1).json["cursor"]           # after t1
    s4 = open_stream(u, query="?since=" + first)
    s4.wait_for(lambda f: f[1] == "change" and f[2]["id"] == t2)
    s4.close()


def test_events_errors():
    """Event stream errors: 401, 422 for bad Last-Event-ID or since, 405; a 17th stream of one account ends its oldest (event end, code evicted) and the others go on."""
    u = U("everr")
    expect_401(SRV.req("GET", "/api/v1/events"))
    for hdr in ["nope", "AAAAAAAAAAAAAAAAAAAAAA", "cDF8fDc", "x" * 600]:
        s = Stream(SRV, u.token, last_id=hdr)
        assert s.status == 422, (hdr, s.head)
        s.close()
    s = Stream(SRV, u.token, query="?since=bad")
    assert s.status == 422, s.head
    s.close()
    expect_error(u.req("POST", "/api/v1/events"), 405)
    # at most 16 streams per account: a 17th ends the oldest (a reloaded page's stream, gone
    # unseen, never locks the account out), and the others are unharmed
    streams = [open_stream(u) for _ in range(16)]
    extra = open_stream(u)
    f = streams[0].wait_for(lambda f: f[1] == "end")
    assert f[2]["code"] == "evicted" and "too many" in f[2]["reason"], f
    streams[0].pump(2)
    assert streams[0].closed
    t = u.thread("after-cap")
    for s in streams[1:] + [extra]:
        s.wait_for(lambda f: f[1] == "change" and f[2]["id"] == t)
        assert not [f for f in s.frames if f[1] == "end"], s.frames
    for s in streams + [extra]:
        s.close()


def test_a_file_without_the_cursor_key_is_a_server_error_not_a_crash():
    """The log's key (settings.changes_key) gone from the file: both routes answer 500 and the
    server goes on serving; nothing else depends on it."""
    with cv.Server() as srv:
        u = U("nokey", srv)
        srv.stop()
        db = sqlite3.connect(srv.db)
        with db:
            db.execute("DELETE FROM settings WHERE key='changes_key'")
        db.close()
        srv.start()
        expect_error(u.req("GET", "/api/v1/changes"), 500)
        s = Stream(srv, u.token)
        assert s.status == 500, s.head
        s.close()
        expect(u.req("POST", T, {"title": "still served"}), 201)


def test_streams_never_take_the_last_workers():
    """With 4 worker threads, streams may hold 2 of them: the third is 503 and requests are
    still served beside the two open ones; a stream that ends frees its place."""
    with cv.Server(args=["--threads", "4"]) as srv:
        u = U("workers", srv)
        s1, s2 = open_stream(u), open_stream(u)
        s3 = Stream(srv, u.token)
        assert s3.status == 503, s3.head
        s3.close()
        t = u.thread("served beside the streams")
        s1.wait_for(lambda f: f[1] == "change" and f[2]["id"] == t)
        expect(u.req("POST", "/api/v1/auth/logout"), 204)       # both streams end
        for s in (s1, s2):
            s.wait_for(lambda f: f[1] == "end")
            s.close()
        tok = cv.login(srv, u.email).json["access_token"]
        deadline = time.time() + 15
        while True:
            s4 = Stream(srv, tok)
            if s4.status == 200 or time.time() > deadline:
                break
            s4.close()
            time.sleep(0.2)
        assert s4.status == 200, s4.head
        s4.close()


def test_stream_ends_when_its_token_is_revoked_or_the_account_deleted():
    """Logout ends that token's stream (event end, code unauthorized) and not the other session's; deleting the account ends the other."""
    u = U("revoke")
    other = cv.login(SRV, u.email).json["access_token"]
    s = open_stream(u)
    s_other = Stream(SRV, other)
    expect(u.req("POST", "/api/v1/auth/logout"), 204)
    f = s.wait_for(lambda f: f[1] == "end", secs=15)
    assert f[2]["code"] == "unauthorized" and "revoked" in f[2]["reason"], f
    s.pump(2)
    assert s.closed, "the stream stayed open after its token was revoked"
    # the other session's token still works and its stream goes on
    t = expect(SRV.req("POST", T, json={"title": "x"}, token=other), 201).json["id"]
    s_other.wait_for(lambda f: f[1] == "change" and f[2]["id"] == t)
    expect(SRV.req("DELETE", "/api/users/me", token=other), 204)
    s_other.wait_for(lambda f: f[1] == "end", secs=15)
    s.close()
    s_other.close()


def test_stream_ends_when_its_token_expires():
    with cv.Server(args=["--token-ttl", "2s"]) as srv:
        u = U("ttl", srv)
        s = open_stream(u)
        f = s.wait_for(lambda f: f[1] == "end", secs=20)
        assert f[2]["code"] == "unauthorized" and "expired" in f[2]["reason"], f
        s.close()


def test_server_stops_cleanly_with_streams_open():
    with cv.Server() as srv:
        u = U("stop", srv)
        streams = [open_stream(u) for _ in range(4)]
        srv.stop()                                     # asserts exit code 0 within its bound
        for s in streams:
            s.pump(2)
            assert s.closed
            s.close()
