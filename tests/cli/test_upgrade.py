"""Upgrading a version-2 file (issue 9, point 3): tests/fixtures/v2.sqlite3 was written through
the API and CLI of the release that writes schema version 2 (tools/make_v2_fixture.py, build of
2486a0c), and tests/fixtures/v2-answers.json holds that release's answers. The new binary
migrates the file in one transaction at start and must give exactly the same answers: lists,
threads, user responses, chat histories, catalog, tokens (valid ones work, the revoked one stays
revoked), and import idempotency. A kill -9 during the migration leaves a file the next start
migrates.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, run_cli  # noqa: E402

T = "/api/v1/chat-threads"
FIX = os.path.join(cv.ROOT, "tests", "fixtures")
TMP = None


def setup_module():
    global TMP
    TMP = tempfile.mkdtemp(prefix="cv-upgrade-")


def teardown_module():
    shutil.rmtree(TMP, ignore_errors=True)


def fixture_copy(name):
    path = os.path.join(TMP, name)
    shutil.copyfile(os.path.join(FIX, "v2.sqlite3"), path)
    return path


def answers():
    with open(os.path.join(FIX, "v2-answers.json"), encoding="utf-8") as f:
        return json.load(f)


def user_version(path):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()


def replay(srv, ans, only=None):
    """Every recorded answer (or those whose name ends with one of `only`) again, exactly:
    status, body and X-Total-Count."""
    for a in ans["answers"]:
        if only and not a["name"].endswith(only):
            continue
        tok = ans["tokens"][a["token"]]
        r = srv.req(a["method"], a["path"], token=tok)
        what = "%s %s %s" % (a["name"], a["method"], a["path"])
        assert r.status == a["status"], "%s: %r" % (what, r)
        assert r.json == a["json"], "%s: body differs after the upgrade" % what
        assert r.header("X-Total-Count") == a["total"], what


def test_version_2_file_upgrades_and_serves_exactly_what_it_served():
    """A version-2 file written by the previous release migrates at start and then gives the
    41 recorded answers byte for byte (lists, threads, users, chats, catalog, tokens, errors)."""
    ans = answers()
    path = fixture_copy("v2.db")
    assert user_version(path) == 2
    srv = cv.Server(db=path, args=["--history-limit", "5"])
    try:
        replay(srv, ans)
        a = ans["tokens"]["alice"]
        # import idempotency survives: the browser's threads and the legacy chat are known
        r = expect(srv.req("POST", T + "/import", token=a, json=[{"client_id": "local-1"}, {"client_id": 42}]), 200)
        assert (r.json["imported"], r.json["skipped"]) == (0, 2), r.json
        # ids are never given again: a new thread gets an id above every old one, the deleted included
        old = [t["id"] for t in expect(srv.req("GET", T + "?limit=200", token=a), 200).json]
        new = expect(srv.req("POST", T, token=a, json={"title": "after"}), 201).json["id"]
        assert new > max(old) and new > ans["deleted_thread"], (new, old, ans["deleted_thread"])
        # the long thread opens by its last page and takes appends at the right index
        long_id = ans["long_thread"]
        page = expect(srv.req("GET", "%s/%d/messages?limit=20" % (T, long_id), token=a), 200)
        assert page.header("X-Total-Count") == "150" and [m["index"] for m in page.json] == list(range(130, 150))
        whole = expect(srv.req("GET", "%s/%d" % (T, long_id), token=a), 200).json["messages"]
        assert [{"role": m["role"], "content": m["content"]} for m in page.json] == whole[130:]
        r = expect(srv.req("POST", "%s/%d/messages" % (T, long_id), token=a, json={"role": "user", "content": "after"}), 201)
        assert r.json["index"] == 150
        # the character chats go on (a chat's entry gains the message)
        entry = expect(srv.req("GET", "/api/users/me", token=a), 200).json["chat_history"][0]
        r = expect(srv.req("POST", "/api/chat", token=a, json={"chat_id": entry["chat_id"], "message": "again"}), 200)
        assert r.json["chat"]["messages"][:len(entry["messages"])] == entry["messages"]
        assert len(r.json["chat"]["messages"]) == len(entry["messages"]) + 2
        srv.stop()
    finally:
        srv.close(check=False)
    assert user_version(path) == 4
    res = run_cli(["check"], db=path)
    assert res.returncode == 0 and "segments: ok" in res.stdout, res
    legacy = os.path.join(TMP, "legacy.jsonl")
    with open(legacy, "w") as f:
        f.write(ans["legacy"])
    res = run_cli(["import-legacy", legacy], db=path)
    assert res.returncode == 0 and "0 chats imported, 1 skipped" in res.stdout, res


def grow(path, copies, long_id):
    """Make the fixture big enough that migrating it takes a while: copies of alice's long
    thread and of her chats, written straight into the version-2 tables."""
    con = sqlite3.connect(path)
    try:
        con.execute("BEGIN")
        for i in range(copies):
            con.execute("INSERT INTO chat_threads(user_id, client_id, title, messages, message_count,"
                        " created_at, updated_at) SELECT user_id, NULL, title || ?1, messages,"
                        " message_count, created_at, updated_at FROM chat_threads WHERE id=?2",
                        (" copy %d" % i, long_id))
        con.execute("COMMIT")
    finally:
        con.close()


@cv.timeout(600)
def test_kill9_during_the_migration_leaves_a_file_the_next_start_migrates():
    """kill -9 at 20/40/60/80 % of a 3,000-thread migration: the file is still version 2, the
    next start migrates it, the answers are the same and `check` is clean."""
    ans = answers()
    base = fixture_copy("big-v2.db")
    grow(base, 3000, ans["long_thread"])
    # how long a whole migration takes here
    probe = os.path.join(TMP, "probe.db")
    shutil.copyfile(base, probe)
    t0 = time.monotonic()
    srv = cv.Server(db=probe, args=["--history-limit", "5"])
    took = time.monotonic() - t0
    srv.close()
    interrupted = 0
    for k, frac in enumerate((0.2, 0.4, 0.6, 0.8)):
        path = os.path.join(TMP, "kill-%d.db" % k)
        shutil.copyfile(base, path)
        srv = cv.Server(db=path, start=False, args=["--history-limit", "5"])
        proc = subprocess.Popen([srv.binary, "serve", "--db", path, "--listen", "127.0.0.1:0",
                                 "--access-log", "off"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=cv.base_env())
        time.sleep(took * frac)
        proc.kill()
        proc.wait()
        v = user_version(path)
        assert v in (2, 4), v
        interrupted += v == 2
        srv.start()          # the next start migrates (again, or not at all)
        try:
            replay(srv, ans, only=(":thread", ":users-me", ":me", ":history"))
            r = expect(srv.req("GET", T + "?limit=1", token=ans["tokens"]["alice"]), 200)
            before = [a for a in ans["answers"] if a["name"] == "alice:list"][0]
            assert int(r.header("X-Total-Count")) == int(before["total"]) + 3000, r
        finally:
            srv.close()
        assert user_version(path) == 4
        res = run_cli(["check"], db=path)
        assert res.returncode == 0, res
    print("  migration of 3,000 more threads (150 messages each) took %.2f s; %d of 4 kills landed mid-migration"
          % (took, interrupted))
    assert interrupted >= 1, "no kill landed during the migration (took %.2f s)" % took


# The retention trigger as the release that writes schema version 3 (64a916e) created it; version
# 4 only re-creates this trigger, so a version-3 file is a current one with this trigger back.
V3_RETENTION = """CREATE TRIGGER chat_histories_retention AFTER INSERT ON chat_histories
BEGIN
  DELETE FROM chat_histories
   WHERE user_id = NEW.user_id
     AND id NOT IN (SELECT id FROM chat_histories
                     WHERE user_id = NEW.user_id
                     ORDER BY last_updated DESC, id DESC
                     LIMIT coalesce((SELECT max(CAST(value AS INTEGER), 1)
                                       FROM settings WHERE key = 'history_limit'), 30));
END"""


def test_version_3_file_upgrades_to_version_4_and_retention_holds():
    """A version-3 file (the previous release's) migrates to version 4 at start: the retention
    trigger is re-created with its WHEN, the chats it held are served as before, retention
    still keeps the newest N, and check passes."""
    path = os.path.join(TMP, "v3.db")
    srv = cv.Server(db=path, args=["--history-limit", "3"])
    try:
        _, tok, _ = cv.new_user(srv, "v3")
        for k in range(3):
            expect(srv.req("POST", "/api/chat", token=tok, json={"message": "v3 chat %d" % k}), 200)
        before = expect(srv.req("GET", "/api/users/me", token=tok), 200).json["chat_history"]
        srv.stop()
        con = sqlite3.connect(path)
        con.executescript("DROP TRIGGER chat_histories_retention;" + V3_RETENTION
                          + ";PRAGMA user_version=3;")
        con.close()
        assert user_version(path) == 3
        srv.start()
        assert expect(srv.req("GET", "/api/users/me", token=tok), 200).json["chat_history"] == before
        expect(srv.req("POST", "/api/chat", token=tok, json={"message": "v4 chat"}), 200)
        after = expect(srv.req("GET", "/api/users/me", token=tok), 200).json["chat_history"]
        assert len(after) == 3, after
        kept = {c["chat_id"] for c in after}
        assert kept >= {c["chat_id"] for c in before} - {min(before, key=lambda c: c["last_updated"])["chat_id"]}
        srv.stop()
    finally:
        srv.close(check=False)
    assert user_version(path) == 4
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name='chat_histories_retention'").fetchone()[0]
    finally:
        con.close()
    assert "WHEN EXISTS" in sql, sql
    res = run_cli(["check"], db=path)
    assert res.returncode == 0, res
