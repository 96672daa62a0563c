"""The HTTP API suites (tests/api) against a one-node cluster: the same tests, with tests/lib/cv.py
starting every server as `serve --cluster-dir DIR --cluster-addr 127.0.0.1:PORT`
(CV_TEST_BACKEND=cluster), so every statement of the stores runs over dqlite's wire protocol
(db_remote.c, dqclient.c) on a real dqlite node instead of a local SQLite connection.

The suites left out open the database file themselves or run a subcommand on it (`check
--db`, `user add`, `import-legacy`, kill -9 and then `check`) or read it with sqlite3:
durability, limits, hostile, share_links, refresh_copies, retention_archive, users_legacy,
changes, catalog, edits, search, auth (tests/cluster/test_cluster_data.py runs the file
subcommands on a cluster). Export is in: its test of one snapshot streamed while writes go on
was cut mid-stream on a cluster (dqlite refuses every statement while the leader checkpoints:
the client now asks again), then, with the snapshot living on, aborted the node on dqlite's
WAL-index assertion (vendor/patches/dqlite-0001-shm-map-regions-in-order.patch). With the ASan build every 4th write batch is made to lose its leader before its COMMIT
(CV_TEST_LOSE_LEADER, src/db.c's test hook), so each suite also proves that a batch run again
answers the same, applies once and leaks nothing of its first try. Runs on loopback only."""

import os
import re
import subprocess
import sys

import cv

TEST_TIMEOUT = 900
SUITES = ["access_matrix", "cards", "chats", "errors", "export", "import", "members", "openai",
          "openapi", "organize", "paging", "stats", "threads"]


def test_api_suites_pass_on_a_one_node_cluster():
    # every 4th write batch loses its leader before COMMIT and runs again (a test build's hook,
    # src/db.c; the release binary ignores it): the same answers, nothing applied twice, and
    # LeakSanitizer finds nothing left from a first try when each server stops
    env = dict(os.environ, CV_TEST_BACKEND="cluster", CV_TEST_LOSE_LEADER="4")
    argv = [sys.executable, os.path.join(cv.ROOT, "tests", "run.py"), "--no-unit", "-j", "2"]
    argv += [os.path.join(cv.ROOT, "tests", "api", "test_%s.py" % s) for s in SUITES]
    p = subprocess.run(argv, cwd=cv.ROOT, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=TEST_TIMEOUT - 30)
    out = p.stdout.decode("utf-8", "replace")
    m = re.search(r"^(\d+) passed, (\d+) failed", out, re.M)
    fails = [l for l in out.splitlines() if l.startswith("FAIL")]
    assert m and int(m.group(2)) == 0 and p.returncode == 0, "\n".join(fails) or out[-3000:]
    assert int(m.group(1)) > 150, out[-2000:]
    print("  %s API tests passed on a one-node cluster" % m.group(1))
