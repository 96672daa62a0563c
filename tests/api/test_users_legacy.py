"""The older client's account routes: POST /api/users, POST /api/login, GET /api/users/me,
GET /api/user/{user_id}, DELETE /api/users/me (contract: "Character chats" → Users)."""

import os
import sqlite3
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_422, expect_error, expect_ts  # noqa: E402

SRV = None
USER_KEYS = {"id", "email", "display_name", "created_at", "chat_history"}
LOGIN_KEYS = USER_KEYS | {"access_token", "token_type"}
PW = cv.DEFAULT_PASSWORD


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def check_user(js, email=None):
    assert isinstance(js, dict) and set(js) == USER_KEYS, "user response keys: %r" % (js,)
    assert isinstance(js["id"], int) and isinstance(js["chat_history"], list), js
    expect_ts(js["created_at"])
    if email is not None:
        assert js["email"] == email, js
    return js


def signup(email=None, display_name=None, srv=None):
    email = email or cv.unique_email("old")
    body = {"email": email, "password": PW}
    if display_name is not None:
        body["display_name"] = display_name
    r = cv.request(srv or SRV, "POST", "/api/users", json=body)
    expect(r, 201, "POST /api/users")
    return email, check_user(r.json, email)


def old_login(email, pw=PW, srv=None):
    return cv.request(srv or SRV, "POST", "/api/login", json={"email": email, "password": pw})


def test_signup_returns_the_user_response():
    email, u = signup(display_name="Old Client")
    assert u["display_name"] == "Old Client" and u["chat_history"] == [], u
    _, u2 = signup()
    assert u2["display_name"] is None


def test_signup_errors():
    email, _ = signup()
    expect_error(cv.request(SRV, "POST", "/api/users", json={"email": email.upper(), "password": PW}), 409)
    expect_422(cv.request(SRV, "POST", "/api/users", json={"email": "nope", "password": PW}), loc=["body", "email"])
    expect_422(cv.request(SRV, "POST", "/api/users", json={"email": cv.unique_email(), "password": "short"}),
               loc=["body", "password"])
    expect_422(cv.request(SRV, "POST", "/api/users", json={"email": cv.unique_email()}), loc=["body", "password"])


def test_signup_disabled():
    with cv.Server(args=["--no-signup"]) as srv:
        r = cv.request(srv, "POST", "/api/users", json={"email": cv.unique_email(), "password": PW})
        expect_error(r, 403)


def test_login_returns_user_response_and_token():
    email, u = signup()
    r = expect(old_login(email), 200)
    assert set(r.json) == LOGIN_KEYS, r
    assert r.json["token_type"] == "bearer" and len(r.json["access_token"]) >= 43, r
    assert r.json["id"] == u["id"] and r.json["email"] == email
    tok = r.json["access_token"]
    me = expect(cv.request(SRV, "GET", "/api/users/me", token=tok), 200).json
    assert check_user(me, email)["id"] == u["id"]
    # the same account works on /api/v1/auth, and its token here
    r1 = cv.login(SRV, email)
    expect(cv.request(SRV, "GET", "/api/users/me", token=r1.json["access_token"]), 200)
    expect(cv.request(SRV, "GET", "/api/v1/auth/me", token=tok), 200)


def test_login_errors():
    email, _ = signup()
    expect_401(old_login(email, "wrong password!"))
    expect_401(old_login(cv.unique_email(), PW))
    expect_422(cv.request(SRV, "POST", "/api/login", json={"email": email}), loc=["body", "password"])


def test_v1_registered_user_can_use_the_old_routes():
    email, tok, u = cv.new_user(SRV, "v1")
    r = expect(old_login(email), 200)
    assert r.json["id"] == u["id"]
    expect(cv.request(SRV, "GET", "/api/user/%d" % u["id"], token=tok), 200)


def test_me_lists_chats_newest_first():
    email, tok, _ = cv.new_user(SRV, "me")
    c = cv.Client(SRV, tok)
    ids = []
    for i in range(3):
        ids.append(expect(c.post("/api/chat", json={"message": "m%d" % i}), 200).json["chat_id"])
    expect(c.post("/api/chat/rename", json={"chat_id": ids[0], "title": "top"}), 200)
    me = check_user(expect(c.get("/api/users/me"), 200).json, email)
    assert [e["chat_id"] for e in me["chat_history"]] == [ids[0], ids[2], ids[1]], me
    r = expect(old_login(email), 200)
    assert [e["chat_id"] for e in r.json["chat_history"]] == [ids[0], ids[2], ids[1]]
    expect_401(cv.request(SRV, "GET", "/api/users/me"))


def test_user_by_id_is_yourself_only():
    _, ta, ua = cv.new_user(SRV, "ida")
    _, tb, ub = cv.new_user(SRV, "idb")
    expect(cv.Client(SRV, ta).post("/api/chat", json={"message": "a private thing"}), 200)
    r = expect(cv.request(SRV, "GET", "/api/user/%d" % ua["id"], token=ta), 200)
    check_user(r.json)
    assert len(r.json["chat_history"]) == 1
    r = cv.request(SRV, "GET", "/api/user/%d" % ua["id"], token=tb)
    expect_error(r, 403)
    assert b"a private thing" not in r.body and ua["email"].encode() not in r.body
    expect_error(cv.request(SRV, "GET", "/api/user/99999999", token=ta), 404)
    expect_422(cv.request(SRV, "GET", "/api/user/abc", token=ta))
    expect_401(cv.request(SRV, "GET", "/api/user/%d" % ua["id"]))


def test_delete_me_removes_everything_of_the_user():
    with cv.Server() as srv:
        email, tok, u = cv.new_user(srv, "del")
        c = cv.Client(srv, tok)
        tok2 = expect(old_login(email, srv=srv), 200).json["access_token"]
        ch = expect(c.post("/api/characters", json={"name": "Orphan"}), 201).json
        sc = expect(c.post("/api/scenes", json={"name": "Orphan scene"}), 201).json
        pe = expect(c.post("/api/personas", json={"name": "Gone persona"}), 201).json
        expect(c.post("/api/chat", json={"message": "hi", "character_id": ch["id"], "persona_id": pe["id"]}), 200)
        expect(c.post("/api/v1/chat-threads", json={"messages": [{"role": "user", "content": "x"}]}), 201)
        # someone else's data must survive
        _, otok, ou = cv.new_user(srv, "keep")
        oc = cv.Client(srv, otok)
        expect(oc.post("/api/chat", json={"message": "still mine", "character_id": ch["id"]}), 200)

        expect(c.delete("/api/users/me"), 204)
        expect_401(cv.request(srv, "GET", "/api/users/me", token=tok))
        expect_401(cv.request(srv, "GET", "/api/users/me", token=tok2))
        expect_401(old_login(email, srv=srv))
        # the catalog stays (without a creator: nobody may change it now)
        assert expect(oc.get("/api/characters/%d" % ch["id"]), 200).json["name"] == "Orphan"
        expect(oc.get("/api/scenes/%d" % sc["id"]), 200)
        expect_error(oc.put("/api/characters/%d" % ch["id"], json={"name": "x"}), 403)
        assert len(expect(oc.get("/api/chat-history"), 200).json["items"]) == 1

        db = sqlite3.connect("file:%s?mode=ro" % srv.db, uri=True)
        try:
            for table, col in (("users", "id"), ("tokens", "user_id"), ("chat_threads", "user_id"),
                               ("chat_histories", "user_id"), ("personas", "user_id"),
                               ("characters", "creator_id"), ("scenes", "creator_id")):
                n = db.execute("SELECT count(*) FROM %s WHERE %s=?" % (table, col), (u["id"],)).fetchone()[0]
                assert n == 0, "%s still has %d rows of the deleted user" % (table, n)
            assert db.execute("SELECT count(*) FROM users WHERE email=?", (email,)).fetchone()[0] == 0
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            db.close()
        # the email is free again, with an empty history
        _, u2 = signup(email, srv=srv)
        assert u2["chat_history"] == [] and u2["id"] != u["id"]
