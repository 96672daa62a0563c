"""The HTTP API on a cluster (issue 14): three `chatvault serve --cluster-dir` nodes, each in a
network namespace of its own (tests/lib/netns.py), under a write load through all three (one
client per node, tests/cluster/clusterload.py, run in that node's namespace), while the test
kills the leader, cuts links and wipes a node. Every write has a unique value, so at the end
the data tells an acknowledged write lost (absent) from a write applied twice (present twice).

CV_CLUSTER_ROUNDS (default 20) and CV_CLUSTER_PARTITIONS (default 10) set how many kill -9
rounds and partitions run. Figures (resume times, stalls, the minority's 503 times) are printed
and written to build/cluster-figures.json."""

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time

import cv
from cvcluster import Cluster

TEST_TIMEOUT = 800
SERIAL = True           # timing bounds (writes resume within 10 s): run alone
ROUNDS = int(os.environ.get("CV_CLUSTER_ROUNDS", "20"))
PARTITIONS = int(os.environ.get("CV_CLUSTER_PARTITIONS", "10"))
LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clusterload.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
FIGURES = os.path.join(cv.ROOT, "build", "cluster-figures.json")


class Served:
    """Three serving nodes and an account; load clients started and stopped on demand."""

    def __init__(self):
        self.c = Cluster(3, serve=True)
        self.tmp = tempfile.mkdtemp(prefix="cv-load-")
        self.stop_file = os.path.join(self.tmp, "stop")
        self.loads = {}
        self.gen = 0

    def start_all(self):
        self.c.start(1)
        self.c.start(2, join=[1])
        self.c.start(3, join=[1, 2])
        r = self.py(1, ["register", self.c.url(1), cv.unique_email("cl"), cv.DEFAULT_PASSWORD])
        assert r.returncode == 0, r
        self.token = r.stdout.strip()

    def py(self, i, args, timeout=120):
        return self.c.net.run(i, [PYTHON, LOAD] + list(args), timeout=timeout)

    def restart(self, k):
        others = [j for j in (1, 2, 3) if j != k]
        self.c.start(k, join=others)

    def start_load(self):
        if os.path.exists(self.stop_file):
            os.unlink(self.stop_file)
        self.gen += 1
        for j in (1, 2, 3):
            out = os.path.join(self.tmp, "load%d.%d.jsonl" % (j, self.gen))
            tag = "g%dn%d" % (self.gen, j)
            p = self.c.net.popen(j, [PYTHON, LOAD, "load", self.c.url(j), self.token, tag, out,
                                     self.stop_file])
            self.loads[out] = p

    def stop_load(self):
        open(self.stop_file, "w").close()
        for p in self.loads.values():
            try:
                p.wait(timeout=90)
            except Exception:
                p.kill()
                p.wait()

    def records(self):
        out = []
        for path in self.loads:
            if os.path.exists(path):
                with open(path) as f:
                    for line in f:
                        if line.endswith("\n"):
                            out.append(json.loads(line))
        return out

    def acked_after(self, t):
        """The first time a write was acknowledged that started after t, or None."""
        ts = [r["t1"] for r in self.records() if r["ok"] and r["t0"] >= t]
        return min(ts) if ts else None

    def wait_acked_after(self, t, within=60):
        end = time.time() + within
        while time.time() < end:
            a = self.acked_after(t)
            if a is not None:
                return a - t
            time.sleep(0.1)
        raise AssertionError("no write acknowledged within %d s; logs: %s" % (
            within, {j: self.c.log(j)[-800:] for j in self.c.logs}))

    def leader(self, among=(1, 2, 3)):
        lead, _ = self.c.wait_leader(among[0], only=list(among))
        return self.c.number(lead)

    def errors(self):
        """The nodes' logged errors (but the election's "no leader" lines), for a failure."""
        return {j: "\n".join(l for l in self.c.log(j, 400000).splitlines()
                             if "failed" in l or "error" in l)[-1500:] for j in self.c.logs}

    def rss(self):
        """Resident MB of each running node (`ip netns exec` execs the binary: same pid)."""
        out = []
        for p in self.c.procs.values():
            try:
                with open("/proc/%d/status" % p.pid) as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            out.append(int(line.split()[1]) / 1024.0)
            except OSError:
                pass
        return out

    def export(self, i):
        r = self.py(i, ["export", self.c.url(i), self.token], timeout=300)
        assert r.returncode == 0, (r, self.errors())
        return json.loads(r.stdout)

    def close(self):
        try:
            self.stop_load()
        finally:
            self.c.close()
            shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def served():
    s = Served()
    try:
        s.start_all()
        yield s
    finally:
        s.close()


def verify(records, data):
    """No acknowledged write lost, none applied twice. data: {title: [[contents], ...]}."""
    titles = {r["thread"]: r["v"] for r in records if r["k"] == "t" and r["ok"]}
    where = {}
    for title, threads in data.items():
        for msgs in threads:
            for m in msgs:
                where.setdefault(m, []).append(title)
    n_acked = 0
    for r in records:
        if r["k"] == "t":
            have = len(data.get(r["v"], []))
        else:
            have = len(where.get(r["v"], []))
        assert have <= 1, "applied %d times: %r" % (have, r)
        if r["ok"]:
            n_acked += 1
            assert have == 1, "acknowledged, then lost: %r" % r
            if r["k"] == "m":
                assert where[r["v"]] == [titles[r["thread"]]], (r, where[r["v"]])
    return n_acked


def stalls(records):
    """The longest and the 99th-percentile gap between consecutive acknowledged writes of
    one client (seconds), over all clients."""
    gaps = []
    by = {}
    for r in records:
        if r["ok"]:
            by.setdefault(r["v"].split("-")[0], []).append(r["t1"])
    for ts in by.values():
        ts.sort()
        gaps += [b - a for a, b in zip(ts, ts[1:])]
    gaps.sort()
    if not gaps:
        return 0.0, 0.0
    return gaps[-1], gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))]


def save_figures(key, value):
    try:
        with open(FIGURES) as f:
            figs = json.load(f)
    except (OSError, ValueError):
        figs = {}
    figs[key] = value
    os.makedirs(os.path.dirname(FIGURES), exist_ok=True)
    with open(FIGURES, "w") as f:
        json.dump(figs, f, indent=1, sort_keys=True)


def identical_on_every_node(s):
    """Each node's own copy passes `chatvault check --cluster-addr NODE`; each node made the
    leader in turn (cluster transfer), the data read through it: its own copy. All three the
    same; returns it."""
    seen = []
    for k in (1, 2, 3):
        r = s.c.net.run(k, [cv.find_binary(), "check", "--cluster-addr", s.c.addr(k)], timeout=120)
        assert r.returncode == 0 and "integrity: ok" in r.stdout, (k, r)
    for k in (1, 2, 3):
        for _ in range(3):             # (a member just healed may still be catching up)
            r = s.c.cli(k, ["transfer", s.c.addr(k), "--cluster-addr", s.c.members()])
            if r.returncode == 0:
                break
        assert r.returncode == 0, (r, {j: s.c.log(j)[-1500:] for j in s.c.logs})
        assert s.leader() == k
        seen.append(s.export(k))
    assert seen[0] == seen[1] == seen[2], "the nodes' copies differ"
    return seen[0]


def test_whole_api_on_every_node_and_healthz_says_the_role():
    with served() as s:
        roles = {}
        for i in (1, 2, 3):
            r = s.c.net.run(i, ["curl", "-s", "http://%s/healthz" % s.c.url(i)])
            js = json.loads(r.stdout)
            assert js["writable"] is True and js["status"] == "ok", js
            roles[i] = js["role"]
        assert sorted(roles.values()) == ["follower", "follower", "leader"], roles
        assert roles[s.leader()] == "leader"
        # a thread written through one node is read through the others
        r = s.py(2, ["write", s.c.url(2), s.token, "via-node-2"])
        assert json.loads(r.stdout)["status"] == 201, r
        for i in (1, 3):
            assert "via-node-2" in s.export(i)
        # a cut-off node says it cannot write (503), and writes again once healed
        k = [j for j in (1, 2, 3) if roles[j] == "follower"][0]
        s.c.net.cut(k)
        end = time.time() + 30
        while time.time() < end:
            r = s.c.net.run(k, ["curl", "-s", "-w", " %{http_code}", "http://%s/healthz" % s.c.url(k)])
            if r.stdout.endswith(" 503"):
                break
            time.sleep(0.5)
        js = json.loads(r.stdout.rsplit(" ", 1)[0])
        assert r.stdout.endswith(" 503") and js["writable"] is False, r.stdout
        assert js["role"] == "no-leader"
        s.c.net.heal(k)
        end = time.time() + 30
        while time.time() < end:
            r = s.py(k, ["write", s.c.url(k), s.token, "after-heal"])
            if json.loads(r.stdout)["status"] == 201:
                break
        assert json.loads(r.stdout)["status"] == 201, r


def test_kill_the_leader_20_times_under_load_nothing_lost_nothing_twice():
    with served() as s:
        s.start_load()
        time.sleep(2)
        resumes = []
        for rnd in range(ROUNDS):
            k = s.leader()
            t = time.time()
            s.c.kill(k)
            resumes.append(s.wait_acked_after(t))
            s.restart(k)
            time.sleep(1)
        s.stop_load()
        rss = s.rss()
        recs = s.records()
        data = identical_on_every_node(s)
        n = verify(recs, data)
        worst, p99 = stalls(recs)
        print("  resident memory per node after the load: %s MB" % ", ".join("%.0f" % x for x in rss))
        print("  %d kill -9 rounds, %d writes acknowledged, %d not; writes resumed after %s s"
              % (ROUNDS, n, len(recs) - n, ", ".join("%.1f" % x for x in resumes)))
        print("  stalls: max %.1f s, p99 %.2f s" % (worst, p99))
        save_figures("kill_rounds", {"rounds": ROUNDS, "acked": n, "unacked": len(recs) - n,
                                     "resume_s": resumes, "stall_max_s": worst,
                                     "stall_p99_s": p99, "rss_mb": rss})
        assert max(resumes) < 10, "writes resumed after %.1f s" % max(resumes)


def test_partitions_the_minority_answers_503_the_majority_goes_on():
    with served() as s:
        s.start_load()
        time.sleep(2)
        refusals = []
        resumes = []
        for rnd in range(PARTITIONS):
            lead = s.leader()
            # the leader cut off (the minority with the old leader), then a follower
            k = lead if rnd % 2 == 0 else [j for j in (1, 2, 3) if j != lead][0]
            others = [j for j in (1, 2, 3) if j != k]
            t = time.time()
            s.c.net.cut(k)
            r = s.py(k, ["write", s.c.url(k), s.token, "minority-%d" % rnd])
            js = json.loads(r.stdout)
            assert js["status"] == 503, ("round %d: the minority answered" % rnd, js)
            refusals.append(js["seconds"])
            # the majority goes on: a write through it acknowledged after the cut (a node whose
            # connections were to the node cut off answers 503 once: try again, as told)
            for _ in range(10):
                r = s.py(others[0], ["write", s.c.url(others[0]), s.token, "majority-%d" % rnd])
                if json.loads(r.stdout)["status"] != 503:
                    break
            assert json.loads(r.stdout)["status"] == 201, (r, {j: s.c.log(j)[-1500:] for j in s.c.logs})
            resumes.append(s.wait_acked_after(t))
            s.c.net.heal(k)
            s.leader()
            time.sleep(1)
        s.stop_load()
        recs = s.records()
        data = identical_on_every_node(s)
        n = verify(recs, data)
        for rnd in range(PARTITIONS):
            assert "minority-%d" % rnd not in data       # refused, so never applied
            assert "majority-%d" % rnd in data
        worst, p99 = stalls(recs)
        print("  %d partitions, %d writes acknowledged, %d not; the minority answered 503 after"
              " %s s" % (PARTITIONS, n, len(recs) - n, ", ".join("%.1f" % x for x in refusals)))
        print("  writes through the majority resumed after %s s; stalls: max %.1f s, p99 %.2f s"
              % (", ".join("%.1f" % x for x in resumes), worst, p99))
        save_figures("partitions", {"partitions": PARTITIONS, "acked": n,
                                    "unacked": len(recs) - n, "minority_503_s": refusals,
                                    "majority_resume_s": resumes, "stall_max_s": worst,
                                    "stall_p99_s": p99})


def test_a_wiped_node_joins_again_and_catches_up():
    with served() as s:
        s.start_load()
        time.sleep(3)
        s.stop_load()
        before = s.export(1)
        k = [j for j in (1, 2, 3) if j != s.leader()][0]
        others = [j for j in (1, 2, 3) if j != k]
        r = s.c.cli(others[0], ["remove", s.c.addr(k), "--cluster-addr", s.c.members(others)])
        assert r.returncode == 0, r
        s.c.kill(k)
        shutil.rmtree(s.c.dir(k))
        s.c.start(k, join=others)
        r = s.c.cli(k, ["transfer", s.c.addr(k), "--cluster-addr", s.c.members()])
        assert r.returncode == 0, r
        assert s.export(k) == before     # read from its own copy, rebuilt from the others
        verify(s.records(), before)
