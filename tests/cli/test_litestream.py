"""Litestream beside one `serve` (issue 14; docs/litestream.md).

With a `litestream` binary (on PATH, or CV_LITESTREAM=path) the test runs it for real: `litestream
replicate` to a file replica while a client writes, the server killed with kill -9, `litestream
restore` of the replica, and the restored file must pass `chatvault check` and hold every
acknowledged write.

Litestream is not in Debian's archives (the only packages this project's machines reach), so
without one the test does to the database, from a second process, what Litestream does to it
(its documentation, "How it works"): it makes its two tables (_litestream_seq, _litestream_lock),
holds a read transaction open nearly all the time (so no checkpoint of the server's passes it),
releases it now and then to write its sequence row and checkpoint (PASSIVE, and TRUNCATE once),
and takes its snapshots from inside that read transaction. The server must acknowledge every
write meanwhile (its busy timeout covers the write lock the replicator takes), the snapshots
must pass `chatvault check` and hold every write acknowledged before them, and after kill -9
the server's own file must too. This checks what chatvault must give Litestream, not Litestream."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time

import cv

TEST_TIMEOUT = 240


def writer(srv, token, stop, acked, errors, tag):
    c = cv.Client(srv, token)
    n = 0
    tid = None
    while not stop.is_set():
        n += 1
        v = "%s-%d" % (tag, n)
        if tid is None or n % 10 == 0:
            r = c.request("POST", "/api/v1/chat-threads", json={"title": v})
            if r.status == 201:
                tid = r.json["id"]
        else:
            r = c.request("POST", "/api/v1/chat-threads/%d/messages" % tid,
                          json={"role": "user", "content": v})
        if r.status in (200, 201):
            acked.append(v)
        else:
            errors.append((v, r.status))


def values_in(path):
    """Every thread title and message content in the file at path (read with the server's
    own export: the values written)."""
    h = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        titles = {t for (t,) in h.execute("SELECT title FROM chat_threads")}
        msgs = set()
        for (js,) in h.execute("SELECT messages FROM segments"):
            for m in json.loads(js):
                msgs.add(m.get("content"))
        return titles | msgs
    finally:
        h.close()


def check_ok(path):
    r = cv.run_cli(["check", "--db", path])
    assert r.returncode == 0, r
    return r


def real_litestream():
    return os.environ.get("CV_LITESTREAM") or shutil.which("litestream")


def test_litestream_beside_serve_nothing_acknowledged_is_lost():
    tmp = tempfile.mkdtemp(prefix="cv-ls-")
    srv = None
    try:
        srv = cv.Server()
        _, token, _ = cv.new_user(srv, "ls")
        stop = threading.Event()
        acked, errors = [], []
        ws = [threading.Thread(target=writer, args=(srv, token, stop, acked, errors, "w%d" % i))
              for i in range(3)]
        ls = real_litestream()
        if ls:
            replica = os.path.join(tmp, "replica")
            cfg = os.path.join(tmp, "litestream.yml")
            with open(cfg, "w") as f:
                f.write("dbs:\n  - path: %s\n    replicas:\n      - type: file\n"
                        "        path: %s\n        sync-interval: 200ms\n" % (srv.db, replica))
            p = subprocess.Popen([ls, "replicate", "-config", cfg], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            try:
                for w in ws:
                    w.start()
                time.sleep(8)
                stop.set()
                for w in ws:
                    w.join()
                time.sleep(3)                      # a few sync intervals
                srv.kill9()
            finally:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
            out = os.path.join(tmp, "restored.db")
            r = subprocess.run([ls, "restore", "-config", cfg, "-o", out, srv.db],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            assert r.returncode == 0, r
            check_ok(out)
            have = values_in(out)
            assert not errors, errors[:5]
            assert acked and all(v in have for v in acked), [v for v in acked if v not in have][:5]
            print("  litestream %s: %d writes acknowledged, all in the restored replica"
                  % (ls, len(acked)))
            return
        # --- no Litestream here: its moves on the database, from this process ---
        h = sqlite3.connect(srv.db, timeout=10, isolation_level=None)
        h.execute("PRAGMA busy_timeout=10000")
        h.execute("CREATE TABLE IF NOT EXISTS _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)")
        h.execute("CREATE TABLE IF NOT EXISTS _litestream_lock (id INTEGER)")
        for w in ws:
            w.start()
        snaps = []
        for i in range(1, 33):                     # 32 rounds (>= 10 s), a snapshot every 8th
            before = list(acked)                   # acknowledged before this read began
            h.execute("BEGIN")
            h.execute("SELECT COUNT(1) FROM _litestream_seq").fetchone()   # the read lock
            time.sleep(0.3)                        # (Litestream copies WAL frames here)
            if i % 8 == 0:                         # a snapshot, from inside the read
                snap = os.path.join(tmp, "snap%d.db" % i)
                d = sqlite3.connect(snap)
                h.backup(d)
                d.close()
                snaps.append((snap, before))
            h.execute("COMMIT")                    # released: its checkpoint
            h.execute("INSERT INTO _litestream_seq (id, seq) VALUES (1, 1)"
                      " ON CONFLICT (id) DO UPDATE SET seq = seq + 1")
            mode = "TRUNCATE" if i == 20 else "PASSIVE"
            h.execute("PRAGMA wal_checkpoint(%s)" % mode).fetchone()
        stop.set()
        for w in ws:
            w.join()
        h.close()
        assert not errors, "writes refused beside the replicator: %r" % errors[:5]
        assert len(acked) > 100 and len(snaps) >= 3, (len(acked), len(snaps))
        for snap, before in snaps:
            check_ok(snap)
            have = values_in(snap)
            missing = [v for v in before if v not in have]
            assert not missing, (snap, missing[:5])
        srv.kill9()
        r = check_ok(srv.db)
        have = values_in(srv.db)
        assert all(v in have for v in acked), [v for v in acked if v not in have][:5]
        # the server starts again on the file with Litestream's tables in it, and backs it up
        srv.start()
        out = os.path.join(tmp, "backup.db")
        assert cv.run_cli(["backup", out, "--db", srv.db]).returncode == 0
        check_ok(out)
        srv.stop()
        print("  Litestream's moves (no litestream binary here): %d writes acknowledged,"
              " %d snapshots checked, 0 refused" % (len(acked), len(snaps)))
    finally:
        if srv:
            srv.close()
        shutil.rmtree(tmp, ignore_errors=True)
