"""Sharing a thread with other accounts (issue 16; contract v2 "Sharing with other accounts";
docs/api.md "Sharing with other accounts").

The owner adds members by email (POST …/members), lists them (GET, also for members) and
removes them (DELETE …/members/{user_id}, also a member leaving). A member reads the live
thread (GET thread, GET messages, the thread export) and gets 403 on every write; anyone else
gets exactly what they got before sharing existed (403 for an existing thread, 404 for a
missing one). `GET /api/v1/chat-threads?shared=true` lists the threads shared with the caller,
with `owner`; the caller's own list, export, stats and search never hold them.
"""

import json
import os
import sys
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_422, expect_error  # noqa: E402

SRV = None
T = "/api/v1/chat-threads"
MEMBER_KEYS = {"user_id", "email", "display_name", "added_at"}
SUMMARY_KEYS = {"id", "title", "created_at", "updated_at", "message_count", "pinned", "archived",
                "tags"}
THREAD_KEYS = {"id", "user_id", "title", "messages", "created_at", "updated_at", "pinned",
               "archived", "tags"}


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def U(tag, display_name=None):
    return cv.User(SRV, tag, display_name=display_name)


def thread_of(owner, secret=None, n=2, title=None):
    secret = secret or "SECRET-" + uuid.uuid4().hex[:10]
    msgs = [{"role": "user" if i % 2 == 0 else "assistant", "content": "%s message %d" % (secret, i)}
            for i in range(n)]
    r = expect(owner.c.post(T, json={"title": title or "title " + secret, "messages": msgs}), 201)
    return r.json["id"], secret


def share(owner, tid, member, status=201):
    r = expect(owner.c.post("%s/%d/members" % (T, tid), json={"email": member.email}), status,
               "share %d" % tid)
    return r


def trio(tag="m"):
    owner = U(tag + "own", "Olive Owner " + tag)
    member = U(tag + "mem", "Max Member " + tag)
    stranger = U(tag + "str")
    tid, secret = thread_of(owner)
    share(owner, tid, member)
    return owner, member, stranger, tid, secret


# --------------------------------------------------------------------------------------------
# The member routes
# --------------------------------------------------------------------------------------------

def test_add_answers_the_member_and_again_200_same_body():
    owner, member = U("own", "Olive"), U("mem", "Max")
    tid, _ = thread_of(owner)
    # the email is compared ignoring case, the answer has it as registered
    r = expect(owner.c.post("%s/%d/members" % (T, tid), json={"email": member.email.upper()}), 201)
    assert set(r.json) == MEMBER_KEYS, r
    assert r.json["user_id"] == member.id and r.json["email"] == member.email, r
    assert r.json["display_name"] == "Max", r
    cv.expect_ts(r.json["added_at"])
    r2 = expect(owner.c.post("%s/%d/members" % (T, tid), json={"email": member.email}), 200)
    assert r2.json == r.json, (r, r2)
    r = expect(owner.c.get("%s/%d/members" % (T, tid)), 200)
    assert r.json == [r2.json], r
    assert r.header("X-Total-Count") == "1", r
    # a member without a display name: null
    nameless = U("nameless")
    r = share(owner, tid, nameless)
    assert r.json["display_name"] is None, r
    r = expect(member.c.get("%s/%d/members" % (T, tid)), 200)
    assert [m["user_id"] for m in r.json] == [member.id, nameless.id], r


def test_add_yourself_and_bad_bodies_422():
    owner = U("own")
    tid, _ = thread_of(owner)
    path = "%s/%d/members" % (T, tid)
    expect_422(owner.c.post(path, json={"email": owner.email}), loc=["body", "email"])
    expect_422(owner.c.post(path, json={"email": owner.email.upper()}), loc=["body", "email"])
    expect_422(owner.c.post(path, json={}), loc=["body", "email"])
    expect_422(owner.c.post(path, json={"email": "no-at-sign"}), loc=["body", "email"])
    expect_422(owner.c.post(path, json={"email": 7}), loc=["body", "email"])
    expect_422(owner.c.post(path, json=["x@example.com"]))
    expect_422(owner.c.post("%s/abc/members" % T, json={"email": "x@example.com"}))
    expect_422(owner.c.delete("%s/%d/members/abc" % (T, tid)))
    r = expect(owner.c.get(path), 200)
    assert r.json == [], r


def test_unknown_email_404_is_the_routes_one_404():
    owner, stranger = U("own"), U("str")
    tid, _ = thread_of(owner)
    unknown = expect_error(owner.c.post("%s/%d/members" % (T, tid),
                                        json={"email": cv.unique_email("nobody")}), 404)
    r_unknown = owner.c.post("%s/%d/members" % (T, tid), json={"email": cv.unique_email("nobody")})
    r_missing = owner.c.post("%s/%d/members" % (T, 987654321), json={"email": stranger.email})
    r_both = owner.c.post("%s/%d/members" % (T, 987654321), json={"email": cv.unique_email("x")})
    for r in (r_unknown, r_missing, r_both):
        assert r.status == 404 and r.body == r_unknown.body, (r, r_unknown)
        assert r.header("Content-Type") == r_unknown.header("Content-Type"), r
    assert unknown == r_unknown.json["detail"]
    # another user's thread: 403 whatever the email (existing, unknown, its owner's own)
    for email in (stranger.email, cv.unique_email("nobody"), owner.email):
        expect_error(stranger.c.post("%s/%d/members" % (T, tid), json={"email": email}), 403)
    expect(owner.c.get("%s/%d/members" % (T, tid)), 200)


def test_owner_member_stranger_on_the_member_routes():
    owner, member, stranger, tid, secret = trio()
    other = U("other")
    share(owner, tid, other)
    path = "%s/%d/members" % (T, tid)
    # reading the list: owner and members
    for who in (owner, member, other):
        r = expect(who.c.get(path), 200)
        assert {m["user_id"] for m in r.json} == {member.id, other.id}, r
    r = stranger.req("GET", path)
    expect_error(r, 403)
    assert secret.encode() not in r.body and member.email.encode() not in r.body
    # adding: only the owner
    expect_error(member.req("POST", path, {"email": stranger.email}), 403)
    expect_error(stranger.req("POST", path, {"email": stranger.email}), 403)
    # removing: a member only itself, a stranger nothing
    expect_error(member.req("DELETE", "%s/%d" % (path, other.id)), 403)
    expect_error(member.req("DELETE", "%s/%d" % (path, owner.id)), 403)
    expect_error(stranger.req("DELETE", "%s/%d" % (path, member.id)), 403)
    expect_error(stranger.req("DELETE", "%s/%d" % (path, stranger.id)), 403)
    # the owner: removing a non-member is 404 (Member), a missing thread 404 (Thread)
    d = expect_error(owner.req("DELETE", "%s/%d" % (path, stranger.id)), 404)
    assert "Member" in d, d
    d = expect_error(owner.req("DELETE", "%s/%d/members/%d" % (T, 987654321, member.id)), 404)
    assert "Thread" in d, d
    expect(owner.req("GET", "%s/%d/members" % (T, 987654321)), 404)
    r = expect(owner.c.get(path), 200)
    assert {m["user_id"] for m in r.json} == {member.id, other.id}, r


# --------------------------------------------------------------------------------------------
# The access matrix of a member
# --------------------------------------------------------------------------------------------

def test_member_reads_every_read_route():
    owner, member, _, tid, secret = trio()
    r = expect(member.c.get("%s/%d" % (T, tid)), 200)
    assert set(r.json) == THREAD_KEYS | {"owner"}, r
    assert r.json["owner"] == {"id": owner.id, "display_name": owner.name}, r
    assert r.json["user_id"] == owner.id and len(r.json["messages"]) == 2, r
    assert r.json["messages"][0]["content"] == "%s message 0" % secret
    # the owner's own view is unchanged: no owner key
    r = expect(owner.c.get("%s/%d" % (T, tid)), 200)
    assert set(r.json) == THREAD_KEYS, r
    r = expect(member.req("HEAD", "%s/%d" % (T, tid)), 200)
    r = expect(member.c.get("%s/%d/messages?limit=1" % (T, tid)), 200)
    assert r.json == [{"index": 1, "role": "assistant", "content": "%s message 1" % secret}], r
    assert r.header("X-Total-Count") == "2", r
    r = expect(member.c.get("%s/%d/export" % (T, tid)), 200)
    js = json.loads(r.body)
    assert js["id"] == tid and js["owner"]["id"] == owner.id, js
    assert "attachment" in (r.header("Content-Disposition") or ""), r
    r = expect(member.c.get("%s/%d/export?format=md" % (T, tid)), 200)
    assert secret.encode() in r.body, r
    r = expect(member.c.get("%s/%d/export?format=txt" % (T, tid)), 200)
    expect(member.req("HEAD", "%s/%d/export?format=json" % (T, tid)), 200)
    expect(member.c.get("%s/%d/members" % (T, tid)), 200)


def write_routes(tid, owner_id):
    return [
        ("PUT", "%s/%d" % (T, tid), {"title": "pwned"}),
        ("PUT", "%s/%d" % (T, tid), {"messages": []}),
        ("PUT", "%s/%d" % (T, tid), {"pinned": True}),
        ("PUT", "%s/%d" % (T, tid), {"archived": True}),
        ("PUT", "%s/%d" % (T, tid), {"tags": ["pwned"]}),
        ("DELETE", "%s/%d" % (T, tid), None),
        ("POST", "%s/%d/messages" % (T, tid), {"role": "user", "content": "pwned"}),
        ("POST", "%s/%d/complete" % (T, tid), {"content": "pwned"}),
        ("POST", "%s/%d/complete" % (T, tid), {"content": "pwned", "stream": True}),
        ("POST", "%s/%d/members" % (T, tid), {"email": "someone@example.com"}),
        ("DELETE", "%s/%d/members/%d" % (T, tid, owner_id), None),
    ]


def test_member_gets_403_on_every_write_and_nothing_changes():
    owner, member, stranger, tid, secret = trio()
    before = expect(owner.c.get("%s/%d" % (T, tid)), 200).json
    for method, path, body in write_routes(tid, owner.id):
        for who, what in ((member, "member"), (stranger, "stranger")):
            r = who.req(method, path, body)
            d = expect_error(r, 403, "%s %s as %s" % (method, path, what))
            assert d == "Thread belongs to another user", (method, path, what, r)
    # an import by the member with the owner's thread's id as client_id makes its own thread
    r = expect(member.c.post(T + "/import", json=[{"client_id": str(tid), "title": "mine"}]), 200)
    assert r.json["imported"] == 1 and r.json["threads"][0]["id"] != tid, r
    after = expect(owner.c.get("%s/%d" % (T, tid)), 200).json
    assert after == before, (before, after)
    r = expect(owner.c.get("%s/%d/members" % (T, tid)), 200)
    assert [m["user_id"] for m in r.json] == [member.id], r


def test_stranger_answers_unchanged_by_sharing():
    owner, member, stranger, tid, secret = trio()
    for method, path in (("GET", "%s/%d" % (T, tid)), ("GET", "%s/%d/messages" % (T, tid)),
                         ("GET", "%s/%d/export?format=md" % (T, tid)),
                         ("GET", "%s/%d/members" % (T, tid))):
        r = stranger.req(method, path)
        d = expect_error(r, 403, path)
        assert d == "Thread belongs to another user", r
        assert secret.encode() not in r.body and owner.email.encode() not in r.body, r
        r = stranger.req(method, path.replace("/%d" % tid, "/987654321"))
        expect_error(r, 404, path)
    r = expect(stranger.c.get(T + "?shared=true"), 200)
    assert r.json == [] and r.header("X-Total-Count") == "0", r


def test_member_sees_the_live_thread():
    owner, member, _, tid, _ = trio()
    expect(owner.c.post("%s/%d/messages" % (T, tid), json={"role": "user", "content": "later"}), 201)
    expect(owner.c.put("%s/%d" % (T, tid), json={"title": "renamed", "pinned": True}), 200)
    r = expect(member.c.get("%s/%d" % (T, tid)), 200)
    assert r.json["title"] == "renamed" and r.json["messages"][-1]["content"] == "later", r
    assert r.json["pinned"] is True, r
    r = expect(member.c.get(T + "?shared=true"), 200)
    assert r.json[0]["message_count"] == 3 and r.json[0]["title"] == "renamed", r


# --------------------------------------------------------------------------------------------
# Ending a membership
# --------------------------------------------------------------------------------------------

def test_leaving_and_removal_make_a_stranger_again():
    owner, member, _, tid, _ = trio()
    other = U("other")
    share(owner, tid, other)
    # leaving
    r = member.req("DELETE", "%s/%d/members/%d" % (T, tid, member.id))
    expect(r, 204)
    assert r.body == b"", r
    for path in ("%s/%d" % (T, tid), "%s/%d/messages" % (T, tid), "%s/%d/export" % (T, tid),
                 "%s/%d/members" % (T, tid)):
        expect_error(member.req("GET", path), 403, path)
    expect_error(member.req("DELETE", "%s/%d/members/%d" % (T, tid, member.id)), 403)
    r = expect(member.c.get(T + "?shared=true"), 200)
    assert r.json == [] and r.header("X-Total-Count") == "0", r
    # removal by the owner
    expect(owner.req("DELETE", "%s/%d/members/%d" % (T, tid, other.id)), 204)
    expect_error(other.req("GET", "%s/%d" % (T, tid)), 403)
    expect_error(owner.req("DELETE", "%s/%d/members/%d" % (T, tid, other.id)), 404)
    r = expect(owner.c.get("%s/%d/members" % (T, tid)), 200)
    assert r.json == [], r
    # sharing again works
    share(owner, tid, member)
    expect(member.c.get("%s/%d" % (T, tid)), 200)


def test_thread_deletion_removes_memberships():
    owner, member, _, tid, _ = trio()
    expect(owner.c.delete("%s/%d" % (T, tid)), 204)
    expect_error(member.req("GET", "%s/%d" % (T, tid)), 404)
    expect_error(member.req("GET", "%s/%d/members" % (T, tid)), 404)
    r = expect(member.c.get(T + "?shared=true"), 200)
    assert r.json == [] and r.header("X-Total-Count") == "0", r


def test_account_deletion_removes_memberships():
    owner, member, _, tid, _ = trio()
    other = U("other")
    tid2, _ = thread_of(owner)
    share(owner, tid2, other)
    # the member's account goes: the owner's list of members loses it
    expect(member.req("DELETE", "/api/users/me"), 204)
    r = expect(owner.c.get("%s/%d/members" % (T, tid)), 200)
    assert r.json == [], r
    # the owner's account goes: its threads and their memberships go
    r = expect(other.c.get(T + "?shared=true"), 200)
    assert [t["id"] for t in r.json] == [tid2], r
    expect(owner.req("DELETE", "/api/users/me"), 204)
    r = expect(other.c.get(T + "?shared=true"), 200)
    assert r.json == [] and r.header("X-Total-Count") == "0", r
    expect_error(other.req("GET", "%s/%d" % (T, tid2)), 404)


# --------------------------------------------------------------------------------------------
# ?shared=true, and what stays the member's own
# --------------------------------------------------------------------------------------------

def test_shared_list_with_owner_and_paging():
    owner, owner2 = U("own", "Olive"), U("own2")
    member = U("mem")
    mine, _ = thread_of(member)
    ids = []
    for i in range(5):
        tid, _ = thread_of(owner if i % 2 == 0 else owner2, title="shared %d" % i)
        share(owner if i % 2 == 0 else owner2, tid, member)
        ids.append(tid)
    unshared, _ = thread_of(owner)
    want = list(reversed(ids))            # newest updated_at first
    r = expect(member.c.get(T + "?shared=true"), 200)
    assert [t["id"] for t in r.json] == want, r
    assert r.header("X-Total-Count") == "5" and r.header("X-Next-Cursor") is None, r
    for t in r.json:
        assert set(t) == SUMMARY_KEYS | {"owner"}, t
        o = owner if t["title"] in ("shared 0", "shared 2", "shared 4") else owner2
        assert t["owner"] == {"id": o.id, "display_name": o.name}, t
    # the own list never has them, and has no owner key
    for q in ("", "?shared=false", "?shared=0", "?archived=any"):
        r = expect(member.c.get(T + q), 200)
        assert [t["id"] for t in r.json] == [mine], (q, r)
        assert "owner" not in r.json[0] and r.header("X-Total-Count") == "1", r
    # offset paging
    r = expect(member.c.get(T + "?shared=true&limit=2&offset=2"), 200)
    assert [t["id"] for t in r.json] == want[2:4] and r.header("X-Total-Count") == "5", r
    # cursor paging
    got, q = [], T + "?shared=true&limit=2"
    while True:
        r = expect(member.c.get(q), 200)
        assert r.header("X-Total-Count") == "5", r
        got += [t["id"] for t in r.json]
        cur = r.header("X-Next-Cursor")
        if not cur:
            break
        q = T + "?shared=true&limit=2&cursor=" + urllib.parse.quote(cur)
    assert got == want, got
    # a shared list's cursor is not the own list's, and the reverse
    cur = expect(member.c.get(T + "?shared=true&limit=1"), 200).header("X-Next-Cursor")
    expect_422(member.c.get(T + "?cursor=" + urllib.parse.quote(cur)), loc=["query", "cursor"])
    mine2, _ = thread_of(member)
    own_cur = expect(member.c.get(T + "?limit=1"), 200).header("X-Next-Cursor")
    assert own_cur, "own list has 2 threads"
    expect_422(member.c.get(T + "?shared=true&cursor=" + urllib.parse.quote(own_cur)),
               loc=["query", "cursor"])
    expect_422(member.c.get(T + "?shared=true&offset=1&cursor=" + urllib.parse.quote(cur)),
               loc=["query", "cursor"])
    # filters belong to the own list: refused with shared=true; a bad shared value is 422
    for q in ("archived=any", "archived=true", "pinned=true", "tag=x"):
        expect_422(member.c.get(T + "?shared=true&" + q), loc=["query", "shared"])
    expect_422(member.c.get(T + "?shared=maybe"), loc=["query", "shared"])
    expect_422(member.c.get(T + "?shared=true&limit=0"), loc=["query", "limit"])
    # the owner's archived flag does not hide it from the member (shown, not used)
    expect(owner.c.put("%s/%d" % (T, ids[0]), json={"archived": True}), 200)
    r = expect(member.c.get(T + "?shared=true"), 200)
    assert ids[0] in [t["id"] for t in r.json], r
    assert [t for t in r.json if t["id"] == ids[0]][0]["archived"] is True, r
    # the owners see nothing shared with them
    r = expect(owner.c.get(T + "?shared=true"), 200)
    assert r.json == [] and r.header("X-Total-Count") == "0", r
    assert unshared not in [t["id"] for t in r.json]


def test_members_own_export_stats_search_tags_exclude_shared():
    owner, member, _, tid, secret = trio()
    expect(owner.c.put("%s/%d" % (T, tid), json={"tags": ["ownertag"]}), 200)
    word = "zebra" + uuid.uuid4().hex[:8]
    expect(owner.c.post("%s/%d/messages" % (T, tid), json={"role": "user", "content": word}), 201)
    mine, mysecret = thread_of(member)
    # export
    r = expect(member.c.get("/api/v1/export"), 200)
    doc = json.loads(r.body)
    assert [t["id"] for t in doc["threads"]] == [mine], doc["threads"]
    assert secret.encode() not in r.body and word.encode() not in r.body
    # stats
    r = expect(member.c.get("/api/v1/stats"), 200)
    assert r.json["threads"] == 1 and r.json["messages"] == 2, r
    # search: own messages found, the shared thread's never
    r = expect(member.c.get("/api/v1/search?q=" + word), 200)
    assert r.json["total"] == 0 and r.json["items"] == [], r
    r = expect(member.c.get("/api/v1/search?q=" + urllib.parse.quote(secret)), 200)
    assert r.json["total"] == 0, r
    r = expect(member.c.get("/api/v1/search?q=" + urllib.parse.quote(mysecret)), 200)
    assert r.json["total"] >= 1, r
    assert all(h.get("thread_id") == mine for h in r.json["items"]), r
    # tags: the owner's tag is not the member's
    r = expect(member.c.get("/api/v1/tags"), 200)
    assert r.json == [], r
    # the owner's own search still finds it
    r = expect(owner.c.get("/api/v1/search?q=" + word), 200)
    assert r.json["total"] == 1, r
