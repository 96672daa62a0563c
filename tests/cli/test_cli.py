"""The subcommands: user add|passwd, token, backup, check, version, usage errors, env twins.

Exit codes (docs/conventions.md): 0 success, 1 error (message on stderr), 2 usage error.
"""

import os
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_error, run_cli, unique_email  # noqa: E402

T = "/api/v1/chat-threads"
SRV = None
TMP = None


def setup_module():
    global SRV, TMP
    SRV = cv.Server()
    TMP = tempfile.mkdtemp(prefix="cv-cli-")


def teardown_module():
    try:
        if SRV:
            SRV.close()
    finally:
        if TMP:
            shutil.rmtree(TMP, ignore_errors=True)


def ok(res, what=""):
    assert res.returncode == 0, "%sexpected exit 0: %r" % (what + ": " if what else "", res)
    return res


def fails(res, code, what=""):
    w = what + ": " if what else ""
    assert res.returncode == code, "%sexpected exit %d: %r" % (w, code, res)
    assert res.stderr.strip(), "%sexit %d without a message on stderr: %r" % (w, code, res)
    return res


def me(srv, token):
    return srv.req("GET", "/api/v1/auth/me", token=token)


# --- user add / passwd ----------------------------------------------------------------------

def test_user_add_then_login_over_http():
    e = unique_email("cli")
    ok(run_cli(["user", "add", e], stdin="cli-password-1\n", db=SRV.db), "user add")
    r = cv.login(SRV, e, "cli-password-1")
    assert r.json["user"]["email"] == e, r.json
    expect_error(cv.login(SRV, e, "cli-password-1\n", expect_status=None), 401,
                 "the newline ends the password, it is not part of it")


def test_user_add_password_without_trailing_newline():
    e = unique_email("cli-nonl")
    ok(run_cli(["user", "add", e], stdin="no-newline-pw", db=SRV.db))
    cv.login(SRV, e, "no-newline-pw")


def test_user_add_on_a_new_database_file():
    # Like serve, the CLI creates and migrates a database that does not exist yet.
    db = os.path.join(TMP, "fresh-%s.db" % os.urandom(4).hex())
    e = unique_email("cli-new")
    ok(run_cli(["user", "add", e], stdin="password123\n", db=db))
    with cv.Server(db=db) as s:
        cv.login(s, e, "password123")


def test_user_add_duplicate_exits_1():
    e = unique_email("cli-dup")
    ok(run_cli(["user", "add", e], stdin="password123\n", db=SRV.db))
    fails(run_cli(["user", "add", e.upper()], stdin="password456\n", db=SRV.db), 1, "duplicate")
    cv.login(SRV, e, "password123")


def test_user_add_validates_like_the_api():
    fails(run_cli(["user", "add", unique_email("cli-short")], stdin="short\n", db=SRV.db), 1,
          "7-char password")
    fails(run_cli(["user", "add", "not-an-email"], stdin="password123\n", db=SRV.db), 1,
          "email without @")
    fails(run_cli(["user", "add", unique_email("cli-empty")], stdin="", db=SRV.db), 1,
          "no password on stdin")


def test_user_passwd_changes_password():
    e = unique_email("cli-pw")
    ok(run_cli(["user", "add", e], stdin="first-password\n", db=SRV.db))
    cv.login(SRV, e, "first-password")
    ok(run_cli(["user", "passwd", e], stdin="second-password\n", db=SRV.db), "user passwd")
    expect_error(cv.login(SRV, e, "first-password", expect_status=None), 401, "old password")
    cv.login(SRV, e, "second-password")
    fails(run_cli(["user", "passwd", e], stdin="short\n", db=SRV.db), 1, "too short")
    cv.login(SRV, e, "second-password")


def test_user_passwd_revokes_every_token_of_the_user():
    # Issue 10 item 4: a password change ends the sessions opened with the old password.
    e = unique_email("cli-pwrev")
    other = unique_email("cli-pwrev-other")
    ok(run_cli(["user", "add", e], stdin="first-password\n", db=SRV.db))
    ok(run_cli(["user", "add", other], stdin="first-password\n", db=SRV.db))
    t1 = cv.login(SRV, e, "first-password").json["access_token"]
    t2 = ok(run_cli(["token", e], db=SRV.db)).stdout.strip()
    t_other = cv.login(SRV, other, "first-password").json["access_token"]
    expect(me(SRV, t1), 200)
    res = ok(run_cli(["user", "passwd", e], stdin="second-password\n", db=SRV.db), "user passwd")
    expect_401(me(SRV, t1), "login token after passwd")
    expect_401(me(SRV, t2), "CLI token after passwd")
    assert re.search(r"\b2 tokens revoked", res.stdout), "passwd should say how many: %r" % res.stdout
    expect(me(SRV, t_other), 200, "another user's token")
    t3 = cv.login(SRV, e, "second-password").json["access_token"]
    expect(me(SRV, t3), 200, "a token made after passwd")


def test_token_revoke_ends_every_session_of_the_user():
    e = unique_email("cli-rev")
    other = unique_email("cli-rev-other")
    ok(run_cli(["user", "add", e], stdin="password123\n", db=SRV.db))
    ok(run_cli(["user", "add", other], stdin="password123\n", db=SRV.db))
    toks = [cv.login(SRV, e, "password123").json["access_token"] for _ in range(2)]
    toks.append(ok(run_cli(["token", e], db=SRV.db)).stdout.strip())
    t_other = cv.login(SRV, other, "password123").json["access_token"]
    for t in toks:
        expect(me(SRV, t), 200)
    res = ok(run_cli(["token", "revoke", e], db=SRV.db), "token revoke")
    assert re.search(r"\brevoked 3 tokens\b", res.stdout), "token revoke should print 3: %r" % res.stdout
    for t in toks:
        expect_401(me(SRV, t), "after token revoke")
    expect(me(SRV, t_other), 200, "another user's token")
    res = ok(run_cli(["token", "revoke", e.upper()], db=SRV.db), "token revoke again")
    assert re.search(r"\brevoked 0 tokens\b", res.stdout), res.stdout
    # the password still works: revoking is not a lock
    expect(me(SRV, cv.login(SRV, e, "password123").json["access_token"]), 200)
    fails(run_cli(["token", "revoke", unique_email("cli-rev-ghost")], db=SRV.db), 1, "unknown email")
    fails(run_cli(["token", "revoke"], db=SRV.db), 2, "token revoke without EMAIL")


def test_serve_purges_expired_tokens():
    # store_tokens_purge runs from serve's loop (at most every token lifetime, here 1 s, and at
    # least every 10 minutes): expired tokens leave the table instead of piling up per login.
    with cv.Server(args=["--token-ttl", "1s"]) as s:
        e = unique_email("cli-purge")
        keep = unique_email("cli-purge-keep")
        for who in (e, keep):
            ok(run_cli(["user", "add", who], stdin="password123\n", db=s.db))
        for _ in range(3):
            cv.login(s, e, "password123")
        live = ok(run_cli(["token", keep, "--token-ttl", "1h"], db=s.db)).stdout.strip()
        con = sqlite3.connect("file:%s?mode=ro" % s.db, uri=True, timeout=10)
        try:
            def count(who):
                return con.execute("SELECT count(*) FROM tokens t JOIN users u ON u.id = t.user_id"
                                   " WHERE u.email = ?", (who,)).fetchone()[0]
            deadline = time.monotonic() + 20
            while count(e) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert count(e) == 0, "%d expired tokens still in the table after 20 s" % count(e)
            assert count(keep) == 1, "the purge deleted a live token"
        finally:
            con.close()
        expect(me(s, live), 200, "the live token after the purge")


def test_user_passwd_unknown_email_exits_1():
    fails(run_cli(["user", "passwd", unique_email("cli-ghost")], stdin="password123\n",
                  db=SRV.db), 1)


# --- token ----------------------------------------------------------------------------------

def test_token_prints_a_working_bearer_token():
    e = unique_email("cli-tok")
    ok(run_cli(["user", "add", e], stdin="password123\n", db=SRV.db))
    res = ok(run_cli(["token", e], db=SRV.db), "token")
    lines = [l for l in res.stdout.splitlines() if l.strip()]
    assert len(lines) == 1, "token should print exactly one line: %r" % res.stdout
    tok = lines[0].strip()
    assert re.match(r"^[A-Za-z0-9_\-]{43,}=*$", tok), "not a base64url token of 32+ bytes: %r" % tok
    r = expect(me(SRV, tok), 200, "GET /me with the CLI token")
    assert r.json["email"] == e, r.json
    expect(SRV.req("POST", T, json={"title": "via cli token"}, token=tok), 201)
    # Each call makes a new token; logging one out leaves the other.
    tok2 = ok(run_cli(["token", e], db=SRV.db)).stdout.strip()
    assert tok2 != tok
    expect(SRV.req("POST", "/api/v1/auth/logout", token=tok), 204)
    expect_401(me(SRV, tok))
    expect(me(SRV, tok2), 200)


def test_token_unknown_email_exits_1():
    fails(run_cli(["token", unique_email("cli-nobody")], db=SRV.db), 1)


# --- backup / check -------------------------------------------------------------------------

def test_backup_while_serving_is_complete_and_checks_clean():
    e = unique_email("cli-bk")
    cv.register(SRV, e, "password123")
    tok = cv.login(SRV, e, "password123").json["access_token"]
    c = cv.Client(SRV, tok)
    made = {}
    for i in range(20):
        r = expect(c.post(T, json={"title": "backup %d \U0001F600" % i, "messages": [
            {"role": "user", "content": "q%d" % i}, {"role": "assistant", "content": "a%d" % i}]}),
            201)
        made[r.json["id"]] = r.json
    # Keep writing while the backup runs.
    stop = threading.Event()
    errors = []

    def writer():
        w = cv.Client(SRV, tok)
        tid = next(iter(made))
        while not stop.is_set():
            r = w.post("%s/%d/messages" % (T, tid), json={"role": "user", "content": "during"})
            if r.status != 201:
                errors.append(r)
                return
        w.close()
    th = threading.Thread(target=writer, daemon=True)
    th.start()
    out = os.path.join(TMP, "backup-%s.db" % os.urandom(4).hex())
    try:
        res = run_cli(["backup", out], db=SRV.db, timeout=120)
    finally:
        stop.set()
        th.join(30)
    ok(res, "backup while serving")
    assert not errors, "writes failed during the backup: %r" % errors[:3]
    assert os.path.isfile(out) and os.path.getsize(out) > 0, "no backup file"
    ok(run_cli(["check"], db=out), "check on the backup")
    SRV.assert_alive()
    with cv.Server(db=out) as s:
        tok2 = cv.login(s, e, "password123").json["access_token"]
        for tid, t in made.items():
            r = expect(s.req("GET", "%s/%d" % (T, tid), token=tok2), 200, "thread %d in backup" % tid)
            assert r.json["title"] == t["title"], (r.json, t)
            assert r.json["messages"][:2] == t["messages"], (r.json, t)
        # The old server's tokens are in the copy too (it is the same data).
        expect(s.req("GET", "/api/v1/auth/me", token=tok), 200)


def test_backup_to_unwritable_path_exits_1():
    fails(run_cli(["backup", "/nonexistent-dir-%s/x.db" % os.urandom(3).hex()], db=SRV.db), 1)


def test_restore_into_a_new_file_and_what_it_refuses():
    """`restore BACKUP --db NEW`: NEW serves the backup's data; an existing NEW is refused and
    left as it was; a backup whose trigger-kept counts are wrong fails its check once
    restored, and NEW is removed with its -wal and -shm."""
    e = unique_email("cli-rs")
    cv.register(SRV, e, "password123")
    tok = cv.login(SRV, e, "password123").json["access_token"]
    tid = expect(cv.Client(SRV, tok).post(T, json={"title": "to restore"}), 201).json["id"]
    bk = os.path.join(TMP, "rs-%s.db" % os.urandom(4).hex())
    ok(run_cli(["backup", bk], db=SRV.db), "backup")
    new = os.path.join(TMP, "rs-new-%s.db" % os.urandom(4).hex())
    r = ok(run_cli(["restore", bk], db=new), "restore into a new file")
    assert "restored %s into %s" % (bk, new) in r.stdout, r
    ok(run_cli(["check"], db=new), "check of the restored file")
    with open(new, "rb") as f:
        before = f.read()
    fails(run_cli(["restore", bk], db=new), 1, "restore onto an existing file")
    with open(new, "rb") as f:
        assert f.read() == before, "an existing file was changed by a refused restore"
    with cv.Server(db=new) as s:
        r = expect(s.req("GET", "%s/%d" % (T, tid), token=tok), 200, "the restored thread")
        assert r.json["title"] == "to restore", r.json
    bad = os.path.join(TMP, "rs-bad-%s.db" % os.urandom(4).hex())
    shutil.copy(bk, bad)
    h = sqlite3.connect(bad)
    h.execute("UPDATE users SET thread_count = thread_count + 7")
    h.commit()
    h.close()
    gone = os.path.join(TMP, "rs-gone-%s.db" % os.urandom(4).hex())
    r = fails(run_cli(["restore", bad], db=gone), 1, "a backup that fails its check")
    assert "thread counts" in r.stderr and "removed" in r.stderr, r
    for suffix in ("", "-wal", "-shm", "-journal"):
        assert not os.path.exists(gone + suffix), "left behind: %s%s" % (gone, suffix)


def test_check_good_database_exits_0():
    ok(run_cli(["check"], db=SRV.db), "check while serving")


def test_check_missing_file_exits_1_and_creates_nothing():
    path = os.path.join(TMP, "missing-%s.db" % os.urandom(4).hex())
    fails(run_cli(["check"], db=path), 1)
    assert not os.path.exists(path), "check created the database it was asked to check"


def test_check_garbage_file_exits_1():
    path = os.path.join(TMP, "garbage-%s.db" % os.urandom(4).hex())
    with open(path, "wb") as f:
        f.write(b"this is not a database\n" * 2000)
    fails(run_cli(["check"], db=path), 1)


def test_check_corrupted_database_exits_1():
    with cv.Server() as s:
        _, tok, _ = cv.new_user(s, "cli-corrupt")
        for i in range(100):
            expect(s.req("POST", T, token=tok, json={"title": "t%d" % i, "messages": [
                {"role": "user", "content": "z" * 2000}]}), 201)
        s.stop()
        ok(run_cli(["check"], db=s.db), "check before corrupting")
        size = os.path.getsize(s.db)
        assert size > 64 * 1024, size
        with open(s.db, "r+b") as f:             # scribble over the second half of the file
            f.seek(size // 2)
            f.write(b"\xa5" * (size - size // 2))
        fails(run_cli(["check"], db=s.db), 1, "check on a corrupted file")


# --- version / usage ------------------------------------------------------------------------

def test_version_prints_a_version():
    res = ok(run_cli(["version"]))
    assert re.search(r"\d+\.\d+\.\d+", res.stdout), "no version number: %r" % res.stdout


def test_version_names_every_library_inside():
    """chatvault, then each library's own report of its version: SQLite is the vendored
    3.46.1 (vendor/versions) compiled with the options of vendor/README.md."""
    res = ok(run_cli(["version"]))
    lines = res.stdout.splitlines()
    assert re.fullmatch(r"chatvault \d+\.\d+\.\d+", lines[0]), "first line: %r" % lines[0]
    patterns = [
        r"SQLite 3\.46\.1 \(source id 2024-08-13 09:16:08 [0-9a-f]{60,}\w*\)",
        r"SQLite options:( \S+)+",
        r"civetweb \d+\.\d+(\.\d+)?",
        r"cJSON \d+\.\d+\.\d+",
        r"libsodium \d+\.\d+\.\d+",
        r"OpenSSL \d+\.\d+\.\d+.*",
    ]
    for pattern in patterns:
        found = [ln for ln in lines[1:] if re.fullmatch(pattern, ln)]
        assert len(found) == 1, "no line (or several) like %r in %r" % (pattern, res.stdout)
    # a test build (the ASan one) names its test hooks on a last line of its own
    hooks = [ln for ln in lines if ln.startswith("test hooks: ")]
    build = os.path.relpath(cv.find_binary(), cv.ROOT)
    if build in ("build/asan/chatvault", "build/chatvault"):
        assert bool(hooks) == (build == "build/asan/chatvault"), (build, res.stdout)
    assert hooks in ([], [lines[-1]]), res.stdout
    assert len(lines) == 1 + len(patterns) + len(hooks), "unexpected lines: %r" % res.stdout
    opts = set(next(ln for ln in lines if ln.startswith("SQLite options:")).split()[2:])
    for o in ("DQS=0", "THREADSAFE=2", "DEFAULT_MEMSTATUS=0", "ENABLE_FTS5",
              "OMIT_LOAD_EXTENSION", "OMIT_DEPRECATED", "OMIT_SHARED_CACHE",
              "LIKE_DOESNT_MATCH_BLOBS", "USE_ALLOCA"):
        assert o in opts, "SQLite compiled without %s: %s" % (o, sorted(opts))
    assert not any(o.startswith("SECURE_DELETE") for o in opts), sorted(opts)
    assert not any(o.startswith("OMIT_JSON") for o in opts), sorted(opts)
    assert ok(run_cli(["--version"])).stdout == res.stdout, "--version differs from version"


def test_unknown_subcommand_exits_2():
    fails(run_cli(["frobnicate"]), 2)
    fails(run_cli(["user", "frobnicate", "a@b.c"]), 2, "unknown user subcommand")


def test_missing_arguments_exit_2():
    fails(run_cli(["user", "add"], db=SRV.db), 2, "user add without EMAIL")
    fails(run_cli(["user"], db=SRV.db), 2, "user without subcommand")
    fails(run_cli(["token"], db=SRV.db), 2, "token without EMAIL")
    fails(run_cli(["backup"], db=SRV.db), 2, "backup without OUT")


def test_bad_serve_flags_exit_2():
    fails(run_cli(["serve", "--no-such-flag"], timeout=20), 2, "unknown flag")
    fails(run_cli(["serve", "--listen"], timeout=20), 2, "flag without its value")
    res = run_cli(["serve", "--token-ttl", "soon", "--listen", "127.0.0.1:0"], timeout=20)
    assert res.returncode in (1, 2) and res.stderr.strip(), "bad --token-ttl value: %r" % res


# --- environment twins ----------------------------------------------------------------------

def test_chatvault_db_env():
    db = os.path.join(TMP, "env-%s.db" % os.urandom(4).hex())
    e = unique_email("cli-env")
    ok(run_cli(["user", "add", e], stdin="password123\n", env={"CHATVAULT_DB": db}))
    assert os.path.isfile(db), "CHATVAULT_DB was not used"
    ok(run_cli(["check"], env={"CHATVAULT_DB": db}))
    with cv.Server(db=db) as s:
        cv.login(s, e, "password123")


def test_env_twin_and_flag_wins():
    # CHATVAULT_LISTEN is overridden by the --listen the harness passes (flags win over env).
    a = cv.Server(env={"CHATVAULT_TOKEN_TTL": "5s", "CHATVAULT_LISTEN": "127.0.0.1:1"})
    b = cv.Server(args=["--token-ttl", "7s"], env={"CHATVAULT_TOKEN_TTL": "5s"})
    try:
        for s, want in ((a, 5), (b, 7)):
            e = unique_email("cli-ttl")
            cv.register(s, e)
            got = cv.login(s, e).json["expires_in"]
            assert got == want, "expires_in %r, expected %d (%s)" % (got, want, s.cmd[2:])
    finally:
        cv.close_all([a, b])


def test_serve_stops_cleanly_on_sigint_and_keeps_data():
    s = cv.Server()
    try:
        _, tok, _ = cv.new_user(s, "cli-int")
        expect(s.req("POST", T, token=tok, json={"title": "kept"}), 201)
        s.stop(sig=signal.SIGINT)
        s.start()
        items = expect(s.req("GET", T, token=tok), 200).json
        assert [x["title"] for x in items] == ["kept"], items
        s.stop()
        ok(run_cli(["check"], db=s.db))
    finally:
        s.close(check=False)


def test_serve_fits_its_threads_to_a_low_open_file_limit():
    # Each possible worker holds an eventfd; under a hard limit of 1024 descriptors the default
    # 2048 workers cannot all exist. The server says how many fit and serves anyway.
    wrapper = os.path.join(TMP, "low-nofile.sh")
    with open(wrapper, "w") as f:
        f.write('#!/bin/sh\nulimit -n 1024 || exit 99\nexec "$CV_REAL_BINARY" "$@"\n')
    os.chmod(wrapper, 0o755)
    s = cv.Server(args=["--threads", "2048"], binary=wrapper,
                  env={"CV_REAL_BINARY": cv.find_binary()})
    try:
        expect(s.req("GET", "/healthz"), 200)
        _, tok, _ = cv.new_user(s, "cli-nofile")
        expect(s.req("POST", T, token=tok, json={"title": "served"}), 201)
        with open(s.stderr_path, encoding="utf-8", errors="replace") as f:
            err = f.read()
        m = re.search(r"open-file limit \((\d+)\) allows (\d+) worker threads, not 2048", err)
        assert m, err
        limit, fit = int(m.group(1)), int(m.group(2))   # valgrind keeps a few descriptors back
        assert 900 <= limit <= 1024 and fit == (limit - 256) // 2, err
    finally:
        s.close()


# the thread list's default query (store_threads.c, archived threads hidden)
LIST_SQL = ("SELECT id, user_id, title, message_count, created_at, updated_at, pinned, archived, tags"
            " FROM chat_threads WHERE user_id=?1 AND archived=0"
            " ORDER BY updated_at DESC, id DESC LIMIT ?2 OFFSET ?3")


def schema_sections():
    """schema.sql split into its migrations: {version: sql}."""
    with open(os.path.join(cv.ROOT, "schema.sql"), encoding="utf-8") as f:
        text = f.read()
    parts = re.split(r"^-- version: (\d+)\n", text, flags=re.M)
    return {int(parts[i]): parts[i + 1] for i in range(1, len(parts), 2)}


def test_version_1_database_upgrades_and_lists_from_a_covering_index():
    # A database made by the first release (schema section 1 only) with a thread in it:
    # serve migrates it in place, keeps the thread, and the list query then reads only the
    # index (title, message_count, created_at sit after the messages array in the rows).
    sections = schema_sections()
    assert 1 in sections and max(sections) >= 2, sorted(sections)
    path = os.path.join(TMP, "v1.db")
    db = sqlite3.connect(path)
    db.executescript(sections[1])
    db.execute("PRAGMA user_version=1")
    db.execute("INSERT INTO users(id, email, created_at) VALUES(1, 'old@example.com',"
               " '2026-01-01T00:00:00.000Z')")
    db.execute("INSERT INTO chat_threads(user_id, title, messages, message_count, created_at,"
               " updated_at) VALUES(1, 'from v1', json_array(json_object('role','user',"
               "'content','hi')), 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')")
    db.commit()
    db.close()
    s = cv.Server(db=path)
    try:
        tok = run_cli(["token", "old@example.com"], db=path).stdout.strip()
        items = expect(s.req("GET", T, token=tok), 200).json
        assert [(x["title"], x["message_count"]) for x in items] == [("from v1", 1)], items
    finally:
        s.close()
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == max(sections)
        plan = " ".join(r[-1] for r in db.execute("EXPLAIN QUERY PLAN " + LIST_SQL, (1, 20, 0)))
        assert "COVERING INDEX chat_threads_user_list" in plan, plan
    finally:
        db.close()
    ok(run_cli(["check"], db=path))
