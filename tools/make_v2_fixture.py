#!/usr/bin/python3
"""Make tests/fixtures/v2.sqlite3 and v2-answers.json with a release that writes schema version 2.

    tools/make_v2_fixture.py BINARY_OF_THAT_RELEASE

The fixture is written through the old release's own HTTP API and CLI (not by hand-made SQL),
then every answer the upgrade test compares is recorded from that same release: after the
upgrade, the new binary must give exactly these answers (tests/cli/test_upgrade.py).
It was made once with the build of commit 2486a0c (schema version 2); keep it as it is.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lib"))
import cv  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "tests", "fixtures")
T = "/api/v1/chat-threads"


def ok(r, status):
    assert r.status == status, r
    return r


def main():
    binary = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="cv-fixture-")
    db = os.path.join(tmp, "v2.db")
    srv = cv.Server(db=db, binary=binary, args=["--history-limit", "5"])
    ans = {"tokens": {}, "answers": []}
    try:
        def rec(name, method, path, token, **kw):
            r = srv.req(method, path, token=token, **kw)
            ans["answers"].append({"name": name, "method": method, "path": path, "token": name.split(":")[0],
                                   "status": r.status, "json": r.json,
                                   "total": r.header("X-Total-Count")})
            return r

        toks = {}
        for who in ("alice", "bob", "carol"):
            email = "%s@fixture.test" % who
            ok(srv.req("POST", "/api/v1/auth/register", json={"email": email, "password": "fixture-password",
                                                              "display_name": who.title()}), 201)
            toks[who] = ok(srv.req("POST", "/api/v1/auth/login",
                                   json={"email": email, "password": "fixture-password"}), 200).json["access_token"]
        # a revoked token (logout) must stay revoked
        email = "alice@fixture.test"
        revoked = ok(srv.req("POST", "/api/v1/auth/login", json={"email": email, "password": "fixture-password"}), 200).json["access_token"]
        ok(srv.req("POST", "/api/v1/auth/logout", token=revoked), 204)
        ans["tokens"] = dict(toks, revoked=revoked)
        a, b = toks["alice"], toks["bob"]

        # threads: empty, named, long (crosses many segments), big messages, imported ones
        ok(srv.req("POST", T, token=a, json={}), 201)
        ok(srv.req("POST", T, token=a, json={"title": "Named \u00e9 \"quoted\" <b>"}), 201)
        long_id = ok(srv.req("POST", T, token=a, json={"messages": [
            {"role": "user", "content": "first line of a long one\nsecond"}]}), 201).json["id"]
        for i in range(1, 150):
            ok(srv.req("POST", "%s/%d/messages" % (T, long_id), token=a,
                       json={"role": "assistant" if i % 2 else "user", "content": "msg %d \u2603 %s" % (i, "x" * (i % 7))}), 201)
        ok(srv.req("POST", T, token=a, json={"messages": [
            {"role": "user", "content": "big " + "\u00fc" * 30000},
            {"role": "assistant", "content": "tab\there \"quote\" \\ back \u0001 ctl"}]}), 201)
        ok(srv.req("POST", T + "/import", token=a, json=[
            {"client_id": "local-1", "title": "From the browser", "created_at": "2024-01-02T03:04:05.678Z",
             "updated_at": "2024-02-03T04:05:06.789Z",
             "messages": [{"role": "user", "content": "imported"}, {"role": "assistant", "content": "yes"}]},
            {"client_id": 42, "messages": []}]), 200)
        ok(srv.req("POST", T, token=b, json={"title": "Bob's"}), 201)
        deleted = ok(srv.req("POST", T, token=a, json={"title": "gone"}), 201).json["id"]
        ok(srv.req("DELETE", "%s/%d" % (T, deleted), token=a), 204)

        # catalog and chats: more chats than the history limit (5), so retention has run
        ch = ok(srv.req("POST", "/api/characters", token=b, json={"name": "Ada", "description": "A bot",
                                                                   "greeting": "Hello!", "picture": "https://x.test/a.png"}), 201).json
        sc = ok(srv.req("POST", "/api/scenes", token=b, json={"name": "Moon", "description": "grey"}), 201).json
        pe = ok(srv.req("POST", "/api/personas", token=a, json={"name": "Me", "description": "curious"}), 201).json
        gone = ok(srv.req("POST", "/api/characters", token=b, json={"name": "Gone"}), 201).json
        chat_ids = []
        for i in range(7):
            body = {"message": "chat %d hello" % i}
            if i % 2 == 0:
                body.update(character_id=ch["id"], scene_id=sc["id"], persona_id=pe["id"])
            if i == 3:
                body.update(character_id=gone["id"])
            r = ok(srv.req("POST", "/api/chat", token=a, json=body), 200).json
            chat_ids.append(r["chat_id"])
            for k in range(i * 20):
                ok(srv.req("POST", "/api/chat", token=a, json={"chat_id": r["chat_id"], "message": "more %d" % k}), 200)
        ok(srv.req("POST", "/api/chat/rename", token=a, json={"chat_id": chat_ids[4], "title": "Renamed"}), 200)
        ok(srv.req("DELETE", "/api/characters/%d" % gone["id"], token=b), 204)
        ok(srv.req("POST", "/api/chat", token=toks["carol"], json={"message": "carol's only chat"}), 200)
        srv.stop()
        legacy = os.path.join(tmp, "legacy.jsonl")
        with open(legacy, "w") as f:
            f.write(json.dumps({"id": 9, "email": "dave@fixture.test", "chat_history": [
                {"chat_id": "0b7e7d8e-6f00-4a54-9a0e-3c1e4f000001", "title": "legacy",
                 "messages": [{"role": "user", "content": "old"}, {"role": "assistant", "content": "older"}],
                 "last_updated": "2023-05-06T07:08:09.000Z", "created_at": "2023-05-06T07:08:09.000Z"}]}) + "\n")
        res = cv.run_cli(["import-legacy", legacy], db=db, binary=binary)
        assert res.returncode == 0, res
        dave = cv.run_cli(["token", "dave@fixture.test"], db=db, binary=binary).stdout.strip()
        ans["tokens"]["dave"] = dave
        ans["legacy"] = open(legacy).read()
        srv.start()

        # the answers the upgraded file must give again, exactly
        for who in ("alice", "bob", "carol", "dave"):
            tok = ans["tokens"][who]
            rec(who + ":me", "GET", "/api/v1/auth/me", tok)
            rec(who + ":list", "GET", T + "?limit=200", tok)
            rec(who + ":users-me", "GET", "/api/users/me", tok)
            rec(who + ":history", "GET", "/api/chat-history?limit=100", tok)
            rec(who + ":history-p2", "GET", "/api/chat-history?page=2&limit=2", tok)
            rec(who + ":personas", "GET", "/api/personas", tok)
            rec(who + ":recommended", "GET", "/api/characters/recommended", tok)
            for t in srv.req("GET", T + "?limit=200", token=tok).json:
                rec(who + ":thread", "GET", "%s/%d" % (T, t["id"]), tok)
        rec("alice:characters", "GET", "/api/characters", a)
        rec("alice:scenes", "GET", "/api/scenes", a)
        rec("alice:character", "GET", "/api/characters/%d" % ch["id"], a)
        rec("alice:other-thread", "GET", "%s/%d" % (T, srv.req("GET", T, token=b).json[0]["id"]), a)
        rec("alice:deleted-thread", "GET", "%s/%d" % (T, deleted), a)
        rec("revoked:me", "GET", "/api/v1/auth/me", revoked)
        ans["long_thread"] = long_id
        ans["deleted_thread"] = deleted
        srv.stop()
        os.makedirs(OUT, exist_ok=True)
        con_check = subprocess.run(["sqlite3", db, "PRAGMA user_version"], capture_output=True, text=True)
        assert con_check.stdout.strip() == "2", con_check
        shutil.copyfile(db, os.path.join(OUT, "v2.sqlite3"))
        with open(os.path.join(OUT, "v2-answers.json"), "w") as f:
            json.dump(ans, f, indent=1, ensure_ascii=False, sort_keys=True)
            f.write("\n")
        print("fixture written: %d answers" % len(ans["answers"]))
    finally:
        srv.close(check=False)


if __name__ == "__main__":
    main()
