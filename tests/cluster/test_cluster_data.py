"""A cluster's database as a file (src/cluster_data.c, issue 14): the subcommands that work on
files, run against `serve --cluster-dir` nodes in network namespaces made by the test, each
command run inside a node's namespace:

- user, token, import and export with --cluster-addr work on the cluster's database;
- `backup OUT --cluster-addr` while writes go on gives a file that passes `chatvault check`;
  `check --cluster-addr MEMBER` checks each member's own copy;
- `restore BACKUP --cluster-addr` into a new cluster gives back the same data (the same export,
  the same token works, search finds what it found), and refuses a cluster that holds data;
- bad input (not a database, a backup of an older version, an existing OUT, two members to
  check, nobody listening) is refused with a message and changes nothing; a backup holding
  Litestream's two tables restores without them.

Needs ../shared/formats (real export files) for the import; skipped without it."""

import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time

import cv
from cvcluster import Cluster

TEST_TIMEOUT = 300
FORMATS = os.path.abspath(os.path.join(cv.ROOT, "..", "shared", "formats"))
CHATGPT = os.path.join(FORMATS, "chatgpt", "echomine_003_with_code_raw.json")
TAVERN = os.path.join(FORMATS, "sillytavern", "chats", "Aqua_1673181146000.jsonl")
LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clusterload.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
EMAIL = "restore@example.com"


def need_formats():
    if not (os.path.exists(CHATGPT) and os.path.exists(TAVERN)):
        raise cv.Skip("../shared/formats is not here (real export files)")


def cli(c, i, args, stdin=None, timeout=120):
    """`chatvault ARGS` in node i's namespace."""
    return c.net.run(i, [cv.find_binary()] + list(args), timeout=timeout, stdin=stdin)


def ok(r, what=""):
    assert r.returncode == 0, "%s: %r" % (what, r)
    return r


def refused(r, pattern, what=""):
    assert r.returncode == 1, "%s: expected exit 1: %r" % (what, r)
    assert re.search(pattern, r.stderr), "%s: %r not in %r" % (what, pattern, r.stderr)
    return r


def export_doc(c, i, members, db=None):
    """The user's chatvault export (its time of export left out)."""
    where = ["--db", db] if db else ["--cluster-addr", members]
    r = ok(cli(c, i, ["export", EMAIL] + where), "export")
    doc = json.loads(r.stdout)
    doc.pop("exported_at", None)
    return doc


def api_get(c, i, token, path):
    r = ok(c.net.run(i, [PYTHON, LOAD, "get", c.url(i), token, path], timeout=120), path)
    return json.loads(r.stdout)


def start(n):
    c = Cluster(n, serve=True)
    try:
        c.start(1)
        for j in range(2, n + 1):
            c.start(j, join=list(range(1, j)))
    except BaseException:
        c.close()
        raise
    return c


def test_backup_under_load_check_each_member_restore_into_a_new_cluster():
    need_formats()
    tmp = tempfile.mkdtemp(prefix="cv-cdata-")
    a = b = None
    try:
        a = start(3)
        m = a.members()
        # the file subcommands on the cluster's database, from any member's namespace
        ok(cli(a, 2, ["user", "add", EMAIL, "--cluster-addr", m], stdin=cv.DEFAULT_PASSWORD + "\n"))
        token = ok(cli(a, 3, ["token", EMAIL, "--cluster-addr", m])).stdout.strip()
        # (exit 1: the file's tool calls are skipped, each counted as an error)
        r = cli(a, 1, ["import", EMAIL, CHATGPT, "--cluster-addr", m])
        assert r.returncode in (0, 1) and "chatgpt, 1 imported" in r.stdout, r
        r = ok(cli(a, 2, ["import", EMAIL, TAVERN, "--cluster-addr", m]), "import sillytavern")
        assert "sillytavern, 1 imported" in r.stdout, r
        st = api_get(a, 1, token, "/api/v1/search?q=gmail")
        assert st["status"] == 200 and st["body"]["items"], st
        # a backup while a client writes through node 1
        stop = os.path.join(tmp, "stop")
        load = a.net.popen(1, [PYTHON, LOAD, "load", a.url(1), token, "bk",
                               os.path.join(tmp, "load.jsonl"), stop])
        time.sleep(2)
        out = os.path.join(tmp, "backup.db")
        r = ok(cli(a, 3, ["backup", out, "--cluster-addr", m]), "backup")
        assert "backup of the cluster (its leader " in r.stdout, r
        time.sleep(1)
        open(stop, "w").close()
        load.wait(timeout=90)
        r = ok(cv.run_cli(["check", "--db", out]), "check of the backup")
        assert "search index: ok" in r.stdout, r
        with open(os.path.join(tmp, "load.jsonl")) as f:
            n_acked = sum(1 for line in f if json.loads(line)["ok"])
        assert n_acked > 0
        # every member's own copy passes the check
        for i in (1, 2, 3):
            r = ok(cli(a, i, ["check", "--cluster-addr", a.addr(i)]), "check of member %d" % i)
            assert r.stdout.startswith("member %s: its own copy, " % a.addr(i)), r
            assert "integrity: ok" in r.stdout and "schema version: " in r.stdout, r
        # the backup into a file (restore --db), and what it holds
        copy = os.path.join(tmp, "copy.db")
        ok(cv.run_cli(["restore", out, "--db", copy]), "restore into a file")
        want = export_doc(a, 1, None, db=copy)
        assert want["threads"] and want["chats"], want.keys()
        # the backup into a new cluster of one
        b = start(1)
        r = ok(cli(b, 1, ["restore", out, "--cluster-addr", b.members()]), "restore")
        assert re.search(r"restored .* into the cluster at .*: \d+ rows", r.stdout), r
        assert export_doc(b, 1, b.members()) == want
        ok(cli(b, 1, ["check", "--cluster-addr", b.addr(1)]), "check of the restored cluster")
        # the same token, the same search, through the API of the new cluster
        st = api_get(b, 1, token, "/api/v1/search?q=gmail")
        assert st["status"] == 200 and st["body"]["items"], st
        st = api_get(b, 1, token, "/api/v1/chat-threads?limit=200")
        assert st["status"] == 200 and len(st["body"]) == len(want["threads"]), st
        # a second restore: refused, the data unchanged
        refused(cli(b, 1, ["restore", out, "--cluster-addr", b.members()]), "already holds",
                "restore into a cluster with data")
        assert export_doc(b, 1, b.members()) == want
    finally:
        for c in (a, b):
            if c:
                c.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_bad_input_is_refused_and_changes_nothing():
    tmp = tempfile.mkdtemp(prefix="cv-cdata-")
    c = None
    try:
        c = start(1)
        m = c.members()
        garbage = os.path.join(tmp, "garbage.db")
        with open(garbage, "wb") as f:
            f.write(b"not a database at all" * 100)
        refused(cli(c, 1, ["restore", garbage, "--cluster-addr", m]), "does not pass",
                "not a database")
        refused(cli(c, 1, ["restore", os.path.join(tmp, "absent.db"), "--cluster-addr", m]),
                ".", "no such file")
        # a backup of version 12 (the table version 13 adds dropped): upgraded through a file
        out = os.path.join(tmp, "b.db")
        ok(cli(c, 1, ["user", "add", EMAIL, "--cluster-addr", m], stdin=cv.DEFAULT_PASSWORD + "\n"))
        ok(cli(c, 1, ["backup", out, "--cluster-addr", m]))
        with open(out, "rb") as f:
            before = f.read()
        refused(cli(c, 1, ["backup", out, "--cluster-addr", m]), "already exists", "OUT exists")
        with open(out, "rb") as f:
            assert f.read() == before, "an existing OUT was changed"
        old = os.path.join(tmp, "v12.db")
        shutil.copy(out, old)
        h = sqlite3.connect(old)
        h.execute("DROP TABLE cluster_batches")
        h.execute("PRAGMA user_version=12")
        h.commit()
        h.close()
        other = start(1)
        try:
            refused(cli(other, 1, ["restore", old, "--cluster-addr", other.members()]),
                    "another version", "a version-12 backup")
            up = os.path.join(tmp, "v13.db")
            ok(cv.run_cli(["restore", old, "--db", up]), "restore into a file upgrades")
            # a file Litestream replicated holds its own two tables: left behind, not refused
            h = sqlite3.connect(up)
            h.execute("CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)")
            h.execute("CREATE TABLE _litestream_lock (id INTEGER)")
            h.execute("INSERT INTO _litestream_seq VALUES (1, 7)")
            h.commit()
            h.close()
            ok(cli(other, 1, ["restore", up, "--cluster-addr", other.members()]))
            ok(cli(other, 1, ["check", "--cluster-addr", other.addr(1)]))
            r = ok(cli(other, 1, ["token", EMAIL, "--cluster-addr", other.members()]))
            assert r.stdout.strip()
        finally:
            other.close()
        refused(cli(c, 1, ["check", "--cluster-addr", m + "," + m]), "one address",
                "two members to check")
        # nobody listens there: refused within the bounds (finding a leader: 10 s)
        t0 = time.time()
        refused(cli(c, 1, ["backup", os.path.join(tmp, "x.db"), "--cluster-addr",
                           "%s:9" % c.net.addr(1)]), ".", "nobody listening")
        assert time.time() - t0 < 30
        assert not os.path.exists(os.path.join(tmp, "x.db"))
        assert [f for f in os.listdir(tmp) if ".dump-" in f] == [], os.listdir(tmp)
        # a file restore never replaces a file
        refused(cv.run_cli(["restore", out, "--db", out]), "already exists", "restore onto itself")
    finally:
        if c:
            c.close()
        shutil.rmtree(tmp, ignore_errors=True)
