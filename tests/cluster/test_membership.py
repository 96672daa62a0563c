"""The cluster's membership (issue 14, first part): `chatvault cluster node` processes, each in a
network namespace of its own made by the test (tests/lib/netns.py), form a cluster of voters,
elect a new leader after a kill -9 or a cut link, take a restarted node back, let a member be
removed and a wiped node join again; `cluster status|add|remove` answer clearly when they
cannot. (The HTTP API on a cluster, and the write-load proofs, come with the store backend.)"""

import os
import shutil
import time

import cv
from cvcluster import Cluster

TEST_TIMEOUT = 240


def three():
    c = Cluster(3)
    try:
        ids = {1: c.start(1)}
        ids[2] = c.start(2, join=[1])
        ids[3] = c.start(3, join=[1, 2])
    except BaseException:
        c.close()
        raise
    return c, ids


def voters(st):
    return sorted((a, r) for (_, a, r, _) in st)


def test_three_nodes_form_a_cluster_of_voters():
    c, ids = three()
    try:
        for i in (1, 2, 3):
            st = c.status(i)
            assert st is not None, "status from node %d failed" % i
            assert voters(st) == sorted((c.addr(j), "voter") for j in (1, 2, 3)), st
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
    finally:
        c.close()


def test_leader_killed_a_new_one_within_10s_and_the_old_one_returns():
    c, _ = three()
    try:
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
            assert st and voters(st) == sorted((c.addr(j), "voter") for j in (1, 2, 3)), st
        print("  new leader after kill -9 of the leader: %s s" % ", ".join("%.1f" % w for w in waits))
    finally:
        c.close()


def test_leader_cut_off_the_majority_elects_and_all_agree_after_healing():
    c, _ = three()
    try:
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
        assert voters(sts[0]) == sorted((c.addr(j), "voter") for j in (1, 2, 3)), sts[0]
        print("  new leader after the leader's link was cut: %.1f s" % took)
    finally:
        c.close()


def test_remove_a_member_then_a_wiped_node_joins_again():
    c, ids = three()
    try:
        lead, _ = c.wait_leader(1)
        k = [j for j in (1, 2, 3) if c.addr(j) != lead][0]
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
        assert voters(st) == sorted((c.addr(j), "voter") for j in (1, 2, 3)), st
        # the leader itself removed: the lead is handed over first
        lead, _ = c.wait_leader(1)
        r = c.cli(1, ["remove", lead, "--cluster-addr", c.members()])
        assert r.returncode == 0, r
        rest = [j for j in (1, 2, 3) if c.addr(j) != lead]
        st = c.status(rest[0], only=rest)
        assert sorted(x[1] for x in st) == sorted(c.addr(j) for j in rest), st
    finally:
        c.close()


def test_roles_and_clear_errors():
    c, _ = three()
    try:
        lead, _ = c.wait_leader(1)
        k = [j for j in (1, 2, 3) if c.addr(j) != lead][0]
        r = c.cli(1, ["add", c.addr(k), "--role", "standby", "--cluster-addr", c.members()])
        assert r.returncode == 0 and "standby" in r.stdout, r
        assert [x[2] for x in c.status(1) if x[1] == c.addr(k)] == ["standby"]
        r = c.cli(1, ["add", c.addr(k), "--cluster-addr", c.members()])      # default: voter
        assert r.returncode == 0, r
        assert [x[2] for x in c.status(1) if x[1] == c.addr(k)] == ["voter"]
        # not a member
        r = c.cli(1, ["add", c.net.addr(1) + ":9999", "--cluster-addr", c.members()])
        assert r.returncode == 1 and "not a member" in r.stderr, r
        r = c.cli(1, ["remove", c.net.addr(1) + ":9999", "--cluster-addr", c.members()])
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
        # nobody there: a clear failure within the deadline, not a hang
        t0 = time.time()
        r = c.cli(1, ["status", "--cluster-addr", c.net.addr(1) + ":9998"])
        assert r.returncode == 1 and "cluster:" in r.stderr, r
        assert time.time() - t0 < 30
        r = c.cli(1, ["status", "--cluster-addr", "not-an-address"])
        assert r.returncode == 1 and "not an address" in r.stderr, r
        # the port is taken: the node says so and exits 1
        r = c.net.run(1, [cv.find_binary(), "cluster", "node", "--cluster-dir",
                          os.path.join(c.root, "other"), "--cluster-addr", c.addr(1)], timeout=60)
        assert r.returncode == 1 and "did not start" in r.stderr, r
    finally:
        c.close()
