"""Upgrading a version-2 file (issue 9, point 3): tests/fixtures/v2.sqlite3 was written through
the API and CLI of the release that writes schema version 2 (tools/make_v2_fixture.py, build of
2486a0c), and tests/fixtures/v2-answers.json holds that release's answers. The new binary
migrates the file in one transaction at start and must give exactly the same answers: lists,
threads, user responses, chat histories, catalog, tokens (valid ones work, the revoked one stays
revoked), and import idempotency. A kill -9 during the migration leaves a file the next start
migrates.
"""

import datetime
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

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


def schema_sections():
    """schema.sql split into its migrations: {version: sql}. Released sections never change."""
    with open(os.path.join(cv.ROOT, "schema.sql"), encoding="utf-8") as f:
        parts = re.split(r"^-- version: (\d+)\n", f.read(), flags=re.M)
    return {int(parts[i]): parts[i + 1] for i in range(1, len(parts), 2)}


# The version this binary writes: the last section of the embedded schema.sql (the tests never
# hard-code it, so a new section does not touch them).
CURRENT = max(schema_sections())
ORGANIZE = {"pinned": False, "archived": False, "tags": []}


def same_but_organize(now, then):
    """The answer `now` equals the recorded `then`, except that thread shapes (ChatThreadOut,
    ChatThreadSummaryOut) gained pinned/archived/tags (contract v2), which must be the defaults
    on every thread of an upgraded file."""
    if isinstance(now, dict) and isinstance(then, dict):
        extra = set(now) - set(then)
        if extra:
            assert extra == set(ORGANIZE) and "id" in now and ("message_count" in now or "messages" in now), extra
            assert {k: now[k] for k in ORGANIZE} == ORGANIZE, now
        return set(now) - extra == set(then) and all(same_but_organize(now[k], then[k]) for k in then)
    if isinstance(now, list) and isinstance(then, list):
        return len(now) == len(then) and all(same_but_organize(a, b) for a, b in zip(now, then))
    return now == then


def user_version(path):
    return cv.sql_one(path, "PRAGMA user_version")


def as_written_by(path, version, *statements):
    """Make the current file at path one the release that wrote schema `version` left: run
    statements (undoing what later sections added), then set user_version."""
    con = sqlite3.connect(path)
    for q in statements:
        con.execute(q)
    con.execute("PRAGMA user_version=%d" % version)
    con.commit()
    con.close()
    assert user_version(path) == version


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
        assert same_but_organize(r.json, a["json"]), "%s: body differs after the upgrade" % what
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
    assert user_version(path) == CURRENT
    # version 5 filled `activity` from what the file held: every user with messages has them
    # counted (plus what this test wrote afterwards), and nobody else
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        held = dict(con.execute(
            "SELECT user_id, sum(n) FROM (SELECT user_id, message_count AS n FROM chat_threads"
            " UNION ALL SELECT user_id, message_count FROM chat_histories) GROUP BY user_id"
            " HAVING sum(n) > 0").fetchall())
        act = dict(con.execute("SELECT user_id, sum(messages) FROM activity GROUP BY user_id").fetchall())
        organized = con.execute("SELECT count(*) FROM chat_threads WHERE pinned OR archived"
                                " OR tags <> '[]'").fetchone()[0]
    finally:
        con.close()
    assert held and set(act) == set(held), (act, held)
    assert all(act[u] >= held[u] for u in held), (act, held)   # writes after it only add
    assert organized == 0
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
    srv = cv.Server(db=probe, args=["--history-limit", "5"], start=False)
    srv.START_TIMEOUT = 600.0    # the migration indexes 450,000 messages (search, version 6)
    srv.start()
    took = time.monotonic() - t0
    srv.close()
    interrupted = 0
    for k, frac in enumerate((0.2, 0.4, 0.6, 0.8)):
        path = os.path.join(TMP, "kill-%d.db" % k)
        shutil.copyfile(base, path)
        srv = cv.Server(db=path, start=False, args=["--history-limit", "5"])
        srv.START_TIMEOUT = 600.0
        proc = subprocess.Popen([srv.binary, "serve", "--db", path, "--listen", "127.0.0.1:0",
                                 "--access-log", "off"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=cv.base_env())
        time.sleep(took * frac)
        proc.kill()
        proc.wait()
        v = user_version(path)
        assert v in (2, CURRENT), v
        interrupted += v == 2
        srv.start()          # the next start migrates (again, or not at all)
        try:
            replay(srv, ans, only=(":thread", ":users-me", ":me", ":history"))
            r = expect(srv.req("GET", T + "?limit=1", token=ans["tokens"]["alice"]), 200)
            before = [a for a in ans["answers"] if a["name"] == "alice:list"][0]
            assert int(r.header("X-Total-Count")) == int(before["total"]) + 3000, r
        finally:
            srv.close()
        assert user_version(path) == CURRENT
        res = run_cli(["check"], db=path)
        assert res.returncode == 0, res
    print("  migration of 3,000 more threads (150 messages each) took %.2f s; %d of 4 kills landed mid-migration"
          % (took, interrupted))
    assert interrupted >= 1, "no kill landed during the migration (took %.2f s)" % took


test_kill9_during_the_migration_leaves_a_file_the_next_start_migrates.timeout = 600


def test_version_3_file_upgrades_and_retention_holds():
    """A version-3 file (an earlier release's: schema.sql's sections 1 to 3, the retention
    trigger without its WHEN) migrates to the current version at start: the retention trigger
    is re-created with its WHEN, the chats it held are served as they were written, retention
    still keeps the newest N, and check passes."""
    path = os.path.join(TMP, "v3.db")
    make_old_file(path, 3)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        assert "WHEN" not in con.execute("SELECT sql FROM sqlite_master"
                                         " WHERE name='chat_histories_retention'").fetchone()[0]
        con.execute("BEGIN")
        con.execute("INSERT INTO users(id, email, created_at) VALUES (1, 'v3@example.com',"
                    " '2026-01-01T00:00:00.000Z')")
        for k in range(3):
            m = json.dumps([{"role": "user", "content": "v3 chat %d" % k},
                            {"role": "assistant", "content": "answer %d" % k}], separators=(",", ":"))
            con.execute("INSERT INTO conversations(id, user_id, kind) VALUES (?1, 1, 2)", (k + 1,))
            con.execute("INSERT INTO segments(conv_id, first_index, n, messages) VALUES (?1, 0, 2, ?2)",
                        (k + 1, m))
            con.execute("INSERT INTO chat_histories(id, chat_id, user_id, title, message_count,"
                        " message_bytes, last_updated, created_at) VALUES (?1, ?2, 1, ?3, 2, ?4, ?5, ?5)",
                        (k + 1, "00000000-0000-4000-8000-00000000000%d" % k, "v3 chat %d" % k,
                         len(m.encode()), "2026-01-0%dT00:00:00.000Z" % (k + 1)))
        con.execute("COMMIT")
    finally:
        con.close()
    assert user_version(path) == 3
    tok = run_cli(["token", "v3@example.com"], db=path).stdout.strip()
    srv = cv.Server(db=path, args=["--history-limit", "3"])
    try:
        before = expect(srv.req("GET", "/api/users/me", token=tok), 200).json["chat_history"]
        assert [(c["chat_id"][-1], c["title"], c["messages"][0]["content"], c["last_updated"])
                for c in before] == [(str(k), "v3 chat %d" % k, "v3 chat %d" % k,
                                      "2026-01-0%dT00:00:00.000Z" % (k + 1)) for k in (2, 1, 0)], before
        expect(srv.req("POST", "/api/chat", token=tok, json={"message": "new chat"}), 200)
        after = expect(srv.req("GET", "/api/users/me", token=tok), 200).json["chat_history"]
        assert len(after) == 3, after
        kept = {c["chat_id"] for c in after}
        assert kept >= {c["chat_id"] for c in before} - {min(before, key=lambda c: c["last_updated"])["chat_id"]}
        srv.stop()
    finally:
        srv.close(check=False)
    assert user_version(path) == CURRENT
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name='chat_histories_retention'").fetchone()[0]
    finally:
        con.close()
    assert "WHEN EXISTS" in sql, sql
    res = run_cli(["check"], db=path)
    assert res.returncode == 0, res


def make_old_file(path, version):
    """An empty file as the release that writes schema `version` (3 or more) leaves it:
    schema.sql's sections 1 to `version` (released sections are never edited), with what
    store_conv_migrate_v3 does after section 3 (on an empty file: drop v2_messages)."""
    sections = schema_sections()
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA foreign_keys=OFF")
        con.execute("BEGIN")
        for v in range(1, version + 1):
            for stmt in split_sql(sections[v]):
                con.execute(stmt)
        con.execute("DROP TABLE v2_messages")
        con.execute("COMMIT")
        con.execute("PRAGMA user_version=%d" % version)
    finally:
        con.close()


def make_version_4_file(path):
    """A file as the release that writes schema version 4 leaves it: schema.sql's sections 1 to
    4 (released, never edited) on an empty file, then rows written in the version-4 tables the
    way its store wrote them (conversations, segments, headers with message_count and
    message_bytes). Two threads of alice (3 messages two days ago, and an empty one), a chat
    with a character (2 messages, yesterday) and one of bob."""
    make_old_file(path, 4)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        day = datetime.datetime.now(datetime.timezone.utc).date()
        d2 = (day - datetime.timedelta(days=2)).isoformat() + "T10:00:00.000Z"
        d1 = (day - datetime.timedelta(days=1)).isoformat() + "T11:00:00.000Z"
        m3 = json.dumps([{"role": "user", "content": "one"}, {"role": "assistant", "content": "two"},
                         {"role": "user", "content": "three"}], separators=(",", ":"))
        m2 = json.dumps([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
                        separators=(",", ":"))
        con.execute("BEGIN")
        con.execute("INSERT INTO users(id, email, created_at) VALUES (1, 'v4alice@example.com', ?1),"
                    " (2, 'v4bob@example.com', ?1)", (d2,))
        con.execute("INSERT INTO characters(id, creator_id, name, created_at) VALUES (1, 1, 'Robo', ?1)", (d2,))
        con.execute("INSERT INTO conversations(id, user_id, kind) VALUES (1, 1, 1), (2, 1, 1), (3, 1, 2), (4, 2, 1)")
        con.execute("INSERT INTO segments(conv_id, first_index, n, messages) VALUES (1, 0, 3, ?1), (3, 0, 2, ?2),"
                    " (4, 0, 2, ?2)", (m3, m2))
        con.execute("INSERT INTO chat_threads(id, user_id, title, message_count, message_bytes, created_at,"
                    " updated_at) VALUES (1, 1, 'old one', 3, ?1, ?2, ?2), (2, 1, 'New chat', 0, 0, ?3, ?3),"
                    " (4, 2, 'bob', 2, ?4, ?3, ?3)", (len(m3.encode()), d2, d1, len(m2.encode())))
        con.execute("INSERT INTO chat_histories(id, chat_id, user_id, character_id, character_name, title,"
                    " message_count, message_bytes, last_updated, created_at) VALUES"
                    " (3, '6f1c1a5e-4b7e-4d55-9a1e-0c1b2a3d4e5f', 1, 1, 'Robo', 'hi', 2, ?1, ?2, ?2)",
                    (len(m2.encode()), d1))
        con.execute("COMMIT")
    finally:
        con.close()
    return d2[:10], d1[:10]


def split_sql(text):
    """Statements of a schema section (triggers hold `;` inside BEGIN ... END)."""
    out, cur = [], ""
    for line in text.splitlines(True):
        if line.lstrip().startswith("--") and not cur.strip():
            continue
        cur += line
        if sqlite3.complete_statement(cur):
            out.append(cur)
            cur = ""
    if cur.strip():
        out.append(cur)
    return out


def test_version_4_file_upgrades_with_organize_and_activity():
    """A version-4 file (the release before "Organize") migrates to the current version at
    start: its threads are pinned=false, archived=false, tags=[], listed and counted as before,
    `activity` is filled from what the file holds (each conversation's messages on the day of
    its last change), its messages and titles are found by search, the new routes answer for
    it, and check passes."""
    path = os.path.join(TMP, "v4.db")
    d2, d1 = make_version_4_file(path)
    assert user_version(path) == 4
    tok = run_cli(["token", "v4alice@example.com"], db=path)   # migrates the file
    assert tok.returncode == 0, tok
    tok = tok.stdout.strip()
    assert user_version(path) == CURRENT
    srv = cv.Server(db=path)
    try:
        r = expect(srv.req("GET", T, token=tok), 200)
        assert [(t["id"], t["title"], t["message_count"]) for t in r.json] == \
            [(2, "New chat", 0), (1, "old one", 3)], r.json
        assert r.header("X-Total-Count") == "2"
        for t in r.json:
            assert {k: t[k] for k in ORGANIZE} == ORGANIZE, t
        one = expect(srv.req("GET", T + "/1", token=tok), 200).json
        assert {k: one[k] for k in ORGANIZE} == ORGANIZE and len(one["messages"]) == 3, one
        assert expect(srv.req("GET", T + "?archived=true", token=tok), 200).json == []
        assert expect(srv.req("GET", "/api/v1/tags", token=tok), 200).json == []
        st = expect(srv.req("GET", "/api/v1/stats?days=7", token=tok), 200).json
        per = {d["date"]: d["messages"] for d in st["per_day"]}
        assert (st["threads"], st["chats"], st["messages"], st["characters_used"]) == (2, 1, 5, 1), st
        assert per[d2] == 3 and per[d1] == 2 and sum(per.values()) == 5, st["per_day"]
        assert st["top_characters"] == [{"character_name": "Robo", "chats": 1, "messages": 2}]
        # search (version 6) indexed what the version-4 file held: messages and titles of
        # both models, alice's only (bob's thread holds the same "hi"/"yo")
        hits = expect(srv.req("GET", "/api/v1/search?q=three", token=tok), 200).json
        assert [(h["kind"], h.get("thread_id"), h["index"]) for h in hits["items"]] == \
            [("thread", 1, 2)], hits
        hits = expect(srv.req("GET", "/api/v1/search?q=yo", token=tok), 200).json
        assert [(h["kind"], h.get("chat_id"), h["index"]) for h in hits["items"]] == \
            [("chat", "6f1c1a5e-4b7e-4d55-9a1e-0c1b2a3d4e5f", 1)], hits
        hits = expect(srv.req("GET", "/api/v1/search?q=%22old%20one%22", token=tok), 200).json
        assert [(h["thread_id"], h["index"]) for h in hits["items"]] == [(1, -1)], hits
        # organizing works on the migrated rows, and the archived count starts right
        r = expect(srv.req("PUT", T + "/1", token=tok, json={"archived": True, "tags": ["Old"]}), 200)
        assert r.json["updated_at"] == one["updated_at"]
        r = expect(srv.req("GET", T, token=tok), 200)
        assert [t["id"] for t in r.json] == [2] and r.header("X-Total-Count") == "1"
        srv.stop()
    finally:
        srv.close(check=False)
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        act = con.execute("SELECT user_id, day, messages FROM activity ORDER BY user_id, day").fetchall()
    finally:
        con.close()
    assert act == [(1, d2, 3), (1, d1, 2), (2, d1, 2)], act
    res = run_cli(["check"], db=path)
    assert res.returncode == 0, res


def test_version_6_file_upgrades_and_serves_exactly_what_it_served():
    """A version-6 file written by the previous release (tests/fixtures/v6.sqlite3, made by
    tools/make_v6_fixture.py with the build of f4fe371: pinned, archived and tagged threads, a
    150-message thread, character chats already cut by retention at --history-limit 3, a
    persona, another user's thread) migrates at start through version 7 (pictures), 8
    (thread members, the archive of chats), 9 (OpenAI fingerprints), 10 (share links), 11
    (the change log, filled with what the file holds) and 12 (the search index rebuilt, the
    150-message thread's segments of 64 re-packed into segments of at most 16), then answers every recorded read
    exactly as that release did; the new tables start empty (the log: one upsert per object the
    file holds) and work on the old rows (a member, the archive, an OpenAI turn, a share link,
    an edit); check passes."""
    path = os.path.join(TMP, "v6.db")
    shutil.copyfile(os.path.join(FIX, "v6.sqlite3"), path)
    with open(os.path.join(FIX, "v6-answers.json")) as f:
        answers = json.load(f)
    assert user_version(path) == 6
    toks = {}
    for who in ("alice", "bob"):
        r = run_cli(["token", "%s@v6.test" % who], db=path)       # the first one migrates
        assert r.returncode == 0, r
        toks[who] = r.stdout.strip()
    assert user_version(path) == CURRENT
    srv = cv.Server(db=path, args=["--history-limit", "3"])
    try:
        for a in answers:
            r = srv.req(a["method"], a["path"], token=toks[a["who"]])
            assert r.status == a["status"], (a["path"], r)
            if a["path"].startswith("/api/v1/search") and r.status == 200:
                # version 12 ranks without document lengths (its index keeps none): the same
                # hits, each as it was, in an order of its own
                def key(h):
                    return (h["kind"], h.get("thread_id", 0), h.get("chat_id", ""), h["index"])
                got, want = dict(r.json), dict(a["json"])
                got["items"] = sorted(got["items"], key=key)
                want["items"] = sorted(want["items"], key=key)
                assert got == want, (a["who"], a["path"], r.json, a["json"])
            else:
                assert r.json == a["json"], (a["who"], a["path"], r.json, a["json"])
            assert r.header("X-Total-Count") == a["total"], (a["path"], r.header("X-Total-Count"))
        # version 12 re-packed the 150-message thread's segments of 64 into segments of at
        # most 16, and its messages are found where they are
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            assert con.execute("SELECT max(n) FROM segments").fetchone()[0] <= 16
            conv, nseg = con.execute("SELECT conv_id, count(*) FROM segments GROUP BY conv_id"
                                     " ORDER BY 2 DESC LIMIT 1").fetchone()
        finally:
            con.close()
        assert nseg >= 10, nseg
        owner = None
        for who in ("alice", "bob"):
            r = srv.req("GET", "%s/%d" % (T, conv), token=toks[who])
            if r.status == 200:
                owner, msgs = who, r.json["messages"]
        assert owner and len(msgs) >= 150, conv
        for i in (0, 17, 70, 149):
            q = urllib.parse.quote('"%s"' % msgs[i]["content"].replace('"', " "))
            js = expect(srv.req("GET", "/api/v1/search?q=" + q, token=toks[owner]), 200).json
            assert [(h.get("thread_id"), h["index"]) for h in js["items"]] == [(conv, i)], (i, js)
        # version 11 on the old rows: each user's first replay of the change log holds what
        # the user has (threads, chats, personas), once each, as upserts, and nothing else
        for who in ("alice", "bob"):
            tok = toks[who]
            log = expect(srv.req("GET", "/api/v1/changes?limit=1000", token=tok), 200).json
            assert log["more"] is False and all(c["op"] == "upsert" for c in log["changes"]), log
            got = {(c["kind"], c["id"]) for c in log["changes"]}
            assert len(got) == len(log["changes"]), log
            threads = expect(srv.req("GET", T + "?archived=any&limit=100", token=tok), 200).json
            chats = expect(srv.req("GET", "/api/chat-history?limit=100", token=tok), 200).json["items"]
            personas = expect(srv.req("GET", "/api/personas", token=tok), 200).json
            personas = personas["items"] if isinstance(personas, dict) else personas
            want = ({("thread", t["id"]) for t in threads} | {("chat", c["chat_id"]) for c in chats}
                    | {("persona", p["id"]) for p in personas})
            assert {k for k in got if k[0] != "character"} == want, (who, got, want)
            assert want, who
            # and what follows is logged after that cursor
            t = expect(srv.req("POST", T, token=tok, json={"title": "after v11"}), 201).json["id"]
            nxt = expect(srv.req("GET", "/api/v1/changes?since=" + log["cursor"], token=tok), 200).json
            assert [(c["kind"], c["id"], c["op"]) for c in nxt["changes"]] == [("thread", t, "upsert")]
            expect(srv.req("DELETE", "%s/%d" % (T, t), token=tok), 204)
        # version 8 on the old rows: nothing shared, nothing archived, and both work
        a, b = toks["alice"], toks["bob"]
        assert expect(srv.req("GET", T + "?shared=true", token=b), 200).json == []
        assert expect(srv.req("GET", "/api/chat-history/archived", token=a), 200).json["items"] == []
        expect(srv.req("POST", T + "/1/members", token=a, json={"email": "bob@v6.test"}), 201)
        shared = expect(srv.req("GET", T + "?shared=true", token=b), 200).json
        assert [t["id"] for t in shared] == [1] and shared[0]["owner"]["display_name"] == "Alice"
        expect(srv.req("GET", T + "/1", token=b), 200)
        expect(srv.req("PUT", T + "/1", token=b, json={"title": "mine"}), 403)
        # retention still deletes by default: a fourth chat pushes the oldest kept one out
        before = expect(srv.req("GET", "/api/chat-history?limit=10", token=a), 200).json["items"]
        expect(srv.req("POST", "/api/chat", token=a, json={"message": "one more"}), 200)
        after = expect(srv.req("GET", "/api/chat-history?limit=10", token=a), 200).json["items"]
        assert len(before) == len(after) == 3, (before, after)
        assert before[-1]["chat_id"] not in [e["chat_id"] for e in after]
        assert expect(srv.req("GET", "/api/chat-history/archived", token=a), 200).json["items"] == []
        # versions 9 and 10 and the edits on the old rows: a migrated thread has no fingerprint,
        # so its messages sent to /v1/chat/completions start a new thread, and naming it
        # extends it; a share link snapshots it; an edit rewrites its first message
        old = [(m["role"], m["content"]) for m in
               expect(srv.req("GET", T + "/1", token=a), 200).json["messages"]]
        body = {"model": "m", "messages": [{"role": ro, "content": co} for ro, co in old] +
                [{"role": "user", "content": "after the upgrade"}]}
        r = expect(srv.req("POST", "/v1/chat/completions", token=a, json=body), 200)
        assert r.header("X-Chatvault-Thread") != "1", r.header("X-Chatvault-Thread")
        r = expect(srv.req("POST", "/v1/chat/completions", token=a, json=body,
                           headers={"X-Chatvault-Thread": "1"}), 200)
        assert r.header("X-Chatvault-Thread") == "1"
        now = [(m["role"], m["content"]) for m in
               expect(srv.req("GET", T + "/1", token=a), 200).json["messages"]]
        assert now[:len(old)] == old and len(now) == len(old) + 2, (len(old), len(now))
        link = expect(srv.req("POST", T + "/1/share", token=a, json={}), 201).json
        snap = expect(srv.req("GET", "/api/v1/shared/" + link["token"]), 200).json
        assert [(m["role"], m["content"]) for m in snap["messages"]] == now
        expect(srv.req("PATCH", T + "/1/messages/0", token=a, json={"content": "edited"}), 200)
        first = expect(srv.req("GET", T + "/1", token=a), 200).json["messages"][0]
        assert first["content"] == "edited"
        snap2 = expect(srv.req("GET", "/api/v1/shared/" + link["token"]), 200).json
        assert snap2["messages"] == snap["messages"]
        srv.stop()
    finally:
        srv.close(check=False)
    res = run_cli(["check"], db=path)
    assert res.returncode == 0, res


def test_version_12_file_upgrades_to_13_and_keeps_what_it_had():
    """A file as the release that writes schema version 12 (the previous release) leaves it:
    version 13 only adds the cluster's batch keys (cluster_batches), so a current file with
    that table dropped and user_version 12 is one. serve migrates it: the data stays, the table
    exists and stays empty (a single file never writes batch keys), check passes."""
    path = os.path.join(TMP, "v12.db")
    srv = cv.Server(db=path)
    try:
        _, tok, _ = cv.new_user(srv, "v12")
        t = expect(srv.req("POST", T, token=tok, json={"title": "from v12",
                   "messages": [{"role": "user", "content": "kept"}]}), 201).json
    finally:
        srv.close()
    as_written_by(path, 12, "DROP TABLE cluster_batches")
    srv = cv.Server(db=path)
    try:
        got = expect(srv.req("GET", "%s/%d" % (T, t["id"]), token=tok), 200).json
        assert got["title"] == "from v12" and got["messages"] == t["messages"], got
        expect(srv.req("POST", "%s/%d/messages" % (T, t["id"]), token=tok,
                       json={"role": "user", "content": "after"}), 201)
    finally:
        srv.close()
    assert user_version(path) == CURRENT
    assert cv.sql_one(path, "SELECT count(*) FROM cluster_batches") == 0
    res = run_cli(["check"], db=path)
    assert res.returncode == 0, res


def test_version_13_file_upgrades_to_14_with_the_index_merge_settings():
    """A file as the release that writes schema version 13 leaves it: version 14 only sets the
    search index's merge settings (automerge 8, usermerge 2: rows of its config table), so a
    current file without those rows and user_version 13 is one. serve migrates it: the settings
    are there, the data and its index stay, check passes. (The writer's idle merging itself:
    tests/unit/test_db.c.)"""
    path = os.path.join(TMP, "v13.db")
    srv = cv.Server(db=path)
    try:
        _, tok, _ = cv.new_user(srv, "v13")
        ids = [expect(srv.req("POST", T, token=tok, json={"title": "t%d" % i,
                      "messages": [{"role": "user", "content": "kept words %d" % i}]}), 201).json["id"]
               for i in range(20)]
    finally:
        srv.close()
    as_written_by(path, 13, "DELETE FROM search_index_config WHERE k IN ('automerge', 'usermerge')")
    srv = cv.Server(db=path)
    try:
        got = expect(srv.req("GET", "%s/%d" % (T, ids[7]), token=tok), 200).json
        assert got["messages"][0]["content"] == "kept words 7", got
        hits = expect(srv.req("GET", "/api/v1/search?q=kept&limit=50", token=tok), 200).json
        assert hits["total"] == 20, hits
    finally:
        srv.close()
    assert user_version(path) == CURRENT
    conf = dict(cv.sql_rows(path, "SELECT k, v FROM search_index_config"))
    assert conf.get("automerge") == 8 and conf.get("usermerge") == 2, conf
    res = run_cli(["check"], db=path)
    assert res.returncode == 0, res


def test_version_14_file_upgrades_to_15_with_leaves_of_two_pages():
    """A file as the release that writes schema version 14 leaves it: version 15 only sets the
    search index's leaf size (pgsz 8,140: a leaf fills two 4 KiB pages, one b-tree page and
    one overflow page), so a current file without that row and user_version 14 is one. serve
    migrates it: the setting is there, what it held is found as before; what is written after
    it is merged (while idle) into leaves wider than one page holds in place (4,061 bytes, all
    that version 14's 4,050 allowed) and never wider than two pages hold (8,153), and found."""
    path = os.path.join(TMP, "v14.db")
    srv = cv.Server(db=path)
    try:
        _, tok, _ = cv.new_user(srv, "v14")
        t = expect(srv.req("POST", T, token=tok, json={"title": "from v14",
                   "messages": [{"role": "user", "content": "kept quoll"}]}), 201).json
    finally:
        srv.close()
    as_written_by(path, 14, "DELETE FROM search_index_config WHERE k = 'pgsz'")
    rnd = random.Random(15)
    words = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7))
             for _ in range(4000)]
    srv = cv.Server(db=path)
    try:
        hits = expect(srv.req("GET", "/api/v1/search?q=quoll", token=tok), 200).json
        assert hits["total"] == 1 and hits["items"][0]["thread_id"] == t["id"], hits
        for i in range(40):
            expect(srv.req("POST", "%s/%d/messages" % (T, t["id"]), token=tok,
                           json={"role": "user", "content": " ".join(words[i*100:(i+1)*100])}), 201)
        segs = cv.wait_index_merged(path)
        assert segs == 1, segs
        for w in (words[0], words[1234], words[3999], "quoll"):
            hits = expect(srv.req("GET", "/api/v1/search?q=" + w, token=tok), 200).json
            assert hits["total"] == 1, (w, hits)
    finally:
        srv.close()
    assert user_version(path) == CURRENT
    conf = dict(cv.sql_rows(path, "SELECT k, v FROM search_index_config"))
    assert conf.get("pgsz") == 8140, conf
    widest = cv.sql_one(path, "SELECT max(length(block)) FROM search_index_data WHERE id > 10")
    assert 4061 < widest <= 8153, widest
    res = run_cli(["check"], db=path)
    assert res.returncode == 0, res
