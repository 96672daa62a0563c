"""Network namespaces for the cluster tests: N nodes, each in a namespace of its own, linked by
veth pairs to a bridge in one more namespace, all made by the test and deleted after it.
Traffic stays there (and on each namespace's loopback); nothing touches the host's network.

    net = Net(3)              # namespaces <tag>n1..n3 with 10.<x>.0.1..3/24, bridge in <tag>br
    net.run(1, argv)          # run argv inside node 1's namespace (subprocess.run)
    net.popen(1, argv)        # start it there (subprocess.Popen)
    net.cut(2); net.heal(2)   # take node 2's link off the bridge, and back
    net.close()

Needs root and iproute2 (`ip`); Net raises cv.Skip otherwise.
"""

import os
import subprocess

import cv

_seq = [0]


def _ip(*args, check=True):
    p = subprocess.run(["ip"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=20)
    if check and p.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), p.stderr.decode(errors="replace")))
    return p


class Net:
    def __init__(self, n):
        if os.geteuid() != 0:
            raise cv.Skip("network namespaces need root")
        if subprocess.run(["which", "ip"], stdout=subprocess.DEVNULL).returncode != 0:
            raise cv.Skip("no ip (iproute2)")
        _seq[0] += 1
        self.tag = "cv%d_%d" % (os.getpid() % 100000, _seq[0])
        # a /24 of 10.x.0.0 per Net, from the pid: two test processes never share one
        self.prefix = "10.%d.%d" % (100 + (os.getpid() % 100), _seq[0] % 250)
        self.n = n
        self.br = self.tag + "br"
        self.made = []
        try:
            _ip("netns", "add", self.br)
            self.made.append(self.br)
            _ip("-n", self.br, "link", "add", "br0", "type", "bridge")
            _ip("-n", self.br, "link", "set", "br0", "up")
            _ip("-n", self.br, "link", "set", "lo", "up")
            for i in range(1, n + 1):
                ns = self.ns(i)
                _ip("netns", "add", ns)
                self.made.append(ns)
                _ip("-n", self.br, "link", "add", "h%d" % i, "type", "veth", "peer", "name",
                    "eth0", "netns", ns)
                _ip("-n", self.br, "link", "set", "h%d" % i, "master", "br0", "up")
                _ip("-n", ns, "addr", "add", "%s/24" % self.addr(i), "dev", "eth0")
                _ip("-n", ns, "link", "set", "eth0", "up")
                _ip("-n", ns, "link", "set", "lo", "up")
        except Exception:
            self.close()
            raise

    def ns(self, i):
        return "%sn%d" % (self.tag, i)

    def addr(self, i):
        return "%s.%d" % (self.prefix, i)

    def wrap(self, i, argv):
        return ["ip", "netns", "exec", self.ns(i)] + list(argv)

    def run(self, i, argv, timeout=60, env=None, stdin=None):
        p = subprocess.run(self.wrap(i, argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, env=cv.base_env(env),
                           input=stdin.encode() if stdin is not None else None)
        return cv.CliResult(list(argv), p.returncode, p.stdout.decode("utf-8", "replace"),
                            p.stderr.decode("utf-8", "replace"))

    def popen(self, i, argv, env=None, **kw):
        return subprocess.Popen(self.wrap(i, argv), env=cv.base_env(env), **kw)

    def cut(self, i):
        """Node i loses its link: it reaches nobody and nobody reaches it."""
        _ip("-n", self.br, "link", "set", "h%d" % i, "down")

    def heal(self, i):
        _ip("-n", self.br, "link", "set", "h%d" % i, "up")

    def close(self):
        for ns in reversed(self.made):
            _ip("netns", "del", ns, check=False)
        self.made = []
