#!/usr/bin/env python3
"""bench/changes.py — the sync replay target: "GET /api/v1/changes replays 100,000 changes at least
100,000 changes per second". `make bench-changes` builds build/chatvault (release) first and runs
this; it builds nothing itself. python3 stdlib only. Loopback only.

  bench/changes.py                  defaults: CHANGES=100000 RUNS=5 LIMIT=1000
  CHANGES=10000 RUNS=2 bench/changes.py   a quick trial

Setup: one account (`chatvault import-legacy` of one row: no Argon2id hash), its token from
`chatvault token`, the server started on 127.0.0.1:0 (--access-log off) on a scratch database,
then CHANGES threads (one short message each) through POST /api/v1/chat-threads/import in
batches of BATCH over one keep-alive connection: CHANGES thread upserts in the change log.
VmHWM is reset (clear_refs 5) after the fill.
Measured: RUNS replays, each from no cursor: GET /api/v1/changes?limit=LIMIT, then
?since=CURSOR&limit=LIMIT until more=false, over one keep-alive connection (http.client).
Per run: wall seconds (requests, answers and the client's JSON parse: the client's own parse
time is reported apart), changes/s, pages, bytes; each run must return exactly CHANGES distinct
(kind, id) records, no duplicates, and every thread id the import returned. After the runs:
the final cursor answers no changes and more=false; one append then shows as exactly one
change from that cursor; limits 0 / 1001 / no limit are probed and their answers recorded.
Output: bench/results/<stamp>-changes/runs.txt and summary.md (also printed).

Env: CHANGES=100000 RUNS=5 LIMIT=1000 BATCH=1000 SYNC=full KEEP=0 CHATVAULT=build/chatvault
"""
import http.client
import json
import os
import re
import statistics
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (ROOT, Results, Sampler, make_log, make_users, proc_cpu, proc_status,  # noqa: E402
                      reset_vmhwm, scratch, server_stderr_fig, start_server, teardown)

ENV = os.environ.get
CHANGES = int(ENV("CHANGES", 100000))
RUNS = int(ENV("RUNS", 5))
LIMIT = int(ENV("LIMIT", 1000))
BATCH = int(ENV("BATCH", 1000))
SYNC = ENV("SYNC", "full")
KEEP = ENV("KEEP", "0") == "1"
CV_SRC = ENV("CHATVAULT", os.path.join(ROOT, "build", "chatvault"))
EMAIL = "changes-bench@bench.test"


log = make_log("changes")


def main():
    if not os.access(CV_SRC, os.X_OK):
        sys.exit("changes.py: %s not built (run make bench-changes)" % CV_SRC)
    R = Results("changes")
    res_dir, runs_path, runs, fig = R.dir, R.runs_path, R.runs, R.fig
    work, cv = scratch("changes", CV_SRC)
    db = os.path.join(work, "changes.db")
    server = None
    R.header(cv, "CHANGES=%d RUNS=%d LIMIT=%d BATCH=%d SYNC=%s" % (CHANGES, RUNS, LIMIT, BATCH, SYNC))
    try:
        token, = make_users(cv, db, os.path.join(work, "user.jsonl"), [EMAIL])
        server, port, err_path = start_server(cv, db, work, SYNC, "changes.py")
        pid = server.pid
        auth = {"Authorization": "Bearer " + token}
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

        def call(method, path, body=None):
            h = dict(auth)
            if body is not None:
                h["Content-Type"] = "application/json"
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.read()

        # -- the fill
        t = time.monotonic()
        ids = set()
        base_t = time.time() - CHANGES - 100
        run_tag = "%x" % int(time.time())
        for i in range(0, CHANGES, BATCH):
            items = []
            for j in range(i, min(CHANGES, i + BATCH)):
                ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base_t + j))
                items.append({"client_id": "chg-%s-%d" % (run_tag, j), "title": "changes %d" % j,
                              "messages": [{"role": "user", "content": "hello %d" % j}],
                              "created_at": ts, "updated_at": ts})
            st, body = call("POST", "/api/v1/chat-threads/import", json.dumps(items).encode())
            if st != 200:
                sys.exit("POST /api/v1/chat-threads/import -> %d %r" % (st, body[:300]))
            js = json.loads(body)
            if js["imported"] != len(items):
                sys.exit("import: %d of %d imported: %r" % (js["imported"], len(items), body[:300]))
            ids.update(x["id"] for x in js["threads"])
        fig("fill threads=%d secs=%.1f" % (len(ids), time.monotonic() - t))
        st, body = call("GET", "/api/v1/changes?limit=1")
        if st != 200:
            sys.exit("GET /api/v1/changes -> %d %r (is the route there?)" % (st, body[:300]))
        st0 = proc_status(pid)
        fig("server_after_fill vmhwm_kb=%d vmrss_kb=%d" % (st0["VmHWM"], st0["VmRSS"]))
        if not reset_vmhwm(pid):
            log("cannot reset VmHWM (clear_refs)")

        # -- the replays
        final_cursor = None
        results = []
        sampler = Sampler(pid, 0.1)
        sampler.start()
        for run in range(1, RUNS + 1):
            seen = set()
            dups = pages = nbytes = 0
            kinds, ops = {}, {}
            parse = io = 0.0
            cursor = None
            pages_js = []
            cpu0 = proc_cpu(pid)
            t0 = time.perf_counter()
            while True:
                path = "/api/v1/changes?limit=%d" % LIMIT
                if cursor is not None:
                    path += "&since=" + urllib.parse.quote(cursor, safe="")
                ta = time.perf_counter()
                c.request("GET", path, headers=auth)
                r = c.getresponse()
                body = r.read()
                tb = time.perf_counter()
                io += tb - ta
                if r.status != 200:
                    sys.exit("run %d page %d: GET %s -> %d %r" % (run, pages + 1, path, r.status, body[:300]))
                js = json.loads(body)            # what any client does: it needs cursor and more
                pages_js.append(js["changes"])
                parse += time.perf_counter() - tb
                pages += 1
                nbytes += len(body)
                cursor = js["cursor"]
                if not js["more"]:
                    break
                if pages > CHANGES // max(1, LIMIT) + 1000:
                    sys.exit("run %d: more than %d pages: the cursor does not advance?" % (run, pages))
            secs = time.perf_counter() - t0
            cpu = proc_cpu(pid) - cpu0
            order_bad, last_at = 0, ""
            for chs in pages_js:                 # the checks, after the clock stopped
                for ch in chs:
                    if ch["at"] < last_at:           # oldest first (ISO times of one format)
                        order_bad += 1
                    last_at = ch["at"]
                    key = (ch["kind"], ch["id"])
                    if key in seen:
                        dups += 1
                    seen.add(key)
                    kinds[ch["kind"]] = kinds.get(ch["kind"], 0) + 1
                    ops[ch["op"]] = ops.get(ch["op"], 0) + 1
            n = sum(kinds.values())
            thread_ids = {i for k, i in seen if k == "thread"}
            ok = (len(seen) == CHANGES and dups == 0 and thread_ids == ids and order_bad == 0)
            results.append(n / secs)
            final_cursor = cursor
            fig("replay run=%d changes=%d distinct=%d dups=%d all_ids=%s pages=%d bytes=%d secs=%.3f changes_s=%.0f "
                "io_secs=%.3f io_changes_s=%.0f client_parse_secs=%.3f server_cpu_s=%.2f kinds=%s ops=%s out_of_order=%d ok=%s" % (
                    run, n, len(seen), dups, "yes" if thread_ids == ids else "NO(%d of %d)" % (
                        len(thread_ids & ids), len(ids)), pages, nbytes, secs, n / secs, io, n / io, parse, cpu,
                    ",".join("%s:%d" % kv for kv in sorted(kinds.items())),
                    ",".join("%s:%d" % kv for kv in sorted(ops.items())), order_bad, "yes" if ok else "NO"))
        sampler.stop.set()
        sampler.join()
        st = proc_status(pid)
        fig("server_replay vmhwm_kb=%d vmrss_max_kb=%d vmrss_end_kb=%d threads=%d" % (
            st["VmHWM"], sampler.rss, st["VmRSS"], st["Threads"]))

        # -- the cursor at the end, one more change, the limits
        q = urllib.parse.quote(final_cursor, safe="")
        s1, b1 = call("GET", "/api/v1/changes?since=%s&limit=%d" % (q, LIMIT))
        j1 = json.loads(b1) if s1 == 200 else {}
        tid = min(ids)
        s2, _ = call("POST", "/api/v1/chat-threads/%d/messages" % tid,
                     json.dumps({"role": "user", "content": "one more"}).encode())
        s3, b3 = call("GET", "/api/v1/changes?since=%s&limit=%d" % (q, LIMIT))
        j3 = json.loads(b3) if s3 == 200 else {}
        one = j3.get("changes", [])
        fig("tail at_end_status=%d at_end_changes=%d at_end_more=%s append_status=%d after_append_changes=%d "
            "after_append=%s ok=%s" % (
                s1, len(j1.get("changes", [])), j1.get("more"), s2, len(one),
                json.dumps(one[:2], separators=(",", ":")).replace(" ", ""),
                "yes" if (s1 == 200 and not j1.get("changes") and j1.get("more") is False and len(one) == 1
                          and one[0].get("id") == tid and one[0].get("kind") == "thread") else "NO"))
        probes = []
        for lim in ("0", "1001", "abc", None):
            s, b = call("GET", "/api/v1/changes" + ("" if lim is None else "?limit=" + lim))
            n = len(json.loads(b).get("changes", [])) if s == 200 else "-"
            probes.append("limit_%s=%d/%s" % (lim if lim is not None else "none", s, n))
        s, b = call("GET", "/api/v1/changes?since=garbage")
        probes.append("since_garbage=%d" % s)
        fig("probes " + " ".join(probes))
        c.close()
        server_stderr_fig(fig, err_path)
        runs.close()
        summary(runs_path, os.path.join(res_dir, "summary.md"))
        log("results: " + res_dir)
    finally:
        teardown(server, work, KEEP, log)


def summary(runs_path, out_path):
    lines = open(runs_path).read().splitlines()
    kv = lambda ln: dict(re.findall(r'(\w+)=("[^"]*"|\S+)', ln))
    reps = [kv(ln) for ln in lines if ln.startswith("fig replay ")]
    srv = [kv(ln) for ln in lines if ln.startswith("fig server_replay ")]
    tail = [kv(ln) for ln in lines if ln.startswith("fig tail ")]
    out = ["# Changes replay bench (target: %d changes replayed at >= 100,000 changes/s)" % CHANGES, ""]
    out += [ln for ln in lines if ln.startswith("#")] + [""]
    out.append("| run | changes | distinct | dups | pages | bytes | seconds | changes/s | changes/s w/o client parse "
               "| client parse s | server CPU s | ok |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in reps:
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["run"], r["changes"], r["distinct"], r["dups"], r["pages"], r["bytes"], r["secs"], r["changes_s"],
            r["io_changes_s"], r["client_parse_secs"], r["server_cpu_s"], r["ok"]))
    if reps:
        rates = [float(r["changes_s"]) for r in reps]
        io = [float(r["io_changes_s"]) for r in reps]
        out.append("")
        out.append("Best %.0f changes/s, median %.0f changes/s (target >= 100,000), wall clock of the client "
                   "including its json.loads of each page." % (max(rates), statistics.median(rates)))
        out.append("Without the client's parse (request sent to last byte read): best %.0f, median %.0f changes/s."
                   % (max(io), statistics.median(io)))
        cpu = [int(r["changes"]) / max(1e-9, float(r["server_cpu_s"])) for r in reps]
        out.append("Per second of the server's own CPU time (utime+stime, 10 ms ticks; steady on a busy machine "
                   "where the wall clock is not): median %.0f changes per CPU second." % statistics.median(cpu))
        with open("/proc/loadavg") as f:
            out.append("Load average at the end: %s (2 cores; the wall-clock rates need an idle machine)."
                       % " ".join(f.read().split()[:3]))
    if srv:
        out.append("Server during the replays: VmHWM %.1f MiB (since the fill), sampled VmRSS max %.1f MiB." % (
            int(srv[0]["vmhwm_kb"]) / 1024, int(srv[0]["vmrss_max_kb"]) / 1024))
    if tail:
        out.append("Final cursor: %s changes, more=%s; one append then gives %s change(s): %s." % (
            tail[0]["at_end_changes"], tail[0]["at_end_more"], tail[0]["after_append_changes"], tail[0]["ok"]))
    out += [ln.replace("fig ", "- ", 1) for ln in lines if ln.startswith("fig probes") or ln.startswith("fig fill")]
    out.append("\nEvery figure: runs.txt beside this file.")
    text = "\n".join(out) + "\n"
    open(out_path, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
