"""`chatvault import-legacy FILE`: JSON Lines of legacy user rows (PostgreSQL row_to_json) split
into users and chat_histories (contract: "Command line"; issue: "Legacy import")."""

import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_ts  # noqa: E402

TMP = None
SUMMARY_RE = re.compile(r"(\d+) rows, (\d+) users \((\d+) created\), (\d+) chats imported, "
                        r"(\d+) skipped, (\d+) dropped by retention, (\d+) errors")


def setup_module():
    global TMP
    TMP = tempfile.mkdtemp(prefix="cv-import-")


def teardown_module():
    if TMP and not os.environ.get("CV_KEEP_TMP"):
        shutil.rmtree(TMP, ignore_errors=True)


def fresh_db(tag):
    return os.path.join(TMP, "%s-%s.db" % (tag, uuid.uuid4().hex[:8]))


def write_jsonl(rows, tag="in"):
    path = os.path.join(TMP, "%s-%s.jsonl" % (tag, uuid.uuid4().hex[:8]))
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False))
            f.write("\n")
    return path


def entry(i=0, **kw):
    e = {"chat_id": str(uuid.uuid4()), "character_id": None, "character_name": "Ada",
         "character_picture": "https://p/ada.png", "scene_id": None, "scene_name": "Café",
         "scene_picture": None, "persona_id": None, "title": "Chat %d" % i,
         "messages": [{"role": "user", "content": "hello %d" % i},
                      {"role": "assistant", "content": "hi %d" % i}],
         "last_updated": "2024-05-01T10:%02d:00.123456" % (i % 60),
         "created_at": "2024-05-01T09:00:00"}
    e.update(kw)
    return e


def legacy_row(email, entries, **kw):
    r = {"id": 7, "email": email, "hashed_password": "$2b$12$notargon2", "is_active": True,
         "chat_history": entries}
    r.update(kw)
    return r


# A chat's messages as one JSON array, spliced from its segments (schema version 3).
MESSAGES_SQL = ("(SELECT '[' || coalesce(group_concat(substr(messages, 2, length(messages) - 2), ','), '')"
                " || ']' FROM (SELECT messages FROM segments WHERE conv_id = c.id AND n > 0"
                " ORDER BY first_index))")


def run_import(path, db, expect_code=0):
    res = cv.run_cli(["import-legacy", path], db=db, timeout=300)
    assert res.returncode == expect_code, res
    m = SUMMARY_RE.search(res.stdout)
    assert m, "no summary line in %r" % (res,)
    keys = ("rows", "users", "created", "imported", "skipped", "retained", "errors")
    return dict(zip(keys, map(int, m.groups()))), res


def dump(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return (con.execute("SELECT * FROM chat_histories ORDER BY chat_id").fetchall(),
                con.execute("SELECT id, email, password_hash, display_name, created_at FROM users ORDER BY id").fetchall())
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------

def test_import_creates_users_and_chats_and_is_idempotent():
    db = fresh_db("basic")
    with cv.Server(db=db) as srv:
        existing = cv.unique_email("exist")
        cv.register(srv, existing)
    e1 = [entry(i) for i in range(3)]
    new_email = cv.unique_email("legacy")
    e2 = [entry(10, last_updated="2024-06-01T12:00:00Z", created_at="2024-06-01T11:00:00+02:00")]
    path = write_jsonl([legacy_row(existing.upper(), e1), legacy_row(new_email, e2, display_name="Legacy Lou")])
    s, res = run_import(path, db)
    assert s == {"rows": 2, "users": 2, "created": 1, "imported": 4, "skipped": 0, "retained": 0,
                 "errors": 0}, res
    before = dump(db)
    s2, res2 = run_import(path, db)
    assert (s2["imported"], s2["skipped"], s2["created"], s2["errors"]) == (0, 4, 0, 0), res2
    assert dump(db) == before, "a second import changed the database"

    with cv.Server(db=db) as srv:
        tok = cv.login(srv, existing).json["access_token"]
        me = expect(cv.request(srv, "GET", "/api/users/me", token=tok), 200).json
        got = {e["chat_id"]: e for e in me["chat_history"]}
        assert set(got) == {e["chat_id"] for e in e1}, me
        for src in e1:
            g = got[src["chat_id"]]
            assert g["messages"] == src["messages"] and g["title"] == src["title"], g
            assert g["character_name"] == "Ada" and g["character_picture"] == "https://p/ada.png"
            assert g["scene_name"] == "Café" and g["scene_picture"] is None
            assert g["character_id"] is None and g["persona_id"] is None
            expect_ts(g["last_updated"])
            assert g["last_updated"] == src["last_updated"][:23] + "Z", g
            assert g["created_at"] == "2024-05-01T09:00:00.000Z", g
        assert [e["last_updated"] for e in me["chat_history"]] == \
            sorted((e["last_updated"] for e in me["chat_history"]), reverse=True)
        # the created user has no password until `user passwd`
        expect_401(cv.login(srv, new_email, expect_status=None))
    res = cv.run_cli(["user", "passwd", new_email], stdin=cv.DEFAULT_PASSWORD + "\n", db=db)
    assert res.returncode == 0, res
    with cv.Server(db=db) as srv:
        r = expect(cv.request(srv, "POST", "/api/login",
                              json={"email": new_email, "password": cv.DEFAULT_PASSWORD}), 200)
        assert r.json["display_name"] == "Legacy Lou", r
        (e,) = r.json["chat_history"]
        assert e["chat_id"] == e2[0]["chat_id"]
        assert e["last_updated"] == "2024-06-01T12:00:00.000Z" and e["created_at"] == "2024-06-01T09:00:00.000Z", e


def test_bad_rows_are_reported_with_line_numbers_and_skipped():
    db = fresh_db("bad")
    good1 = legacy_row(cv.unique_email("g1"), [entry(1)])
    good2 = legacy_row(cv.unique_email("g2"), [entry(2), entry(3)])
    rows = [
        good1,                                                         # line 1
        "{not json",                                                   # line 2
        "",                                                            # line 3 (blank: ignored)
        legacy_row("no-at-sign", [entry(4)]),                          # line 4
        legacy_row(cv.unique_email("b"), [entry(5, chat_id="nope")]),  # line 5
        legacy_row(cv.unique_email("b"), [entry(6, messages=[{"role": "system", "content": "x"}])]),  # 6
        legacy_row(cv.unique_email("b"), [entry(7, last_updated="yesterday")]),                      # 7
        good2,                                                         # line 8
        "[1,2,3]",                                                     # line 9
        legacy_row(cv.unique_email("b"), "not a list"),                # line 10
    ]
    path = write_jsonl(rows)
    s, res = run_import(path, db, expect_code=1)
    assert s["errors"] == 7 and s["imported"] == 3 and s["rows"] == 2, res
    for line in (2, 4, 5, 6, 7, 9, 10):
        assert re.search(r"^line %d: " % line, res.stderr, re.M), (line, res.stderr)
    for line in (1, 3, 8):
        assert not re.search(r"^line %d: " % line, res.stderr, re.M), (line, res.stderr)
    assert "chat_id" in res.stderr and "role" in res.stderr and "last_updated" in res.stderr, res.stderr
    # a bad row writes nothing, not even its user
    emails = [u[1] for u in dump(db)[1]]
    assert good1["email"] in emails and good2["email"] in emails and len(emails) == 2, emails
    # again: the same report, nothing new
    s2, res2 = run_import(path, db, expect_code=1)
    assert s2["errors"] == 7 and s2["imported"] == 0 and s2["skipped"] == 3, res2


def test_legacy_shapes_are_accepted():
    db = fresh_db("shapes")
    e_str = entry(1, messages=json.dumps([{"role": "user", "content": "as text", "ts": 5}]))
    e_num = entry(2, last_updated=1714557600, created_at=1714557600000)
    e_null = entry(3, messages=None, title=None, character_name=None, last_updated=None)
    row1 = legacy_row(cv.unique_email("s"), json.dumps([e_str, e_num]))   # chat_history as text
    row2 = legacy_row(cv.unique_email("s"), None)                         # no chats
    row3 = legacy_row(cv.unique_email("s"), [e_null], username="olduser")
    path = os.path.join(TMP, "crlf-%s.jsonl" % uuid.uuid4().hex[:6])
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf")   # a BOM, and CRLF line ends
        for r in (row1, row2, row3):
            f.write(json.dumps(r).encode() + b"\r\n")
    s, res = run_import(path, db)
    assert (s["rows"], s["imported"], s["errors"]) == (3, 3, 0), res
    rows = {r[1]: r for r in sqlite3.connect(db).execute(
        "SELECT id, chat_id, title, " + MESSAGES_SQL + ", message_count, last_updated, created_at,"
        " character_name FROM chat_histories c")}
    r = rows[e_str["chat_id"]]
    assert json.loads(r[3]) == [{"role": "user", "content": "as text"}] and r[4] == 1, r
    r = rows[e_num["chat_id"]]
    assert r[5] == "2024-05-01T10:00:00.000Z" and r[6] == "2024-05-01T10:00:00.000Z", r
    r = rows[e_null["chat_id"]]
    assert (r[2], r[3], r[4], r[7]) == ("", "[]", 0, None), r
    assert r[5] == r[6] == "2024-05-01T09:00:00.000Z", r
    names = dict(sqlite3.connect(db).execute("SELECT email, display_name FROM users"))
    assert names[row3["email"]] == "olduser", names


def test_retention_applies_to_imports():
    db = fresh_db("ret")
    email = cv.unique_email("ret")
    # 35 chats in one row: only the 30 newest stay
    entries = [entry(i, last_updated="2024-01-01T00:%02d:00Z" % i) for i in range(35)]
    s, res = run_import(write_jsonl([legacy_row(email, entries)]), db)
    assert (s["imported"], s["retained"]) == (30, 5), res
    kept = [r[0] for r in sqlite3.connect(db).execute(
        "SELECT chat_id FROM chat_histories ORDER BY last_updated DESC")]
    assert kept == [e["chat_id"] for e in entries[5:]][::-1], kept
    # importing chats older than the 30 newest changes nothing
    older = [entry(100 + i, last_updated="2023-01-01T00:00:%02dZ" % i) for i in range(3)]
    s, res = run_import(write_jsonl([legacy_row(email, older)]), db)
    assert (s["imported"], s["retained"]) == (0, 3), res
    # a newer one pushes out the oldest
    newer = entry(200, last_updated="2025-01-01T00:00:00Z")
    s, res = run_import(write_jsonl([legacy_row(email, [newer])]), db)
    assert s["imported"] == 1, res
    kept2 = [r[0] for r in sqlite3.connect(db).execute(
        "SELECT chat_id FROM chat_histories ORDER BY last_updated DESC")]
    assert len(kept2) == 30 and kept2[0] == newer["chat_id"] and kept2[1:] == kept[:29], kept2


def test_write_order_keeps_what_file_order_kept():
    """The importer writes a user's chats newest first (so older ones are skipped, not written
    and dropped again); what it keeps must be what writing in file order kept: among chats of
    the same time the later ones in the file, and of one chat_id given twice the first."""
    db = fresh_db("order")
    # 31 chats at the same time: the trigger keeps the 30 written last in file order
    same = [entry(i, last_updated="2024-05-01T00:00:00Z") for i in range(31)]
    s, res = run_import(write_jsonl([legacy_row(cv.unique_email("tie"), same)]), db)
    assert (s["imported"], s["retained"]) == (30, 1), res
    kept = {r[0] for r in sqlite3.connect(db).execute("SELECT chat_id FROM chat_histories")}
    assert kept == {e["chat_id"] for e in same[1:]}, kept
    # one chat_id twice in a row, the second copy newer: the first copy is the one kept
    first = entry(500, last_updated="2024-01-01T00:00:00Z", title="first copy")
    second = dict(first, title="second copy", last_updated="2024-02-01T00:00:00Z")
    s, res = run_import(write_jsonl([legacy_row(cv.unique_email("dup"), [first, second])]), db)
    assert (s["imported"], s["skipped"]) == (1, 1), res
    got = sqlite3.connect(db).execute("SELECT title FROM chat_histories WHERE chat_id=?",
                                      (first["chat_id"],)).fetchall()
    assert got == [("first copy",)], got


def test_skipped_chats_are_those_retention_would_drop():
    """The importer decides in memory which chats retention would drop at once (it keeps the
    newest N times of each user's chats) and does not write them. Over several imports into
    the same user, with rows of one user repeated in a batch and chats older and newer than
    those already kept, the chats kept must be exactly the N newest of all of them, and every
    entry must be counted once."""
    import random
    rnd = random.Random(9)
    db = fresh_db("model")
    with cv.Server(db=db, args=["--history-limit", "5"]):
        pass
    email = cv.unique_email("model")
    times = rnd.sample(range(100000), 120)       # distinct: the newest 5 are well defined
    all_entries = []
    for run in range(6):
        rows = []
        for _ in range(rnd.randint(1, 3)):       # the same user's row more than once in a file
            batch = [entry(len(all_entries) + j, last_updated="2024-01-01T00:00:00.000Z")
                     for j in range(rnd.randint(0, 8))]
            for e in batch:
                t = times.pop()
                e["last_updated"] = "2024-%02d-%02dT%02d:%02d:00.000Z" % (
                    1 + t % 12, 1 + t // 12 % 28, t // 336 % 24, t // 8064 % 60)
            all_entries += batch
            rows.append(legacy_row(email, batch))
        s, res = run_import(write_jsonl(rows), db)
        assert s["imported"] + s["skipped"] + s["retained"] == sum(len(r["chat_history"]) for r in rows), res
        assert s["skipped"] == 0, res
        want = {e["chat_id"] for e in sorted(all_entries, key=lambda e: e["last_updated"])[-5:]}
        got = {r[0] for r in sqlite3.connect(db).execute("SELECT chat_id FROM chat_histories")}
        assert got == want, (run, sorted(got), sorted(want))
    res = cv.run_cli(["check"], db=db)
    assert res.returncode == 0, res


def test_retention_with_history_limit_set_by_serve():
    db = fresh_db("ret5")
    with cv.Server(db=db, args=["--history-limit", "5"]):
        pass
    email = cv.unique_email("r5")
    entries = [entry(i, last_updated="2024-01-01T00:%02d:00Z" % i) for i in range(8)]
    s, res = run_import(write_jsonl([legacy_row(email, entries)]), db)
    assert (s["imported"], s["retained"]) == (5, 3), res
    # the import did not reset the server's setting
    assert sqlite3.connect(db).execute("SELECT value FROM settings WHERE key='history_limit'").fetchone()[0] == "5"


def test_links_only_to_matching_catalog_rows():
    db = fresh_db("links")
    with cv.Server(db=db) as srv:
        _, tok, _ = cv.new_user(srv, "cat")
        c = cv.Client(srv, tok)
        ada = expect(c.post("/api/characters", json={"name": "Ada"}), 201).json
    email = cv.unique_email("lk")
    e_match = entry(1, character_id=ada["id"], character_name="Ada")
    e_other = entry(2, character_id=ada["id"], character_name="Someone else")
    e_missing = entry(3, character_id=424242, persona_id=99, scene_id=77)
    s, res = run_import(write_jsonl([legacy_row(email, [e_match, e_other, e_missing])]), db)
    assert s["imported"] == 3, res
    rows = dict(sqlite3.connect(db).execute("SELECT chat_id, character_id FROM chat_histories"))
    assert rows[e_match["chat_id"]] == ada["id"] and rows[e_other["chat_id"]] is None, rows
    assert rows[e_missing["chat_id"]] is None
    assert sqlite3.connect(db).execute("PRAGMA foreign_key_check").fetchall() == []


def test_missing_file_and_usage():
    db = fresh_db("usage")
    res = cv.run_cli(["import-legacy", os.path.join(TMP, "does-not-exist.jsonl")], db=db)
    assert res.returncode == 1 and res.stderr.strip(), res
    res = cv.run_cli(["import-legacy"], db=db)
    assert res.returncode == 2, res


def test_import_while_serving():
    db = fresh_db("live")
    with cv.Server(db=db) as srv:
        email, tok, _ = cv.new_user(srv, "live")
        c = cv.Client(srv, tok)
        expect(c.post("/api/chat", json={"message": "before"}), 200)
        # newer than the chat just written: a minute ahead (times beyond 5 minutes of clock
        # skew are refused, issue 10 item 5)
        e = entry(1, last_updated=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60)))
        s, res = run_import(write_jsonl([legacy_row(email, [e])]), db)
        assert s["imported"] == 1, res
        h = expect(c.get("/api/chat-history"), 200).json
        assert h["total"] == 2 and h["items"][0]["chat_id"] == e["chat_id"], h


def test_100k_chats_import_in_seconds():
    db = fresh_db("big")
    path = os.path.join(TMP, "big.jsonl")
    n_users, per_user = 5000, 20
    with open(path, "w") as f:
        for u in range(n_users):
            hist = [{"chat_id": str(uuid.uuid4()), "character_name": "Ada", "title": "t",
                     "messages": [{"role": "user", "content": "hello %d" % k},
                                  {"role": "assistant", "content": "hi there"}],
                     "last_updated": "2024-03-01T10:%02d:%02d.5" % (k, u % 60)}
                    for k in range(per_user)]
            f.write(json.dumps({"id": u, "email": "bulk%d@legacy.test" % u, "chat_history": hist}) + "\n")
    t0 = time.monotonic()
    s, res = run_import(path, db)
    secs = time.monotonic() - t0
    assert s["imported"] == n_users * per_user and s["created"] == n_users, res
    # no bound on the time (tests never assert on speed: bench/run.sh measures it), but a
    # long import shows its progress
    print("  100,000 chats imported in %.1f s" % secs)
    assert "import-legacy:" in res.stderr or secs < 1.5, "no progress shown on a long import"
    s2, res2 = run_import(path, db)
    assert s2["imported"] == 0 and s2["skipped"] == n_users * per_user, res2


test_100k_chats_import_in_seconds.timeout = 400   # ASan build, shared machine


def test_a_chat_dated_in_the_future_is_refused():
    # issue 10 item 5: a chat dated 9999-12-31 made the next write "newest + 1 ms", which wrapped
    # to year 0000 and let retention drop the chat just written. Times beyond a few minutes of
    # skew are refused: the row is reported and skipped, the others go in.
    db = fresh_db("future")
    ok_row = legacy_row(cv.unique_email("now"), [entry(1)])
    bad_row = legacy_row(cv.unique_email("future"), [entry(2, last_updated="9999-12-31T23:59:59.999Z")])
    s, res = run_import(write_jsonl([ok_row, bad_row], "future"), db, expect_code=1)
    assert (s["imported"], s["errors"]) == (1, 1), res
    assert "not be in the future" in res.stderr + res.stdout, res
