"""Share links (issue 13; contract v2 "Share links"; docs/api.md "Share links").

The owner makes a read-only snapshot of a thread (POST …/share), lists its links
(GET /api/v1/shares) and revokes one (DELETE /api/v1/shares/{token}); anyone with the link reads
it without an account as JSON (GET /api/v1/shared/{token}) or as a page (GET /s/{token}).
Unknown, expired and revoked links get one 404, byte for byte. Tokens: 256 random bits in
base64url, stored only as hashes.
"""

import json
import os
import re
import sqlite3
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_422, expect_error, expect_ts  # noqa: E402

SRV = None
T = "/api/v1/chat-threads"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
LINK_KEYS = {"id", "thread_id", "title", "message_count", "created_at", "expires_at"}
SHARED_KEYS = {"title", "message_count", "created_at", "expires_at", "messages"}


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def U(tag, srv=None):
    return cv.User(srv or SRV, tag)


def thread_of(owner, n=2, title=None):
    secret = "SECRET-" + uuid.uuid4().hex[:10]
    msgs = [{"role": "user" if i % 2 == 0 else "assistant", "content": "%s message %d" % (secret, i)}
            for i in range(n)]
    r = expect(owner.req("POST", T, {"title": title or "title " + secret, "messages": msgs}), 201)
    return r.json["id"], secret, msgs


def make_link(owner, tid, body=None, status=201):
    r = expect(owner.req("POST", "%s/%d/share" % (T, tid), body if body is not None else {}),
               status, "share %d" % tid)
    return r.json


def shared(srv, token):
    return srv.req("GET", "/api/v1/shared/" + token)


def test_create_get_list_revoke():
    owner = U("sl")
    tid, secret, msgs = thread_of(owner, n=3, title="A <b>title</b> \u00e9\U0001f600")
    link = make_link(owner, tid)
    assert set(link) == LINK_KEYS | {"token", "url"}, link
    assert TOKEN_RE.match(link["token"]), link
    assert link["url"] == "/s/" + link["token"]
    assert link["expires_at"] is None
    assert link["thread_id"] == tid and link["message_count"] == 3
    expect_ts(link["created_at"])
    r = expect(shared(SRV, link["token"]), 200)          # no account needed
    assert set(r.json) == SHARED_KEYS, r.json
    assert r.json["title"] == "A <b>title</b> \u00e9\U0001f600"
    assert r.json["messages"] == msgs
    assert r.json["message_count"] == 3 and r.json["expires_at"] is None
    assert r.json["created_at"] == link["created_at"]
    assert r.header("X-Robots-Tag") == "noindex"
    assert r.header("Cache-Control") == "no-store"
    assert "owner" not in json.dumps(r.json) and owner.email not in r.body.decode()
    # the page
    p = expect(SRV.req("GET", link["url"]), 200)
    assert p.header("Content-Type").startswith("text/html")
    assert b'<meta name="robots" content="noindex' in p.body
    assert p.header("X-Robots-Tag") == "noindex"
    assert "default-src 'self'" in p.header("Content-Security-Policy")
    assert b"<script>" not in p.body and b"SECRET" not in p.body
    # the list
    lst = expect(owner.req("GET", "/api/v1/shares"), 200)
    assert lst.header("X-Total-Count") == "1"
    assert len(lst.json) == 1 and set(lst.json[0]) == LINK_KEYS
    assert lst.json[0]["id"] == link["id"] and "token" not in lst.json[0]
    # revoke
    expect(owner.req("DELETE", "/api/v1/shares/" + link["token"]), 204)
    expect_error(shared(SRV, link["token"]), 404)
    expect(SRV.req("GET", link["url"]), 404)
    expect_error(owner.req("DELETE", "/api/v1/shares/" + link["token"]), 404)
    assert expect(owner.req("GET", "/api/v1/shares"), 200).json == []


def test_revoke_by_listed_id():
    owner = U("slid")
    tid, _, _ = thread_of(owner)
    a = make_link(owner, tid)
    b = make_link(owner, tid, {"expires_in": 3600})
    lst = expect(owner.req("GET", "/api/v1/shares"), 200).json
    assert [x["id"] for x in lst] == [b["id"], a["id"]]      # newest first
    expect(owner.req("DELETE", "/api/v1/shares/%d" % a["id"]), 204)
    expect_error(shared(SRV, a["token"]), 404)
    expect(shared(SRV, b["token"]), 200)


def test_snapshot_does_not_follow_the_thread():
    owner = U("snap")
    tid, _, msgs = thread_of(owner, n=2, title="before")
    link = make_link(owner, tid)
    expect(owner.req("POST", "%s/%d/messages" % (T, tid),
                     {"role": "user", "content": "LATER"}), (200, 201))
    expect(owner.req("PUT", "%s/%d" % (T, tid), {"title": "after"}), 200)
    r = expect(shared(SRV, link["token"]), 200).json
    assert r["title"] == "before" and r["messages"] == msgs and r["message_count"] == 2
    # an empty thread shares an empty snapshot
    tid2 = expect(owner.req("POST", T, {"title": "empty"}), 201).json["id"]
    r = expect(shared(SRV, make_link(owner, tid2)["token"]), 200).json
    assert r["messages"] == [] and r["message_count"] == 0


def test_deleting_the_thread_ends_its_links():
    owner = U("del")
    tid, _, _ = thread_of(owner)
    link = make_link(owner, tid)
    expect(owner.req("DELETE", "%s/%d" % (T, tid)), 204)
    expect_error(shared(SRV, link["token"]), 404)
    assert expect(owner.req("GET", "/api/v1/shares"), 200).json == []


def strip_date(r):
    return (r.status, r.body, sorted((k.lower(), v) for k, v in r.headers.items()
                                     if k.lower() != "date"))


def test_unknown_expired_revoked_are_one_answer():
    owner = U("same")
    tid, _, _ = thread_of(owner)
    expiring = make_link(owner, tid, {"expires_in": 1})
    expect_ts(expiring["expires_at"])
    expect(shared(SRV, expiring["token"]), 200)
    revoked = make_link(owner, tid)
    expect(owner.req("DELETE", "/api/v1/shares/" + revoked["token"]), 204)
    time.sleep(1.3)
    unknown = "A" * 43
    answers = {name: shared(SRV, tok) for name, tok in
               (("unknown", unknown), ("expired", expiring["token"]), ("revoked", revoked["token"]),
                ("malformed", "short"))}
    for name, r in answers.items():
        expect_error(r, 404, name)
        assert r.header("X-Robots-Tag") == "noindex", name
        assert r.header("Cache-Control") == "no-store", name
    base = strip_date(answers["unknown"])
    for name in ("expired", "revoked", "malformed"):
        assert strip_date(answers[name]) == base, (name, answers[name].headers.items())
    pages = {name: SRV.req("GET", "/s/" + tok) for name, tok in
             (("unknown", unknown), ("expired", expiring["token"]), ("revoked", revoked["token"]))}
    base = strip_date(pages["unknown"])
    assert base[0] == 404
    for name in ("expired", "revoked"):
        assert strip_date(pages[name]) == base, name
    # an expired link is still listed (its owner sees it ended) and can be deleted
    lst = expect(owner.req("GET", "/api/v1/shares"), 200).json
    assert expiring["id"] in [x["id"] for x in lst]
    expect(owner.req("DELETE", "/api/v1/shares/" + expiring["token"]), 204)


def test_isolation_another_user_cannot_revoke():
    owner = U("iso")
    other = U("isoother")
    tid, _, _ = thread_of(owner)
    link = make_link(owner, tid)
    nf = expect_error(other.req("DELETE", "/api/v1/shares/" + link["token"]), 404)
    unknown = expect_error(other.req("DELETE", "/api/v1/shares/" + "B" * 43), 404)
    assert nf == unknown
    expect_error(other.req("DELETE", "/api/v1/shares/%d" % link["id"]), 404)
    expect(shared(SRV, link["token"]), 200)
    assert expect(other.req("GET", "/api/v1/shares"), 200).json == []
    assert len(expect(owner.req("GET", "/api/v1/shares"), 200).json) == 1


def test_member_and_stranger_cannot_share():
    owner = U("own")
    member = U("mem")
    stranger = U("str")
    tid, _, _ = thread_of(owner)
    expect(owner.req("POST", "%s/%d/members" % (T, tid), {"email": member.email}), 201)
    expect_error(member.req("POST", "%s/%d/share" % (T, tid), {}), 403)
    expect_error(stranger.req("POST", "%s/%d/share" % (T, tid), {}), 403)
    expect_error(stranger.req("POST", "%s/%d/share" % (T, 999999999), {}), 404)
    expect_error(owner.req("POST", "%s/%d/share" % (T, 999999999), {}), 404)
    expect_422(owner.req("POST", "%s/abc/share" % T, {}), loc=["path", "id"])
    assert expect(member.req("GET", "/api/v1/shares"), 200).json == []


def test_expires_in_validation():
    owner = U("val")
    tid, _, _ = thread_of(owner)
    url = "%s/%d/share" % (T, tid)
    for bad in (0, -5, "60", 1.5, True, 366 * 24 * 3600 + 1, 10 ** 30, [], {}):
        expect_422(owner.req("POST", url, {"expires_in": bad}), loc=["body", "expires_in"],
                   what=repr(bad))
    expect_422(owner.req("POST", url, raw=b"{not json"))
    expect_422(owner.req("POST", url, [1, 2]))
    # accepted: null, absent, an empty body, the bounds
    assert make_link(owner, tid, {"expires_in": None})["expires_at"] is None
    r = expect(owner.req("POST", url), 201)
    assert r.json["expires_at"] is None
    for ok in (1, 366 * 24 * 3600):
        make_link(owner, tid, {"expires_in": ok})
    assert len(expect(owner.req("GET", "/api/v1/shares"), 200).json) == 4


def test_auth_required_for_owner_routes():
    owner = U("auth")
    tid, _, _ = thread_of(owner)
    link = make_link(owner, tid)
    expect_401(SRV.req("POST", "%s/%d/share" % (T, tid), json={}))
    expect_401(SRV.req("GET", "/api/v1/shares"))
    expect_401(SRV.req("DELETE", "/api/v1/shares/" + link["token"]))
    expect_401(SRV.req("GET", "/api/v1/shares", token="x" * 43))
    expect(shared(SRV, link["token"]), 200)
    # a link's token is not a bearer token
    expect_401(SRV.req("GET", "/api/v1/shares", token=link["token"]))
    expect(SRV.req("POST", "/api/v1/shared/" + link["token"]), 405)


def test_tokens_differ_and_are_256_bits():
    owner = U("tok")
    tid, _, _ = thread_of(owner)
    toks = {make_link(owner, tid)["token"] for _ in range(20)}
    assert len(toks) == 20
    for t in toks:
        assert TOKEN_RE.match(t)
        # 43 base64url characters: 258 bits of text, the last carrying 4 bits of padding-free
        # data: 32 bytes exactly
        import base64
        assert len(base64.urlsafe_b64decode(t + "=")) == 32


def test_database_and_log_hold_no_token_and_survive_kill9():
    import tempfile
    logdir = tempfile.mkdtemp(prefix="cv-share-log-")
    log = os.path.join(logdir, "access.log")
    with cv.Server(access_log=log) as srv:
        owner = U("db", srv)
        tid, _, msgs = thread_of(owner)
        link = make_link(owner, tid)
        srv.kill9()                               # right after the acknowledged create
        srv.start()
        r = expect(shared(srv, link["token"]), 200)
        assert r.json["messages"] == msgs
        srv.stop()
        con = sqlite3.connect(srv.db)
        try:
            rows = con.execute("SELECT * FROM share_links").fetchall()
            assert len(rows) == 1
            hashes = con.execute("SELECT length(token_hash) FROM share_links").fetchall()
            assert hashes == [(32,)]
            for row in rows:
                for v in row:
                    if isinstance(v, (bytes, str)):
                        b = v.encode() if isinstance(v, str) else v
                        assert link["token"].encode() not in b
        finally:
            con.close()
        with open(srv.db, "rb") as f:
            data = f.read()
        for extra in ("-wal",):
            if os.path.exists(srv.db + extra):
                with open(srv.db + extra, "rb") as f:
                    data += f.read()
        assert link["token"].encode() not in data
        with open(log, "rb") as f:
            logged = f.read()
        assert b"/api/v1/shared/-" in logged, logged[-2000:]
        assert link["token"].encode() not in logged
    import shutil
    shutil.rmtree(logdir, ignore_errors=True)


def test_account_deletion_removes_links():
    with cv.Server() as srv:
        owner = U("gone", srv)
        tid, _, _ = thread_of(owner)
        link = make_link(owner, tid)
        expect(owner.req("DELETE", "/api/users/me"), 204)
        expect_error(shared(srv, link["token"]), 404)
        srv.stop()
        con = sqlite3.connect(srv.db)
        try:
            assert con.execute("SELECT count(*) FROM share_links").fetchone()[0] == 0
        finally:
            con.close()


def test_links_expired_30_days_ago_are_purged_with_their_copies():
    with cv.Server() as srv:
        owner = U("purge", srv)
        tid, _, _ = thread_of(owner)
        old = make_link(owner, tid, {"expires_in": 3600})
        recent = make_link(owner, tid, {"expires_in": 3600})
        forever = make_link(owner, tid)
        srv.stop()
        day = 86400 * 1000
        now = int(time.time() * 1000)
        con = sqlite3.connect(srv.db)
        with con:
            con.execute("UPDATE share_links SET expires_ms=? WHERE id=?", (now - 31 * day, old["id"]))
            con.execute("UPDATE share_links SET expires_ms=? WHERE id=?", (now - 29 * day, recent["id"]))
        con.close()
        srv.start()                                  # the serve loop purges at start
        deadline = time.time() + 10
        while time.time() < deadline:
            ids = [l["id"] for l in expect(owner.req("GET", "/api/v1/shares"), 200).json]
            if old["id"] not in ids:
                break
            time.sleep(0.1)
        assert ids == [forever["id"], recent["id"]], ids
        for link in (old, recent):
            expect_error(shared(srv, link["token"]), 404)
        expect(shared(srv, forever["token"]), 200)
        srv.stop()
        con = sqlite3.connect(srv.db)
        try:
            assert con.execute("SELECT count(*) FROM share_links").fetchone()[0] == 2
        finally:
            con.close()


def test_at_most_100_links_per_account():
    with cv.Server() as srv:
        owner = U("cap", srv)
        tid, _, _ = thread_of(owner)
        first = None
        for i in range(100):
            link = make_link(owner, tid)
            first = first or link
        expect_error(owner.req("POST", "%s/%d/share" % (T, tid), {}), 409)
        assert len(expect(owner.req("GET", "/api/v1/shares"), 200).json) == 100
        expect(owner.req("DELETE", "/api/v1/shares/" + first["token"]), 204)
        make_link(owner, tid)
        other = U("cap2", srv)                     # per account
        tid2, _, _ = thread_of(other)
        make_link(other, tid2)


def test_copies_are_capped_at_max_user_bytes():
    with cv.Server(args=["--max-user-bytes", "8192"]) as srv:
        owner = U("bytes", srv)
        msgs = [{"role": "user", "content": "x" * 2900}]
        tid = expect(owner.req("POST", T, {"title": "big", "messages": msgs}), 201).json["id"]
        a = make_link(owner, tid)
        make_link(owner, tid)
        d = expect_error(owner.req("POST", "%s/%d/share" % (T, tid), {}), 409)
        assert "full" in d, d
        expect(owner.req("DELETE", "/api/v1/shares/" + a["token"]), 204)
        make_link(owner, tid)
