"""A cluster of `chatvault cluster node` processes, each in its own network namespace (netns.py),
for tests/cluster/. Nodes listen on PORT at their namespace's address; their directories live
in one temporary directory removed by close().

    c = Cluster(3)
    c.start(1)                     # bootstraps
    c.start(2, join=[1]); c.start(3, join=[1])
    c.status(1)                    # [(id, addr, role, is_leader), ...] asked from node 1's namespace
    c.kill(1); c.wait_leader(2, exclude=[1])
    c.close()

Cluster(3, serve=True) runs `chatvault serve --cluster-dir ... --listen ADDR:HTTP_PORT` instead:
every node also serves the HTTP API (c.url(i)), reachable from the namespaces only.
"""

import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import cv
from netns import Net

PORT = 9001
HTTP_PORT = 8080


def _drain(f):
    try:
        while f.read(4096):
            pass
    except (OSError, ValueError):
        pass


class Cluster:
    def __init__(self, n=3, serve=False):
        self.n = n
        self.serve = serve
        self.net = Net(n)
        self.root = tempfile.mkdtemp(prefix="cv-cluster-")
        self.procs = {}
        self.logs = {}

    def addr(self, i):
        return "%s:%d" % (self.net.addr(i), PORT)

    def members(self, only=None):
        return ",".join(self.addr(i) for i in (only or range(1, self.n + 1)))

    def url(self, i):
        """node i's HTTP address (serve=True), as HOST:PORT"""
        return "%s:%d" % (self.net.addr(i), HTTP_PORT)

    def dir(self, i):
        return os.path.join(self.root, "node%d" % i)

    def start(self, i, join=None, timeout=45):
        """Start node i (joining the nodes in join, a list of numbers) and wait for its
        "cluster node ID at ADDR" line (serve: "listening on"). Returns the id (serve: 0)."""
        if self.serve:
            argv = [cv.find_binary(), "serve", "--cluster-dir", self.dir(i), "--cluster-addr",
                    self.addr(i), "--listen", self.url(i), "--access-log", "off",
                    "--threads", "16"]
        else:
            argv = [cv.find_binary(), "cluster", "node", "--cluster-dir", self.dir(i),
                    "--cluster-addr", self.addr(i)]
        if join:
            argv += ["--join", self.members(join)]
        log = open(os.path.join(self.root, "node%d.log" % i), "ab")
        self.logs[i] = log.name
        p = self.net.popen(i, argv, stdout=subprocess.PIPE, stderr=log)
        log.close()
        self.procs[i] = p
        end = time.time() + timeout
        line = b""
        while time.time() < end and not line.endswith(b"\n"):
            r, _, _ = select.select([p.stdout], [], [], max(0.0, end - time.time()))
            if not r:
                break
            ch = os.read(p.stdout.fileno(), 1)
            if not ch:
                break
            line += ch
        text = line.decode(errors="replace")
        if self.serve and text.startswith("listening on "):
            threading.Thread(target=_drain, args=(p.stdout,), daemon=True).start()
            return 0
        if not text.startswith("cluster node "):
            self.kill(i)
            raise AssertionError("node %d did not start: %r; log: %s" % (i, text, self.log(i)))
        return int(text.split()[2])

    def log(self, i, tail=3000):
        try:
            with open(self.logs[i], "rb") as f:
                return f.read()[-tail:].decode(errors="replace")
        except (OSError, KeyError):
            return ""

    def kill(self, i):
        p = self.procs.pop(i, None)
        if p and p.poll() is None:
            p.kill()
            p.wait(timeout=20)

    def stop(self, i):
        """SIGTERM: the node hands over and stops; returns its exit code."""
        p = self.procs.pop(i)
        p.send_signal(signal.SIGTERM)
        return p.wait(timeout=60)

    def cli(self, i, args, timeout=60, env=None):
        """`chatvault cluster ARGS` run in node i's namespace (env: variables to add)."""
        return self.net.run(i, [cv.find_binary(), "cluster"] + list(args), timeout=timeout,
                            env=env)

    def status(self, i, only=None):
        """The members as `cluster status` asked from node i's namespace prints them, or None
        when it failed (no leader reachable)."""
        r = self.cli(i, ["status", "--cluster-addr", self.members(only)])
        if r.returncode != 0:
            return None
        out = []
        for line in r.stdout.splitlines():
            f = line.split()
            out.append((int(f[0]), f[1], f[2], len(f) > 3 and f[3] == "leader"))
        return out

    def wait_leader(self, i, only=None, exclude=(), within=30):
        """Poll `cluster status` from node i until a leader not in exclude (node numbers) is
        named; returns (its address, seconds waited)."""
        t0 = time.time()
        bad = {self.addr(j) for j in exclude}
        while time.time() - t0 < within:
            st = self.status(i, only)
            if st:
                lead = [a for (_, a, _, is_l) in st if is_l]
                if lead and lead[0] not in bad:
                    return lead[0], time.time() - t0
            time.sleep(0.2)
        raise AssertionError("no leader within %d s (asked from node %d); logs: %s" % (
            within, i, {j: self.log(j)[-600:] for j in self.logs}))

    def number(self, addr):
        for i in range(1, self.n + 1):
            if self.addr(i) == addr:
                return i
        raise KeyError(addr)

    def close(self):
        for i in list(self.procs):
            self.kill(i)
        self.net.close()
        shutil.rmtree(self.root, ignore_errors=True)
