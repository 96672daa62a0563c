"""The HTTP API suites (tests/api) against a one-node cluster: the same tests, with tests/lib/cv.py
starting every server as `serve --cluster-dir DIR --cluster-addr 127.0.0.1:PORT`
(CV_TEST_BACKEND=cluster), so every statement of the stores runs over dqlite's wire protocol
(db_remote.c, dqclient.c) on a real dqlite node instead of a local SQLite connection.

The suites left out open the database file themselves or run a subcommand that does (`check`,
`user add`, `import-legacy`, kill -9 and then `check`), which a cluster does not have
(docs/cluster.md): durability, limits, hostile, share_links, stats, refresh_copies,
retention_archive, users_legacy, changes, catalog, edits, search, auth. And export: its test of
one snapshot streamed while writes go on was cut mid-stream (IncompleteRead) on a cluster under
the CI's load, a known limitation (docs/cluster.md). Runs on loopback only."""

import os
import re
import subprocess
import sys

import cv

TEST_TIMEOUT = 900
SUITES = ["access_matrix", "cards", "chats", "errors", "import", "members", "openai", "openapi",
          "organize", "paging", "threads"]


def test_api_suites_pass_on_a_one_node_cluster():
    env = dict(os.environ, CV_TEST_BACKEND="cluster")
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
