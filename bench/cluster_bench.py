#!/usr/bin/env python3
"""Throughput of writes on one SQLite file, a one-node cluster and a three-node cluster (issue
14), side by side in one run: the same load (tests/cluster/clusterload.py: each client creates a
thread, then appends 9 messages to it, and again; one request at a time) from CLIENTS clients
per node for SECONDS, every node in a network namespace of its own (tests/lib/netns.py; needs
root). Prints acknowledged writes per second and the resident memory of each node after it.

    sudo python3 bench/cluster_bench.py [SECONDS] [CLIENTS]
"""

import json
import os
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path[:0] = [os.path.join(ROOT, "tests", "lib"), os.path.join(ROOT, "tests", "cluster")]

import cv                     # noqa: E402
from cvcluster import Cluster  # noqa: E402

LOAD = os.path.join(ROOT, "tests", "cluster", "clusterload.py")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def rss(p):
    try:
        with open("/proc/%d/status" % p.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return 0.0
    return 0.0


def run(name, c, nodes, seconds, clients, tmp):
    r = c.net.run(nodes[0], [PY, LOAD, "register", c.url(nodes[0]), cv.unique_email("b"),
                             cv.DEFAULT_PASSWORD])
    assert r.returncode == 0, r
    token = r.stdout.strip()
    stop = os.path.join(tmp, "stop-" + name)
    procs, outs = [], []
    for j in nodes:
        for k in range(clients):
            out = os.path.join(tmp, "%s-%d-%d.jsonl" % (name, j, k))
            outs.append(out)
            procs.append(c.net.popen(j, [PY, LOAD, "load", c.url(j), token, "b%d%d" % (j, k),
                                         out, stop]))
    time.sleep(seconds)
    open(stop, "w").close()
    for p in procs:
        p.wait(timeout=60)
    ok = 0
    t0, t1 = None, None
    for out in outs:
        with open(out) as f:
            for line in f:
                rec = json.loads(line)
                if rec["ok"]:
                    ok += 1
                    t0 = rec["t0"] if t0 is None else min(t0, rec["t0"])
                    t1 = rec["t1"] if t1 is None else max(t1, rec["t1"])
    return ok / (t1 - t0) if ok else 0.0, [rss(c.procs[j]) for j in nodes]


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    tmp = tempfile.mkdtemp(prefix="cv-bench-")
    print("chatvault cluster bench: %d clients per node, %.0f s each, writes (create or append)"
          " acknowledged per second" % (clients, seconds))
    results = {}
    # one SQLite file: serve without --cluster-dir, in a namespace like the others
    c = Cluster(1, serve=True)
    try:
        argv = [cv.find_binary(), "serve", "--db", os.path.join(tmp, "one.db"), "--listen",
                c.url(1), "--access-log", "off", "--threads", "32"]
        import subprocess
        p = c.net.popen(1, argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        while not p.stdout.readline().startswith(b"listening on"):
            pass
        c.procs[1] = p
        results["file"] = run("file", c, [1], seconds, clients, tmp)
    finally:
        c.close()
    for n in (1, 3):
        c = Cluster(n, serve=True)
        try:
            c.start(1)
            for j in range(2, n + 1):
                c.start(j, join=[1])
            results["cluster%d" % n] = run("cluster%d" % n, c, list(range(1, n + 1)), seconds,
                                           clients, tmp)
        finally:
            c.close()
    base = results["file"][0]
    for name in ("file", "cluster1", "cluster3"):
        rate, mem = results[name]
        print("  %-9s %8.0f writes/s  (%.2fx the file)   resident MB per node: %s" % (
            name, rate, rate / base if base else 0, ", ".join("%.0f" % m for m in mem)))


if __name__ == "__main__":
    main()
