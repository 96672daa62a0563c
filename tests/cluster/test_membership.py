"""The cluster's membership (issue 14, first part): `chatvault cluster node` processes, each in a
network namespace of its own made by the test (tests/lib/netns.py), form a cluster of voters,
elect a new leader after a kill -9 or a cut link, take a restarted node back, let a member be
removed and a wiped node join again; `cluster status|add|remove` answer clearly when they
cannot. (The HTTP API on a cluster, and the write-load proofs, come with the store backend.)"""

import contextlib
import os
import shutil
import time

import cv
from cvcluster import Cluster

TEST_TIMEOUT = 240


@contextlib.contextmanager
def three():
    """A cluster of three voters (node 1 bootstrapped, 2 and 3 joined): (cluster, {n: id});
    closed (nodes killed, namespaces and directories removed) whatever the test did."""
    c = Cluster(3)
    try:
        ids = {1: c.start(1)}
        ids[2] = c.start(2, join=[1])
        ids[3] = c.start(3, join=[1, 2])
        yield c, ids
    finally:
        c.close()


def voters(st):
    return sorted((a, r) for (_, a, r, _) in st)


def all_voters(c):
    """What voters() of a status gives when the three nodes are voters."""
    return sorted((c.addr(j), "voter") for j in (1, 2, 3))


def a_follower(c):
    """The number of a node that does not lead now."""
    lead, _ = c.wait_leader(1)
    return [j for j in (1, 2, 3) if c.addr(j) != lead][0]


def test_three_nodes_form_a_cluster_of_voters():
    with three() as (c, ids):
        for i in (1, 2, 3):
            st = c.status(i)
            assert st is not None, "status from node %d failed" % i
            assert voters(st) == all_voters(c), st
            assert sorted(x[0] for x in st) == sorted(ids.values()), (st, ids)
            assert sum(1 for x in st if x[3]) == 1, st
        # the same answer from every namespace: one leader (asked again if an election on a
        # loaded machine fell between two of the three questions)
        for _ in range(20):
            leads = {tuple(x[1] for x in (c.status(i) or []) if x[3]) for i in (1, 2, 3)}
            if len(leads) == 1:
                break
            time.sleep(0.5)
        assert len(leads) == 1 and len(next(iter(leads))) == 1, leads
        assert c.stop(3) == 0          # SIGTERM: hands over and exits 0


def test_leader_killed_a_new_one_within_10s_and_the_old_one_returns():
    with three() as (c, _):
        waits = []
        for rnd in range(3):
            lead, _ = c.wait_leader(1)
            k = c.number(lead)
            c.kill(k)
            others = [j for j in (1, 2, 3) if j != k]
            new, took = c.wait_leader(others[0], only=others, exclude=[k])
            waits.append(took)
            assert took < 10, "round %d: a new leader after %.1f s" % (rnd, took)
            c.start(k)                 # restarted: its directory holds its identity
            st = c.status(k)
            assert st and voters(st) == all_voters(c), st
        print("  new leader after kill -9 of the leader: %s s" % ", ".join("%.1f" % w for w in waits))


def test_leader_cut_off_the_majority_elects_and_all_agree_after_healing():
    with three() as (c, _):
        lead, _ = c.wait_leader(1)
        k = c.number(lead)
        others = [j for j in (1, 2, 3) if j != k]
        c.net.cut(k)
        new, took = c.wait_leader(others[0], only=others, exclude=[k])
        assert took < 10, "new leader after %.1f s" % took
        # the cut-off node finds no leader (it can reach only itself)
        t0 = time.time()
        while time.time() - t0 < 15 and c.status(k, only=[k]) is not None:
            time.sleep(0.5)
        assert c.status(k, only=[k]) is None, "the minority still names a leader"
        c.net.heal(k)
        t0 = time.time()
        while time.time() - t0 < 20:
            sts = [c.status(i) for i in (1, 2, 3)]
            if all(sts) and len({tuple(sorted(s)) for s in sts}) == 1:
                break
            time.sleep(0.5)
        assert all(sts) and len({tuple(sorted(s)) for s in sts}) == 1, sts
        assert voters(sts[0]) == all_voters(c), sts[0]
        print("  new leader after the leader's link was cut: %.1f s" % took)


def test_remove_a_member_then_a_wiped_node_joins_again():
    with three() as (c, ids):
        k = a_follower(c)
        others = [j for j in (1, 2, 3) if j != k]
        r = c.cli(others[0], ["remove", c.addr(k), "--cluster-addr", c.members(others)])
        assert r.returncode == 0 and "removed" in r.stdout, r
        st = c.status(others[0], only=others)
        assert sorted(x[1] for x in st) == sorted(c.addr(j) for j in others), st
        assert c.stop(k) == 0
        shutil.rmtree(c.dir(k))        # wiped
        new_id = c.start(k, join=others)
        assert new_id != ids[k]
        st = c.status(k)
        assert voters(st) == all_voters(c), st
        # the leader itself removed: the lead is handed over first
        lead, _ = c.wait_leader(1)
        r = c.cli(1, ["remove", lead, "--cluster-addr", c.members()])
        assert r.returncode == 0, r
        rest = [j for j in (1, 2, 3) if c.addr(j) != lead]
        st = c.status(rest[0], only=rest)
        assert sorted(x[1] for x in st) == sorted(c.addr(j) for j in rest), st


def test_roles_and_clear_errors():
    with three() as (c, _):
        k = a_follower(c)
        r = c.cli(1, ["add", c.addr(k), "--role", "standby", "--cluster-addr", c.members()])
        assert r.returncode == 0 and "standby" in r.stdout, r
        assert [x[2] for x in c.status(1) if x[1] == c.addr(k)] == ["standby"]
        # a standby cannot lead: transfer refuses it
        r = c.cli(1, ["transfer", c.addr(k), "--cluster-addr", c.members()])
        assert r.returncode == 1 and "only a voter can lead" in r.stderr, r
        r = c.cli(1, ["add", c.addr(k), "--cluster-addr", c.members()])      # default: voter
        assert r.returncode == 0, r
        assert [x[2] for x in c.status(1) if x[1] == c.addr(k)] == ["voter"]
        # a voter can: transfer makes it the leader
        r = c.cli(1, ["transfer", c.addr(k), "--cluster-addr", c.members()])
        assert r.returncode == 0 and "leads" in r.stdout, r
        assert c.wait_leader(1)[0] == c.addr(k)
        # not a member
        r = c.cli(1, ["add", c.net.addr(1) + ":9999", "--cluster-addr", c.members()])
        assert r.returncode == 1 and "not a member" in r.stderr, r
        r = c.cli(1, ["remove", c.net.addr(1) + ":9999", "--cluster-addr", c.members()])
        assert r.returncode == 1 and "not a member" in r.stderr, r
        r = c.cli(1, ["transfer", c.net.addr(1) + ":9999", "--cluster-addr", c.members()])
        assert r.returncode == 1 and "not a member" in r.stderr, r
        # usage errors: exit 2 with the reason
        r = c.cli(1, ["add", c.addr(k), "--role", "boss", "--cluster-addr", c.members()])
        assert r.returncode == 2 and "role" in r.stderr, r
        r = c.cli(1, ["status"])
        assert r.returncode == 2 and "--cluster-addr" in r.stderr, r
        r = c.cli(1, ["node", "--cluster-addr", c.addr(1)])
        assert r.returncode == 2 and "--cluster-dir" in r.stderr, r
        r = c.cli(1, ["frobnicate", "--cluster-addr", c.members()])
        assert r.returncode == 2, r
        # serve needs both cluster flags or neither
        for flags, want in ((["--cluster-dir", os.path.join(c.root, "x")], "--cluster-addr"),
                            (["--cluster-addr", c.addr(1)], "--cluster-dir")):
            r = c.net.run(1, [cv.find_binary(), "serve", "--listen", "127.0.0.1:0"] + flags)
            assert r.returncode == 2 and want in r.stderr, r
        # nobody there: a clear failure within the deadline, not a hang
        t0 = time.time()
        r = c.cli(1, ["status", "--cluster-addr", c.net.addr(1) + ":9998"])
        assert r.returncode == 1 and "cluster:" in r.stderr, r
        assert time.time() - t0 < 30
        r = c.cli(1, ["status", "--cluster-addr", "not-an-address"])
        assert r.returncode == 1 and "not an address" in r.stderr, r
        # two states a cluster cannot be made to hold, made by a test build's hook
        # (CV_TEST_MEMBERSHIP, src/cluster.c): nothing changes, and the command says why
        if cv.has_test_hooks():
            before = c.status(1)
            # the leader keeps refusing the change as "in progress": asked again for 15 s
            t0 = time.monotonic()
            r = c.cli(1, ["add", c.addr(k), "--role", "spare", "--cluster-addr", c.members()],
                      env={"CV_TEST_MEMBERSHIP": "busy"})
            waited = time.monotonic() - t0
            assert r.returncode == 1 and "already in progress" in r.stderr, r
            assert waited >= 14.5, "gave up after %.1f s, not after asking for 15 s" % waited
            # the leader cannot hand its lead over: remove refuses to remove it
            r = c.cli(1, ["remove", c.addr(k), "--cluster-addr", c.members()],
                      env={"CV_TEST_MEMBERSHIP": "stuck"})
            assert r.returncode == 1 and "%s still leads" % c.addr(k) in r.stderr, r
            assert c.status(1) == before, (before, c.status(1))
            # nor to a voter that asks for it: transfer gives up after asking for 20 s
            j = [n for n in (1, 2, 3) if c.addr(n) != c.addr(k)][0]
            t0 = time.monotonic()
            r = c.cli(1, ["transfer", c.addr(j), "--cluster-addr", c.members()],
                      env={"CV_TEST_MEMBERSHIP": "stuck"})
            waited_transfer = time.monotonic() - t0
            assert r.returncode == 1 and "%s does not lead after" % c.addr(j) in r.stderr, r
            assert waited_transfer >= 19.5, "gave up after %.1f s" % waited_transfer
            assert c.status(1) == before, (before, c.status(1))
            print("  a change refused as in progress: given up after %.1f s; a transfer that"
                  " never happens: after %.1f s" % (waited, waited_transfer))
        else:
            print("  (not a test build: the membership hooks not tested)")
        # the port is taken: the node says so and exits 1
        r = c.net.run(1, [cv.find_binary(), "cluster", "node", "--cluster-dir",
                          os.path.join(c.root, "other"), "--cluster-addr", c.addr(1)], timeout=60)
        assert r.returncode == 1 and "did not start" in r.stderr, r


def test_a_node_that_cannot_start_says_why():
    """cluster_start's refusals, on one node in one namespace: each exits 1 with the reason."""
    c = Cluster(1)
    try:
        node = [cv.find_binary(), "cluster", "node", "--cluster-dir", c.dir(1)]
        c.start(1)
        assert c.stop(1) == 0
        # its address is part of its identity
        r = c.net.run(1, node + ["--cluster-addr", c.net.addr(1) + ":9002"])
        assert r.returncode == 1 and "is at %s, not" % c.addr(1) in r.stderr, r
        # an identity file that is not one
        ident = os.path.join(c.dir(1), "cluster-node")
        with open(ident, "w") as f:
            f.write("garbage\n")
        r = c.net.run(1, node + ["--cluster-addr", c.addr(1)])
        assert r.returncode == 1 and "not a cluster node's identity" in r.stderr, r
        # a node that crashed while joining needs --join to finish
        with open(ident, "w") as f:
            f.write("12345 %s joining\n" % c.addr(1))
        r = c.net.run(1, node + ["--cluster-addr", c.addr(1)])
        assert r.returncode == 1 and "has not finished joining" in r.stderr, r
        # --join addresses that do not parse: refused at once, not after the join's 30 s
        t0 = time.time()
        r = c.net.run(1, [cv.find_binary(), "cluster", "node", "--cluster-dir",
                          os.path.join(c.root, "new"), "--cluster-addr", c.addr(1),
                          "--join", "nohost"])
        assert r.returncode == 1 and "could not join nohost" in r.stderr, r
        assert time.time() - t0 < 20, "took %.1f s" % (time.time() - t0)
        # nobody to join: the join gives up after its 30 s and says so
        r = c.net.run(1, [cv.find_binary(), "cluster", "node", "--cluster-dir",
                          os.path.join(c.root, "alone"), "--cluster-addr", c.addr(1),
                          "--join", c.net.addr(1) + ":9003"], timeout=90)
        assert r.returncode == 1 and "could not join" in r.stderr, r
    finally:
        c.close()
