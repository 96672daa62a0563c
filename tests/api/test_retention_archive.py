"""Retention that archives (issue 16, contract v2 "Retention that keeps"): `serve
--history-overflow delete|archive`.

The retention trigger (schema.sql) keeps each user's newest N chats (--history-limit, 3 here to
keep the tests fast); with `archive` it moves those beyond N to the archive in the same file
instead of deleting them. The legacy routes see exactly the N newest as before; GET
/api/chat-history/archived lists the archive, POST /api/chat/restore brings a chat back (the
oldest kept one moves out); search and export include archived chats. Checked for every writer
(the API, import-legacy, POST /api/v1/import), across restarts with the other setting, and
across kill -9 while chats move.
"""

import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect  # noqa: E402

TEST_TIMEOUT = 240
LIMIT = 3
ARCHIVE = ["--history-limit", str(LIMIT), "--history-overflow", "archive"]
DELETE = ["--history-limit", str(LIMIT), "--history-overflow", "delete"]
ENTRY_KEYS = {"chat_id", "character_id", "character_name", "character_picture", "scene_id",
              "scene_name", "scene_picture", "persona_id", "title", "messages", "last_updated",
              "created_at"}


def chat(c, message, chat_id=None):
    """POST /api/chat (offline responder); returns the entry."""
    body = {"message": message}
    if chat_id:
        body["chat_id"] = chat_id
    return expect(c.post("/api/chat", json=body), 200, "chat").json["chat"]


def kept(c):
    js = expect(c.get("/api/chat-history?limit=100"), 200).json
    return [e["chat_id"] for e in js["items"]]


def archived(c, **params):
    qs = urllib.parse.urlencode(dict({"limit": 100}, **params))
    return expect(c.get("/api/chat-history/archived?" + qs), 200, "archived list").json


def archived_ids(c):
    return [e["chat_id"] for e in archived(c)["items"]]


def make_chats(c, n, tag="c"):
    """n new chats, oldest first; returns their chat_ids in creation order."""
    return [chat(c, "%s %d %s" % (tag, i, uuid.uuid4().hex[:6]))["chat_id"] for i in range(n)]


def db_rows(db, sql, args=()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------

def test_delete_is_the_default_and_archives_nothing():
    with cv.Server(args=["--history-limit", str(LIMIT)]) as srv:
        c, _ = cv.new_client(srv, "del")
        ids = make_chats(c, 5)
        assert kept(c) == ids[:1:-1], (kept(c), ids)
        js = archived(c)
        assert js["items"] == [] and js["total"] == 0, js
        for gone in ids[:2]:
            expect(c.post("/api/chat/restore", json={"chat_id": gone}), 404, "deleted chat")
        assert db_rows(srv.db, "SELECT value FROM settings WHERE key='history_overflow'") \
            == [("delete",)]


def test_archive_keeps_the_newest_n_and_lists_the_rest():
    with cv.Server(args=ARCHIVE) as srv:
        c, u = cv.new_client(srv, "arc")
        ids = make_chats(c, 6)
        assert kept(c) == ids[:2:-1], (kept(c), ids)
        js = expect(c.get("/api/chat-history?limit=100"), 200).json
        assert js["total"] == LIMIT, js
        me = expect(c.get("/api/users/me"), 200).json
        assert [e["chat_id"] for e in me["chat_history"]] == ids[:2:-1], me
        js = archived(c)
        assert [e["chat_id"] for e in js["items"]] == ids[2::-1], js     # newest first
        assert js["total"] == 3 and js["page"] == 1 and js["limit"] == 100, js
        for e in js["items"]:
            assert set(e) == ENTRY_KEYS, e                              # the contract's entry
            assert len(e["messages"]) == 2, e
        # paging like /api/chat-history: pages and the keyset cursor
        p2 = archived(c, page=2, limit=1)
        assert [e["chat_id"] for e in p2["items"]] == [ids[1]] and p2["total"] == 3, p2
        r = expect(c.get("/api/chat-history/archived?limit=2"), 200)
        cur = r.header("X-Next-Cursor")
        assert cur, r
        r2 = expect(c.get("/api/chat-history/archived?limit=2&cursor=" + urllib.parse.quote(cur)), 200)
        assert [e["chat_id"] for e in r2.json["items"]] == [ids[0]], r2.json
        expect(c.get("/api/chat-history/archived?limit=0"), 422)
        # the rows are still in the file, flagged
        rows = dict(db_rows(srv.db, "SELECT chat_id, archived FROM chat_histories WHERE user_id=?",
                            (u["id"],)))
        assert rows == {i: (1 if n < 3 else 0) for n, i in enumerate(ids)}, rows


def test_restore_becomes_newest_and_the_oldest_kept_moves_out():
    with cv.Server(args=ARCHIVE) as srv:
        c, _ = cv.new_client(srv, "rest")
        ids = make_chats(c, 5)                      # kept: 4,3,2  archived: 1,0
        before = expect(c.get("/api/chat-history?limit=1"), 200).json["items"][0]
        r = expect(c.post("/api/chat/restore", json={"chat_id": ids[0]}), 200, "restore")
        assert set(r.json) == ENTRY_KEYS and r.json["chat_id"] == ids[0], r.json
        assert r.json["last_updated"] > before["last_updated"], (r.json, before)
        assert len(r.json["messages"]) == 2, r.json
        assert kept(c) == [ids[0], ids[4], ids[3]], kept(c)
        assert archived_ids(c) == [ids[2], ids[1]], archived_ids(c)
        # restoring a kept chat changes nothing
        again = expect(c.post("/api/chat/restore", json={"chat_id": ids[0]}), 200).json
        assert again["last_updated"] == r.json["last_updated"], again
        assert kept(c) == [ids[0], ids[4], ids[3]]
        # validation and unknown ids
        expect(c.post("/api/chat/restore", json={"chat_id": "nope"}), 422)
        expect(c.post("/api/chat/restore", json={}), 422)
        expect(c.post("/api/chat/restore", json={"chat_id": str(uuid.uuid4())}), 404)
        expect(srv.req("POST", "/api/chat/restore", json={"chat_id": ids[1]}), 401)


def test_writes_to_an_archived_chat_restore_it():
    with cv.Server(args=ARCHIVE) as srv:
        c, _ = cv.new_client(srv, "wr")
        ids = make_chats(c, 5)                      # kept 4,3,2; archived 1,0
        e = chat(c, "back again", chat_id=ids[1])   # restore-and-append
        assert e["chat_id"] == ids[1] and len(e["messages"]) == 4, e
        assert e["messages"][2]["content"] == "back again", e
        assert kept(c) == [ids[1], ids[4], ids[3]], kept(c)
        assert archived_ids(c) == [ids[2], ids[0]], archived_ids(c)
        r = expect(c.post("/api/chat/rename", json={"chat_id": ids[0], "title": "renamed"}), 200)
        assert r.json["title"] == "renamed", r.json
        assert kept(c) == [ids[0], ids[1], ids[4]], kept(c)
        assert archived_ids(c) == [ids[3], ids[2]], archived_ids(c)
        # delete reaches archived chats too
        expect(c.post("/api/chat/delete", json={"chat_id": ids[2]}), 200)
        assert archived_ids(c) == [ids[3]]
        assert kept(c) == [ids[0], ids[1], ids[4]]


def test_switching_between_settings_on_the_same_file():
    srv = cv.Server(args=ARCHIVE)
    try:
        email, tok, _ = cv.new_user(srv, "sw")
        c = cv.Client(srv, tok)
        ids = make_chats(c, 5)                      # kept 4,3,2; archived 1,0
        c.close()
        srv.stop()
        # archive -> delete: nothing archived is deleted; new overflow is deleted
        srv.args = DELETE
        srv.start()
        c = cv.Client(srv, tok)
        assert archived_ids(c) == [ids[1], ids[0]]
        more = make_chats(c, 2, "d")                # pushes 2 and 3 out: deleted
        assert kept(c) == [more[1], more[0], ids[4]], kept(c)
        assert archived_ids(c) == [ids[1], ids[0]], archived_ids(c)
        expect(c.post("/api/chat/restore", json={"chat_id": ids[2]}), 404, "deleted under delete")
        # a restore under delete is a swap: the chat it pushes out is archived, not deleted
        expect(c.post("/api/chat/restore", json={"chat_id": ids[0]}), 200)
        assert kept(c) == [ids[0], more[1], more[0]], kept(c)
        assert archived_ids(c) == [ids[4], ids[1]], archived_ids(c)
        c.close()
        srv.stop()
        # no flag = the default, delete, written at every start
        srv.args = ["--history-limit", str(LIMIT)]
        srv.start()
        assert db_rows(srv.db, "SELECT value FROM settings WHERE key='history_overflow'") \
            == [("delete",)]
        srv.stop()
        # delete -> archive: the overflow is archived again
        srv.args = ARCHIVE
        srv.start()
        c = cv.Client(srv, tok)
        last = make_chats(c, 1, "a")
        assert kept(c) == [last[0], ids[0], more[1]], kept(c)
        assert archived_ids(c) == [more[0], ids[4], ids[1]], archived_ids(c)
        c.close()
        res = cv.run_cli(["check"], db=srv.db)
        srv.stop()
        assert res.returncode == 0, res
    finally:
        srv.close(check=False)


def test_search_finds_archived_chats():
    with cv.Server(args=ARCHIVE) as srv:
        c, _ = cv.new_client(srv, "srch")
        word = "zebraquill" + uuid.uuid4().hex[:6]
        old = chat(c, "the %s sleeps here" % word)["chat_id"]
        make_chats(c, LIMIT)
        assert archived_ids(c) == [old]
        js = expect(c.get("/api/v1/search?q=" + word), 200).json
        # the message and the offline responder's echo of it
        assert js["total"] == 2, js
        assert {(h["kind"], h["chat_id"]) for h in js["items"]} == {("chat", old)}, js
        # archived=true finds it, archived=false does not (as with archived threads)
        js = expect(c.get("/api/v1/search?archived=true&q=" + word), 200).json
        assert js["total"] == 2, js
        js = expect(c.get("/api/v1/search?archived=false&q=" + word), 200).json
        assert js["total"] == 0, js


def test_export_includes_archived_chats_marked():
    with cv.Server(args=ARCHIVE) as srv:
        c, _ = cv.new_client(srv, "exp")
        ids = make_chats(c, 5)
        doc = expect(c.get("/api/v1/export"), 200).json
        chats = {e["chat_id"]: e for e in doc["chats"]}
        assert set(chats) == set(ids), chats
        for n, i in enumerate(ids):
            if n < 2:
                assert chats[i].get("archived") is True, chats[i]
                assert set(chats[i]) == ENTRY_KEYS | {"archived"}, chats[i]
            else:
                assert "archived" not in chats[i] and set(chats[i]) == ENTRY_KEYS, chats[i]
            assert len(chats[i]["messages"]) == 2, chats[i]


def legacy_entry(i):
    return {"chat_id": str(uuid.uuid4()), "character_id": None, "character_name": "Ada",
            "character_picture": None, "scene_id": None, "scene_name": None,
            "scene_picture": None, "persona_id": None, "title": "Legacy %d" % i,
            "messages": [{"role": "user", "content": "legacy hello %d" % i}],
            "last_updated": "2024-05-01T10:%02d:00.000" % i, "created_at": "2024-05-01T09:00:00"}


def test_import_legacy_archives_instead_of_deleting():
    for mode, want_dropped in (("archive", 0), ("delete", 2)):
        srv = cv.Server(args=["--history-limit", str(LIMIT), "--history-overflow", mode])
        try:
            srv.stop()
            email = cv.unique_email("leg")
            entries = [legacy_entry(i) for i in range(5)]
            path = os.path.join(srv.dir, "legacy.jsonl")
            with open(path, "w") as f:
                f.write(json.dumps({"id": 1, "email": email, "chat_history": entries}) + "\n")
            res = cv.run_cli(["import-legacy", path], db=srv.db, timeout=120)
            assert res.returncode == 0, res
            assert ("%d dropped by retention" % want_dropped) in res.stdout + res.stderr, res
            rows = db_rows(srv.db, "SELECT h.chat_id, h.archived FROM chat_histories h"
                           " JOIN users u ON u.id = h.user_id WHERE u.email = ?", (email,))
            got = dict(rows)
            newest = {e["chat_id"] for e in entries[2:]}
            assert {k for k, v in got.items() if v == 0} == newest, (mode, got)
            if mode == "archive":
                assert {k for k, v in got.items() if v == 1} == {e["chat_id"] for e in entries[:2]}, got
            else:
                assert len(got) == LIMIT, got
            # idempotent: a second run adds nothing
            res = cv.run_cli(["import-legacy", path], db=srv.db, timeout=120)
            assert res.returncode == 0, res
            assert len(db_rows(srv.db, "SELECT 1 FROM chat_histories")) == len(got)
        finally:
            srv.close(check=False)


def sillytavern_chat(name, day):
    t0 = 1673181146000 + day * 86400000
    lines = [{"user_name": "You", "character_name": name, "create_date": t0},
             {"name": name, "is_user": False, "is_name": True, "send_date": t0 + 1000,
              "mes": "Hello from %s on day %d" % (name, day)},
             {"name": "You", "is_user": True, "is_name": True, "send_date": t0 + 2000,
              "mes": "hi %s %d" % (name, day)}]
    return "\n".join(json.dumps(x) for x in lines).encode()


def test_api_import_of_sillytavern_chats_archives_into_a_full_history():
    for mode in ("archive", "delete"):
        with cv.Server(args=["--history-limit", str(LIMIT), "--history-overflow", mode]) as srv:
            c, _ = cv.new_client(srv, "st")
            ids = make_chats(c, LIMIT)              # a full history, all newer than 2023
            r = expect(c.post("/api/v1/import?format=sillytavern",
                              body=sillytavern_chat("Aqua", 1)), 200, "import")
            assert kept(c) == ids[::-1], kept(c)
            if mode == "archive":
                assert r.json["imported"] == 1 and not r.json["errors"], r.json
                new_id = r.json["items"][0]["id"]
                assert archived_ids(c) == [new_id], archived_ids(c)
                e = archived(c)["items"][0]
                assert e["character_name"] == "Aqua" and len(e["messages"]) == 2, e
                # idempotent: the archived chat is found again, not imported twice
                again = expect(c.post("/api/v1/import?format=sillytavern",
                                      body=sillytavern_chat("Aqua", 1)), 200).json
                assert again["imported"] == 0 and again["items"][0]["id"] == new_id, again
                assert archived_ids(c) == [new_id]
            else:                                   # dropped, and said so
                assert r.json["imported"] == 0 and len(r.json["errors"]) == 1, r.json
                assert archived_ids(c) == [], archived_ids(c)


def test_isolation_of_the_archive():
    with cv.Server(args=ARCHIVE) as srv:
        a, _ = cv.new_client(srv, "isoa")
        b, _ = cv.new_client(srv, "isob")
        a_ids = make_chats(a, 5)
        b_ids = make_chats(b, 4)
        assert archived_ids(a) == [a_ids[1], a_ids[0]]
        assert archived_ids(b) == [b_ids[0]]
        for cid in a_ids[:2]:
            expect(b.post("/api/chat/restore", json={"chat_id": cid}), 403, "another user's")
            expect(b.post("/api/chat/rename", json={"chat_id": cid, "title": "x"}), 403)
            expect(b.post("/api/chat", json={"chat_id": cid, "message": "x"}), 403)
            expect(b.post("/api/chat/delete", json={"chat_id": cid}), 403)
        assert archived_ids(a) == [a_ids[1], a_ids[0]]
        assert archived(b)["total"] == 1
        js = expect(b.get("/api/v1/search?q=c"), 200).json
        assert all(h.get("chat_id") not in a_ids for h in js["items"]), js


def test_bad_flag_value_is_refused():
    res = cv.run_cli(["serve", "--history-overflow", "keep", "--listen", "127.0.0.1:0"],
                     db=os.path.join(tempfile.gettempdir(), "cv-never-%s.db" % uuid.uuid4().hex),
                     timeout=30)
    assert res.returncode != 0 and "history-overflow" in res.stderr, res
    res = cv.run_cli(["serve", "--listen", "127.0.0.1:0"], env={"CHATVAULT_HISTORY_OVERFLOW": "x"},
                     db=os.path.join(tempfile.gettempdir(), "cv-never-%s.db" % uuid.uuid4().hex),
                     timeout=30)
    assert res.returncode != 0 and "CHATVAULT_HISTORY_OVERFLOW" in res.stderr, res


def test_kill9_while_chats_move():
    """Several clients add chats at once with archive on (each new chat pushes one out);
    SIGKILL mid-load; after the restart every acknowledged chat is kept or archived, none
    lost, exactly N kept."""
    srv = cv.Server(args=ARCHIVE)
    try:
        email, tok, _ = cv.new_user(srv, "k9")
        acked, lock, stop, killed = [], threading.Lock(), threading.Event(), threading.Event()
        errors = []

        def worker(w):
            c = cv.Client(srv, tok, timeout=15)
            i = 0
            while not stop.is_set():
                i += 1
                cid = str(uuid.uuid4())
                try:
                    r = c.post("/api/chat", json={"chat_id": cid, "message": "k9 %d %d" % (w, i)})
                    if r.status == 200:
                        with lock:
                            acked.append(cid)
                    elif not killed.is_set():
                        errors.append(r)
                except Exception:               # noqa: BLE001 - the server is gone
                    if killed.is_set():
                        return
                    c.close()
                    time.sleep(0.05)
            c.close()

        ts = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
        for t in ts:
            t.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with lock:
                if len(acked) >= 60:
                    break
            time.sleep(0.05)
        killed.set()
        srv.kill9()
        stop.set()
        for t in ts:
            t.join(30)
        assert not errors, errors[:3]
        assert len(acked) >= 10, "too few chats before the kill: %d" % len(acked)
        srv.start()
        c = cv.Client(srv, tok)
        keep = kept(c)
        arch = []
        page = 1
        while True:
            js = expect(c.get("/api/chat-history/archived?limit=100&page=%d" % page), 200).json
            arch += [e["chat_id"] for e in js["items"]]
            if len(js["items"]) < 100:
                break
            page += 1
        assert len(keep) == LIMIT, keep
        assert not set(keep) & set(arch), "a chat is both kept and archived"
        missing = set(acked) - set(keep) - set(arch)
        assert not missing, "acknowledged chats lost: %s" % sorted(missing)[:5]
        c.close()
        srv.stop()
        res = cv.run_cli(["check"], db=srv.db)
        assert res.returncode == 0, res
    finally:
        srv.close(check=False)
