#!/usr/bin/env python3
"""Peak resident memory of process groups while a benchmark run lasts (python3 stdlib).

  rssmax.py OUT GROUP=PID_OR_PIDFILE ...
Every 0.2 s, for each group (the process in the pid file, or the pid, and all of its
descendants, re-resolved each sample), sums VmRSS from /proc/PID/status. On SIGTERM or
SIGINT writes one line to OUT: "GROUP_rss_kb=MAX GROUP_procs=N ..." (max over the samples)
and exits.
"""
import os
import signal
import sys
import time


def resolve(spec):
    try:
        if spec.isdigit():
            return int(spec)
        with open(spec) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rfind(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def vmrss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    out = sys.argv[1]
    groups = [a.split("=", 1) for a in sys.argv[2:]]
    peak = {name: 0 for name, _ in groups}
    procs = {name: 0 for name, _ in groups}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    while not stop:
        kids = children_map()
        for name, spec in groups:
            root = resolve(spec)
            if root is None:
                continue
            seen, stack = set(), [root]
            while stack:
                p = stack.pop()
                if p not in seen:
                    seen.add(p)
                    stack.extend(kids.get(p, ()))
            total = sum(vmrss(p) for p in seen)
            if total > peak[name]:
                peak[name], procs[name] = total, len(seen)
        time.sleep(0.2)
    with open(out, "w") as f:
        f.write(" ".join(f"{n}_rss_kb={peak[n]} {n}_procs={procs[n]}" for n, _ in groups) + "\n")


if __name__ == "__main__":
    main()
