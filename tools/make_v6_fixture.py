#!/usr/bin/python3
"""Make tests/fixtures/v6.sqlite3 and v6-answers.json with the release that writes schema version 6.

    tools/make_v6_fixture.py BINARY_OF_THAT_RELEASE

The file is written through that release's own HTTP API (search, organize, character chats
with retention at --history-limit 3), then every answer the upgrade test compares is recorded
from that same release: after the upgrade (versions 7: pictures, 8: thread members and the
archive of chats), the new binary must give exactly these answers (tests/cli/test_upgrade.py).
It was made once with the build of commit f4fe371 (schema version 6); keep it as it is.
"""
import json
import os
import shutil
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lib"))
import cv  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "tests", "fixtures")
T = "/api/v1/chat-threads"
READS = [
    ("alice", "GET", T), ("alice", "GET", T + "?archived=true"), ("alice", "GET", T + "?tag=work"),
    ("alice", "GET", T + "/1"), ("alice", "GET", T + "/2"), ("alice", "GET", T + "/3"),
    ("alice", "GET", T + "/3/messages?before=100&limit=5"),
    ("alice", "GET", "/api/v1/tags"), ("alice", "GET", "/api/chat-history?limit=10"),
    ("alice", "GET", "/api/v1/search?q=kyoto"), ("alice", "GET", "/api/v1/search?q=robo"),
    ("bob", "GET", T), ("bob", "GET", "/api/v1/search?q=kyoto"), ("bob", "GET", T + "/1"),
]


def ok(r, status):
    assert r.status == status, r
    return r


def main():
    binary = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="cv-fixture-")
    db = os.path.join(tmp, "v6.db")
    srv = cv.Server(db=db, binary=binary, args=["--history-limit", "3"])
    ans = []
    try:
        toks = {}
        for who in ("alice", "bob"):
            email = "%s@v6.test" % who
            ok(srv.req("POST", "/api/v1/auth/register", json={"email": email, "password": "fixture-password",
                                                              "display_name": who.title()}), 201)
            toks[who] = ok(srv.req("POST", "/api/v1/auth/login",
                                   json={"email": email, "password": "fixture-password"}), 200).json["access_token"]
        a, b = toks["alice"], toks["bob"]
        # three threads: pinned and tagged, archived, and a long one (several segments)
        ok(srv.req("POST", T, token=a, json={"title": "Trip to Kyoto", "messages": [
            {"role": "user", "content": "Plan three days in Kyoto, café list please"},
            {"role": "assistant", "content": "Day 1: Fushimi Inari, then 東京 is far"}]}), 201)
        ok(srv.req("PUT", T + "/1", token=a, json={"pinned": True, "tags": ["Work", "Travel"]}), 200)
        ok(srv.req("POST", T, token=a, json={"messages": [{"role": "user", "content": "old question"}]}), 201)
        ok(srv.req("PUT", T + "/2", token=a, json={"archived": True}), 200)
        ok(srv.req("POST", T, token=a, json={"title": "Long", "messages": [
            {"role": "user" if i % 2 == 0 else "assistant", "content": "message %d about nothing" % i}
            for i in range(150)]}), 201)
        ok(srv.req("POST", T, token=b, json={"title": "bob's kyoto", "messages": [
            {"role": "user", "content": "kyoto is bob's too"}]}), 201)
        # a character of alice's, a persona, and four chats: the history limit keeps three
        ch = ok(srv.req("POST", "/api/characters", token=a, json={"name": "Robo", "greeting": "Beep."}), 201).json
        pe = ok(srv.req("POST", "/api/personas", token=a, json={"name": "Traveller"}), 201).json
        for i in range(4):
            ok(srv.req("POST", "/api/chat", token=a, json={
                "chat_id": "00000000-0000-4000-8000-00000000000%d" % (i + 1), "character_id": ch["id"],
                "persona_id": pe["id"], "message": "hello robo %d" % i}), 200)
        for who, method, path in READS:
            r = srv.req(method, path, token=toks[who])
            ans.append({"who": who, "method": method, "path": path, "status": r.status,
                        "json": r.json, "total": r.header("X-Total-Count")})
        srv.stop()
    finally:
        srv.close(check=False)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 6
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    os.makedirs(OUT, exist_ok=True)
    shutil.copyfile(db, os.path.join(OUT, "v6.sqlite3"))
    with open(os.path.join(OUT, "v6-answers.json"), "w") as f:
        json.dump(ans, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    shutil.rmtree(tmp, ignore_errors=True)
    print("wrote tests/fixtures/v6.sqlite3 and v6-answers.json (%d answers)" % len(ans))


if __name__ == "__main__":
    main()
