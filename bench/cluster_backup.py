#!/usr/bin/env python3
"""A cluster's backup, check and restore (issue 14), timed on one database in one run: a file of
THREADS threads of MSGS messages (bench/export_data.py fills it through the API of a `serve
--db`), restored into a new one-node cluster (`chatvault restore --cluster-addr`), then backed up
from it (`backup --cluster-addr`: dqlite's DUMP of the leader), checked (`check --cluster-addr`)
and, for comparison, the file backed up as one file is (`backup --db`). Loopback only; the
release binary (build/chatvault). Prints seconds, rows/s and MB/s, and the node's resident
memory before and after the restore.

    python3 bench/cluster_backup.py [THREADS] [MSGS]     (defaults 2000 100: 200,000 messages)
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.environ.get("CHATVAULT_BIN", os.path.join(ROOT, "build", "chatvault"))
DATA = os.path.join(ROOT, "bench", "export_data.py")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(argv, out):
    p = subprocess.Popen(argv, stdout=open(out, "wb"), stderr=subprocess.STDOUT)
    for _ in range(600):
        with open(out, "rb") as f:
            m = re.search(rb"listening on (\S+)", f.read())
        if m:
            return p, m.group(1).decode()
        time.sleep(0.1)
    p.kill()
    raise SystemExit("did not start: %s" % open(out).read()[-2000:])


def rss(p):
    with open("/proc/%d/status" % p.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def timed(argv):
    t0 = time.time()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.time() - t0
    if r.returncode != 0:
        raise SystemExit("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr.decode()[-2000:]))
    return dt, r.stdout.decode()


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    msgs = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    tmp = tempfile.mkdtemp(prefix="cv-cbak-")
    procs = []
    try:
        db = os.path.join(tmp, "file.db")
        # the size caps export.sh sets too: one user holds all of it
        caps = ["--max-body", "67108864", "--max-conversation-messages", "100000000",
                "--max-conversation-bytes", "1099511627776", "--max-user-bytes", "1099511627776"]
        p, url = start([BIN, "serve", "--db", db, "--listen", "127.0.0.1:0", "--access-log", "off"]
                       + caps, os.path.join(tmp, "file.out"))
        procs.append(p)
        subprocess.run([PY, DATA, "fill", url, os.path.join(tmp, "meta.json"), str(threads),
                        str(msgs)], check=True, stdout=subprocess.DEVNULL)
        p.terminate()
        p.wait()
        mb = os.path.getsize(db) / 1e6
        print("database: %d threads x %d messages, %.1f MB" % (threads, msgs, mb))
        addr = "127.0.0.1:%d" % port()
        node, _ = start([BIN, "serve", "--cluster-dir", os.path.join(tmp, "node"), "--cluster-addr",
                         addr, "--listen", "127.0.0.1:0", "--access-log", "off"],
                        os.path.join(tmp, "node.out"))
        procs.append(node)
        before = rss(node)
        dt, out = timed([BIN, "restore", db, "--cluster-addr", addr])
        rows = int(re.search(r": (\d+) rows", out).group(1))
        print("restore into a one-node cluster: %.1f s, %d rows (%.0f rows/s, %.1f MB/s);"
              " node resident %.0f MB before, %.0f MB after" % (dt, rows, rows / dt, mb / dt,
                                                                 before, rss(node)))
        out1 = os.path.join(tmp, "cluster-backup.db")
        dt, _ = timed([BIN, "backup", out1, "--cluster-addr", addr])
        mb1 = os.path.getsize(out1) / 1e6
        print("backup of the cluster (DUMP): %.2f s, %.1f MB (%.0f MB/s)" % (dt, mb1, mb1 / dt))
        dt, _ = timed([BIN, "check", "--cluster-addr", addr])
        print("check of the member's copy: %.2f s" % dt)
        dt, _ = timed([BIN, "check", "--db", out1])
        print("check of the backup file: %.2f s" % dt)
        out2 = os.path.join(tmp, "file-backup.db")
        dt, _ = timed([BIN, "backup", out2, "--db", db])
        print("backup of the file, for comparison: %.2f s (%.0f MB/s)" % (dt, mb / dt))
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
