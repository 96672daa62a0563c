"""Database locked by another process, and bad places at start (issue 5, Faults).

- Another process holds `BEGIN EXCLUSIVE` longer than the busy timeout: writes answer 503 with
  `Retry-After`, reads go on, no crash; once the lock goes, writes succeed.
- A missing directory, a read-only directory (a read-only tmpfs: root ignores file modes), a
  directory in place of the file, a file that is not a database: a clear message on stderr and
  a non-zero exit (1), not a crash or a sanitizer report.
"""

import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_error  # noqa: E402
from cvstats import record_stat  # noqa: E402

TEST_TIMEOUT = 180
T = "/api/v1/chat-threads"


def test_locked_database_503_retry_after_then_resumes():
    """Another process holds BEGIN EXCLUSIVE: writes 503 + Retry-After after the busy timeout, reads go on; lock released: writes succeed, check clean."""
    with cv.Server() as srv:
        _, tok, _ = cv.new_user(srv, "lock")
        c = cv.Client(srv, tok, timeout=60)
        tid = expect(c.post(T, json={"title": "before"}), 201).json["id"]
        con = sqlite3.connect(srv.db, timeout=1, isolation_level=None)
        con.execute("BEGIN EXCLUSIVE")
        con.execute("INSERT INTO settings(key, value) VALUES('cv-lock-test', '1') "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        try:
            t0 = time.monotonic()
            r = c.post(T, json={"title": "during"})
            dt = time.monotonic() - t0
            expect_error(r, 503, "write while another process holds the write lock")
            ra = r.header("Retry-After")
            assert ra and ra.isdigit(), "503 without Retry-After: %r" % r
            assert dt < 30, "the write waited %.1fs" % dt
            r = c.post("%s/%d/messages" % (T, tid), json={"role": "user", "content": "during"})
            expect_error(r, 503, "append while locked")
            # reads go on
            expect(c.get("%s/%d" % (T, tid)), 200, "read while locked")
            expect(cv.request(srv, "GET", "/healthz"), 200)
            srv.assert_alive()
        finally:
            con.execute("ROLLBACK")
            con.close()
        print("  locked: 503 after %.1fs with Retry-After: %s" % (dt, ra))
        r = expect(c.post(T, json={"title": "after"}), 201, "write after the lock went")
        r = expect(c.get("%s/%d" % (T, tid)), 200)
        assert r.json["messages"] == [], "the 503 append was kept: %r" % r
        c.close()
        record_stat("locked", wait_s=round(dt, 2))
        srv.stop()
        chk = cv.run_cli(["check"], db=srv.db)
        assert chk.returncode == 0, "check after the lock: %r" % chk


def start_fails(db, what):
    binary = cv.find_binary()
    p = subprocess.run([binary, "serve", "--db", db, "--listen", "127.0.0.1:0", "--access-log", "off"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cv.base_env(), timeout=60,
                       stdin=subprocess.DEVNULL)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 1, "%s: exit %s (want 1), stderr %r" % (what, p.returncode, err[-1500:])
    assert "ERROR: AddressSanitizer" not in err and "runtime error" not in err, "%s: %s" % (what, err[-2000:])
    assert "listening on" not in p.stdout.decode(errors="replace"), what
    assert err.strip(), "%s: no message" % what
    return err.strip().splitlines()[0]


def test_bad_database_locations_exit_1_with_a_message():
    """Missing directory, a directory as the file, a non-SQLite file, a read-only tmpfs: exit 1 with a message, no crash or sanitizer report."""
    d = tempfile.mkdtemp(prefix="cv-start-")
    msgs = []
    try:
        msgs.append(start_fails(os.path.join(d, "no", "such", "dir", "cv.db"), "missing directory"))
        os.mkdir(os.path.join(d, "adir"))
        msgs.append(start_fails(os.path.join(d, "adir"), "a directory as the database"))
        with open(os.path.join(d, "junk.db"), "wb") as f:
            f.write(b"this is not a database\n" * 100)
        msgs.append(start_fails(os.path.join(d, "junk.db"), "a file that is not SQLite"))
        ro = os.path.join(d, "ro")
        os.mkdir(ro)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode == 0:
            try:
                msgs.append(start_fails(os.path.join(ro, "cv.db"), "read-only directory"))
            finally:
                subprocess.run(["umount", "-l", ro])
        else:
            print("  (read-only directory part skipped: cannot mount: %s)" % p.stdout.decode().strip())
        for m in msgs:
            print("  start refused: %s" % m)
        record_stat("startup_errors", cases=len(msgs))
    finally:
        subprocess.run(["rm", "-rf", d])
