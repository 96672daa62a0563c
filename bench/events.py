#!/usr/bin/env python3
"""bench/events.py — the live-sync target: "1,000 open event streams (one user each) and a write
load of 1,000 appends/s: every event delivered, p99 commit-to-delivery at most 100 ms, resident
memory at most 64 MB". `make bench-events` builds build/chatvault (release) first and runs this;
it builds nothing itself. python3 stdlib only. Loopback only; every loop is bounded in count and
time.

  bench/events.py                          defaults: USERS=1000 RATE=1000 SECS=30
  USERS=100 RATE=200 SECS=5 bench/events.py    a quick trial
  NO_STREAMS=1 bench/events.py             only the write load (no GET /api/v1/events)

Setup (no Argon2id hash anywhere, so nothing of it lands in the server's peak memory):
  - USERS accounts from one `chatvault import-legacy` file (rows with no chats: the accounts
    get no password), then one bearer token each from `chatvault token EMAIL` (JOBS at a time),
    all on a scratch database before the server starts;
  - the server started on 127.0.0.1:0 (--access-log off), one thread per user created with
    POST /api/v1/chat-threads over one keep-alive connection;
  - VmHWM reset (clear_refs 5) once the threads exist.
Measured:
  - reader process (own event loop): USERS streams GET /api/v1/events (Authorization header, no
    cursor: from now), opened OPEN_PAR at a time, each read to its `ready` event; then every
    `change` event is stamped with time.monotonic() when its bytes arrive (asyncio.Protocol,
    data_received: no stream-reader hops);
  - writer process (own event loop): SECS x RATE appends POST /api/v1/chat-threads/{id}/messages
    ({"role":"user","content": ~100 chars}), append k to user k % USERS (round robin: each
    user gets one append every USERS/RATE s), append k scheduled at T0 + k/RATE, over CONNS
    keep-alive connections; for each: the send time and the time its 2xx answer's header arrived
    (the acknowledgement: the append is committed);
  - parent: the server's VmRSS and thread count sampled every 0.2 s, VmHWM and CPU time
    (utime+stime from /proc/PID/stat) over the load, and after it DRAIN s for late events.
  Matching (both clocks are CLOCK_MONOTONIC, the same across processes): an append is delivered
  by the first `thread` event of its thread id on its user's stream that arrived at or after the
  append was sent (the change log is compacted, so two appends close together may share one
  event). ack->event = arrival - ack (clamped at 0: the event can beat the answer), send->event
  = arrival - send. "undelivered" counts acknowledged appends with no such event: must be 0.
  Both client loops run a lag probe (a 5 ms sleep's overshoot): a high client lag inflates the
  latencies, and the summary says so.
  After the load, user 0's stream is opened again with Last-Event-ID = its first `ready` cursor:
  the compacted log must give exactly one change (its thread's latest).
  The server's RSS is split into anonymous / file / shared memory (RssAnon/RssFile/RssShmem)
  with the streams idle and at the end.
Output: bench/results/<stamp>-events/runs.txt (every figure, one line each, and a per-second
timeline "tl ...": appends, answer p99/max, how late sends were, ack->event max, both client
loops' lag) and summary.md (also printed).

Env: USERS=1000 RATE=1000 SECS=30 CONNS=32 OPEN_PAR=64 DRAIN=3 JOBS=4 CHARS=100
     SYNC=full (serve --sync) NO_STREAMS=0 KEEP=0 (keep the scratch dir) CHATVAULT=build/chatvault
"""
import asyncio
import gc
import json
import multiprocessing as mp
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (ROOT, Results, Sampler, make_log, make_users, proc_cpu, proc_status,  # noqa: E402
                      reset_vmhwm, scratch, server_stderr_fig, start_server, teardown)

ENV = os.environ.get
USERS = int(ENV("USERS", 1000))
RATE = float(ENV("RATE", 1000))
SECS = float(ENV("SECS", 30))
CONNS = int(ENV("CONNS", 32))
OPEN_PAR = int(ENV("OPEN_PAR", 64))
DRAIN = float(ENV("DRAIN", 3))
JOBS = int(ENV("JOBS", 4))
CHARS = int(ENV("CHARS", 100))
SYNC = ENV("SYNC", "full")
NO_STREAMS = ENV("NO_STREAMS", "0") == "1"
KEEP = ENV("KEEP", "0") == "1"
CV_SRC = ENV("CHATVAULT", os.path.join(ROOT, "build", "chatvault"))


log = make_log("events")


def pct(xs, p):
    """Nearest-rank percentile of a sorted list (None when empty)."""
    if not xs:
        return None
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def ms(x):
    return "-" if x is None else "%.1f" % (x * 1000)


# ---- tiny HTTP/1.1 over asyncio streams (keep-alive) ------------------------------------

async def read_response(reader):
    """Status, headers (lower-case dict), body, and the monotonic time the header arrived."""
    head = await reader.readuntil(b"\r\n\r\n")
    t_head = time.monotonic()
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    elif "content-length" in hdrs:
        body = await reader.readexactly(int(hdrs["content-length"]))
    elif status in (204, 304):
        body = b""
    else:
        body = await reader.read()
    return status, hdrs, body, t_head


def request(method, path, token=None, body=None):
    h = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1"]
    if token:
        h.append("Authorization: Bearer " + token)
    if body is not None:
        h.append("Content-Type: application/json")
        h.append("Content-Length: %d" % len(body))
    return ("\r\n".join(h) + "\r\n\r\n").encode() + (body or b"")


async def lag_probe(out, stop):
    """Overshoot of a 5 ms sleep, every 5 ms, while stop is not set: the loop's own lag."""
    while not stop.is_set():
        t = time.monotonic()
        await asyncio.sleep(0.005)
        out.append((t, time.monotonic() - t - 0.005))


# ---- reader: USERS event streams ------------------------------------------------------------

class Stream(asyncio.Protocol):
    def __init__(self, token, tid, rec, last_id=None):
        self.req = ("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                    "Accept: text/event-stream\r\n%s\r\n" % (
                        token, "" if last_id is None else "Last-Event-ID: %s\r\n" % last_id)).encode()
        self.tid = tid
        self.rec = rec                 # arrival times of change events of our thread
        self.buf = b""                 # raw bytes before/after the header
        self.sse = b""                 # decoded event-stream text not yet split
        self.head = None
        self.chunked = False
        self.ready = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.status = None
        self.ctype = None
        self.retry = None
        self.cursor = None
        self.other = 0                 # change events not of our thread
        self.pings = 0
        self.bad = 0                   # undecodable events
        self.ids = []                  # last event ids (for a monotonicity check)
        self.id_dups = 0
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.req)

    def data_received(self, data):
        now = time.monotonic()
        if self.head is None:
            self.buf += data
            i = self.buf.find(b"\r\n\r\n")
            if i < 0:
                return
            self.head = self.buf[:i].decode("latin-1")
            data, self.buf = self.buf[i + 4:], b""
            lines = self.head.split("\r\n")
            self.status = int(lines[0].split(" ", 2)[1])
            for ln in lines[1:]:
                k, _, v = ln.partition(":")
                k, v = k.strip().lower(), v.strip()
                if k == "transfer-encoding" and v.lower() == "chunked":
                    self.chunked = True
                elif k == "content-type":
                    self.ctype = v
            if self.status != 200:
                if not self.ready.done():
                    self.ready.set_exception(RuntimeError("GET /api/v1/events -> %d" % self.status))
                self.transport.close()
                return
        if self.chunked:
            self.buf += data
            while True:
                j = self.buf.find(b"\r\n")
                if j < 0:
                    break
                size = int(self.buf[:j].split(b";")[0] or b"0", 16)
                if len(self.buf) < j + 2 + size + 2:
                    break
                self.sse += self.buf[j + 2:j + 2 + size]
                self.buf = self.buf[j + 2 + size + 2:]
        else:
            self.sse += data
        if b"\r" in self.sse:
            self.sse = self.sse.replace(b"\r\n", b"\n")
        while True:
            k = self.sse.find(b"\n\n")
            if k < 0:
                break
            block, self.sse = self.sse[:k], self.sse[k + 2:]
            self.event(block.decode("utf-8", "replace"), now)

    def event(self, block, now):
        ev, data, eid = "message", [], None
        for ln in block.split("\n"):
            if ln.startswith(":"):
                self.pings += 1
                continue
            f, _, v = ln.partition(":")
            v = v[1:] if v.startswith(" ") else v
            if f == "event":
                ev = v
            elif f == "data":
                data.append(v)
            elif f == "id":
                eid = v
            elif f == "retry":
                self.retry = v
        if not data:
            return
        try:
            js = json.loads("\n".join(data))
        except ValueError:
            self.bad += 1
            return
        if ev == "ready":
            self.cursor = js.get("cursor")
            if not self.ready.done():
                self.ready.set_result(True)
        elif ev == "change":
            if eid is not None:
                if self.ids and eid == self.ids[-1]:
                    self.id_dups += 1
                self.ids.append(eid)
            if js.get("kind") == "thread" and js.get("id") == self.tid:
                self.rec.append(now)
            else:
                self.other += 1
        else:
            self.bad += 1

    def connection_lost(self, exc):
        if not self.ready.done():
            self.ready.set_exception(RuntimeError("stream closed before ready: %r" % (exc,)))
        if not self.closed.done():
            self.closed.set_result(exc)


async def reader_main(port, users, conn):
    loop = asyncio.get_running_loop()
    recs = [[] for _ in users]
    streams = [None] * len(users)
    sem = asyncio.Semaphore(OPEN_PAR)
    t0 = time.monotonic()
    open_ms = []

    async def open_one(i):
        tok, tid = users[i]
        async with sem:
            t = time.monotonic()
            _, st = await loop.create_connection(lambda: Stream(tok, tid, recs[i]), "127.0.0.1", port)
            streams[i] = st
            await asyncio.wait_for(st.ready, 30)
            open_ms.append(time.monotonic() - t)

    res = await asyncio.gather(*(open_one(i) for i in range(len(users))), return_exceptions=True)
    errs = [r for r in res if isinstance(r, BaseException)]
    opened = time.monotonic() - t0
    lag, stop = [], asyncio.Event()
    probe = asyncio.ensure_future(lag_probe(lag, stop))
    conn.send({"opened": len(users) - len(errs), "errors": [repr(e) for e in errs[:5]],
               "open_secs": opened})
    # wait for "start" then "stop" from the parent (a pipe read in a thread: the loop keeps going)
    msg = await loop.run_in_executor(None, conn.recv)
    assert msg == "start"
    lag.clear()
    msg = await loop.run_in_executor(None, conn.recv)
    assert msg == "stop"
    stop.set()
    await probe
    still_open = sum(1 for s in streams if s is not None and not s.closed.done())
    first = next((s for s in streams if s is not None), None)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out = {
        "recs": recs,
        "other": sum(s.other for s in streams if s), "pings": sum(s.pings for s in streams if s),
        "bad": sum(s.bad for s in streams if s), "id_dups": sum(s.id_dups for s in streams if s),
        "still_open": still_open, "lag": sorted(x[1] for x in lag), "lag_ts": lag, "open_ms": sorted(open_ms),
        "cpu": ru.ru_utime + ru.ru_stime,
        "retry": first.retry if first else None, "ctype": first.ctype if first else None,
        "chunked": first.chunked if first else None,
        "cursor_example": first.cursor if first else None,
        "ready_cursor_0": streams[0].cursor if streams[0] else None,
    }
    for s in streams:
        if s is not None and s.transport is not None:
            s.transport.close()
    conn.send(out)


def reader_proc(port, users, conn):
    gc.disable()                        # no collector pauses in the client (refcounting frees all)
    try:
        asyncio.run(reader_main(port, users, conn))
    except BaseException as e:          # tell the parent rather than leave it waiting
        conn.send({"fatal": repr(e)})


# ---- writer: the append load ---------------------------------------------------------------

async def writer_main(port, users, conn):
    n_total = int(SECS * RATE)
    content = ("bench event append " + "lorem ipsum dolor sit amet " * (CHARS // 27 + 2))[:CHARS]
    bodies = [json.dumps({"role": "user", "content": content}).encode()]
    reqs = [request("POST", "/api/v1/chat-threads/%d/messages" % tid, tok, bodies[0])
            for tok, tid in users]
    conns = []
    for _ in range(CONNS):
        conns.append(await asyncio.open_connection("127.0.0.1", port))
    conn.send("connected")
    assert conn.recv() == "go"
    sent = [0.0] * n_total
    ack = [0.0] * n_total
    status = [0] * n_total
    sched_lag = []
    nxt = [0]
    lag, stop = [], asyncio.Event()
    probe = asyncio.ensure_future(lag_probe(lag, stop))
    T0 = time.monotonic() + 0.05
    errors = []

    async def worker(rw):
        r, w = rw
        while True:
            k = nxt[0]
            if k >= n_total:
                return
            nxt[0] = k + 1
            due = T0 + k / RATE
            d = due - time.monotonic()
            if d > 0:
                await asyncio.sleep(d)
            t = time.monotonic()
            sched_lag.append(t - due)
            sent[k] = t
            w.write(reqs[k % len(reqs)])
            try:
                st, _, _, th = await read_response(r)
            except Exception as e:      # noqa: BLE001 — counted, the bench goes on
                errors.append(repr(e))
                status[k] = -1
                return
            ack[k] = th
            status[k] = st

    await asyncio.gather(*(worker(c) for c in conns))
    t_end = time.monotonic()
    stop.set()
    await probe
    for _, w in conns:
        w.close()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    conn.send({"sent": sent, "ack": ack, "status": status, "t0": T0, "t_end": t_end,
               "sched_lag": sorted(sched_lag), "lag": sorted(x[1] for x in lag), "lag_ts": lag,
               "errors": errors[:5],
               "n_errors": len(errors), "cpu": ru.ru_utime + ru.ru_stime})


def writer_proc(port, users, conn):
    gc.disable()
    try:
        asyncio.run(writer_main(port, users, conn))
    except BaseException as e:
        conn.send({"fatal": repr(e)})


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = USERS + CONNS + 256
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
    if not os.access(CV_SRC, os.X_OK):
        sys.exit("events.py: %s not built (run make bench-events)" % CV_SRC)
    R = Results("events")
    res_dir, runs_path, runs, fig = R.dir, R.runs_path, R.runs, R.fig
    work, cv = scratch("events", CV_SRC)
    db = os.path.join(work, "events.db")
    server = None
    R.header(cv, "USERS=%d RATE=%g SECS=%g CONNS=%d CHARS=%d SYNC=%s NO_STREAMS=%d" % (
        USERS, RATE, SECS, CONNS, CHARS, SYNC, NO_STREAMS))
    try:
        # -- accounts and tokens (CLI, on the scratch database, before the server starts)
        t = time.monotonic()
        emails = ["events-%d@bench.test" % i for i in range(USERS)]
        tokens = make_users(cv, db, os.path.join(work, "users.jsonl"), emails, JOBS, ["--sync", "normal"])
        fig("setup_accounts users=%d secs=%.1f" % (USERS, time.monotonic() - t))

        # -- the server
        server, port, err_path = start_server(cv, db, work, SYNC, "events.py")
        pid = server.pid
        st = proc_status(pid)
        fig("server_start vmhwm_kb=%d vmrss_kb=%d threads=%d" % (st["VmHWM"], st["VmRSS"], st["Threads"]))

        # -- one thread per user (one keep-alive connection)
        t = time.monotonic()

        async def mk_threads():
            r, w = await asyncio.open_connection("127.0.0.1", port)
            ids = []
            for i, tok in enumerate(tokens):
                w.write(request("POST", "/api/v1/chat-threads", tok, json.dumps({"title": "events %d" % i}).encode()))
                s, _, body, _ = await read_response(r)
                if s != 201:
                    raise SystemExit("POST /api/v1/chat-threads -> %d %r" % (s, body[:300]))
                ids.append(json.loads(body)["id"])
            # is the events route there?
            w.write(request("GET", "/api/v1/changes?limit=1", tokens[0]))
            s, _, body, _ = await read_response(r)
            w.close()
            return ids, s
        tids, changes_status = asyncio.run(mk_threads())
        fig("setup_threads threads=%d secs=%.1f changes_route_status=%d" % (len(tids), time.monotonic() - t,
                                                                          changes_status))
        users = list(zip(tokens, tids))
        st = proc_status(pid)
        fig("server_after_setup vmhwm_kb=%d vmrss_kb=%d threads=%d" % (st["VmHWM"], st["VmRSS"], st["Threads"]))
        if not reset_vmhwm(pid):
            log("cannot reset VmHWM (clear_refs): the figure includes the setup")

        ctx = mp.get_context("fork")
        sampler = Sampler(pid, 0.2)
        sampler.start()
        rd = None
        if not NO_STREAMS:
            rconn, rchild = ctx.Pipe()
            rd = ctx.Process(target=reader_proc, args=(port, users, rchild), daemon=True)
            rd.start()
            if not rconn.poll(180):
                sys.exit("events.py: the streams did not open within 180 s")
            o = rconn.recv()
            if "fatal" in o:
                sys.exit("events.py: reader failed: " + o["fatal"])
            st = proc_status(pid)
            fig("streams opened=%d of=%d secs=%.1f errors=%d vmrss_kb=%d threads=%d%s" % (
                o["opened"], USERS, o["open_secs"], len(o["errors"]), st["VmRSS"], st["Threads"],
                (" first_error=\"%s\"" % o["errors"][0].replace('"', "'")) if o["errors"] else ""))
            if o["opened"] == 0:
                sys.exit("events.py: no event stream opened (is GET /api/v1/events there?)")
            time.sleep(1.0)
            st = proc_status(pid)
            fig("idle_streams vmrss_kb=%d vmhwm_kb=%d threads=%d rss_anon_kb=%d rss_file_kb=%d rss_shmem_kb=%d" % (
                st["VmRSS"], st["VmHWM"], st["Threads"], st["RssAnon"], st["RssFile"], st["RssShmem"]))
        wconn, wchild = ctx.Pipe()
        wr = ctx.Process(target=writer_proc, args=(port, users, wchild), daemon=True)
        wr.start()
        o = wconn.recv()
        if o != "connected":
            sys.exit("events.py: writer failed: %r" % (o,))
        cpu0, tw0 = proc_cpu(pid), time.monotonic()
        if rd:
            rconn.send("start")
        wconn.send("go")
        if not wconn.poll(SECS * 3 + 60):
            sys.exit("events.py: the write load did not finish in time")
        W = wconn.recv()
        if "fatal" in W:
            sys.exit("events.py: writer failed: " + W["fatal"])
        cpu1, tw1 = proc_cpu(pid), time.monotonic()
        time.sleep(DRAIN if rd else 0)
        R = None
        if rd:
            rconn.send("stop")
            if not rconn.poll(60):
                sys.exit("events.py: the reader did not report")
            R = rconn.recv()
            if "fatal" in R:
                sys.exit("events.py: reader failed: " + R["fatal"])
        sampler.stop.set()
        sampler.join()
        st = proc_status(pid)

        # -- figures
        sent, ack, status = W["sent"], W["ack"], W["status"]
        n = len(sent)
        ok = [k for k in range(n) if 200 <= status[k] < 300]
        by_status = {}
        for s in status:
            by_status[s] = by_status.get(s, 0) + 1
        span = (max(ack[k] for k in ok) - W["t0"]) if ok else 0
        rate = len(ok) / span if span > 0 else 0
        rtt = sorted(ack[k] - sent[k] for k in ok)
        fig("load appends=%d ok=%d statuses=%s secs=%.2f rate=%.0f target=%g kept_up=%s sched_lag_p99_ms=%s "
            "sched_lag_max_ms=%s ack_p50_ms=%s ack_p99_ms=%s ack_max_ms=%s writer_loop_lag_p99_ms=%s "
            "writer_loop_lag_max_ms=%s writer_cpu_s=%.1f errors=%d" % (
                n, len(ok), ",".join("%s:%d" % kv for kv in sorted(by_status.items())), span, rate, RATE,
                "yes" if rate >= 0.97 * RATE and pct(W["lag"], 99) < 0.02 else "NO",
                ms(pct(W["sched_lag"], 99)), ms(W["sched_lag"][-1] if W["sched_lag"] else None),
                ms(pct(rtt, 50)), ms(pct(rtt, 99)), ms(rtt[-1] if rtt else None),
                ms(pct(W["lag"], 99)), ms(W["lag"][-1] if W["lag"] else None), W["cpu"], W["n_errors"]))
        if W["errors"]:
            fig("writer_first_error \"%s\"" % W["errors"][0].replace('"', "'"))
        fig("server_load cpu_s=%.1f cpu_pct=%.0f vmrss_max_kb=%d vmhwm_kb=%d vmrss_end_kb=%d threads_max=%d "
            "threads_end=%d samples=%d rss_anon_end_kb=%d rss_file_end_kb=%d rss_shmem_end_kb=%d" % (cpu1 - cpu0, 100 * (cpu1 - cpu0) / (tw1 - tw0), sampler.rss,
                                          st.get("VmHWM", 0), st.get("VmRSS", 0), sampler.threads,
                                          st.get("Threads", 0), sampler.n, st.get("RssAnon", 0),
                                          st.get("RssFile", 0), st.get("RssShmem", 0)))
        if R:
            import bisect
            recs = R["recs"]
            nev = sum(len(r) for r in recs)
            a2e, s2e, missing = [], [], 0
            ok_delivered, a2e_by_k = [], []
            miss_ex, matched = [], set()
            for k in ok:
                u = k % len(users)
                ev = recs[u]
                j = bisect.bisect_left(ev, sent[k])
                if j == len(ev):
                    missing += 1
                    if len(miss_ex) < 3:
                        miss_ex.append("user=%d k=%d sent=+%.3fs" % (u, k, sent[k] - W["t0"]))
                    continue
                matched.add((u, j))
                a2e.append(max(0.0, ev[j] - ack[k]))
                ok_delivered.append(k)
                a2e_by_k.append(a2e[-1])
                s2e.append(ev[j] - sent[k])
            a2e.sort()
            s2e.sort()
            # events with no append sent before them (spurious) on each stream
            spurious = 0
            per_user_sent = {}
            for k in ok:
                per_user_sent.setdefault(k % len(users), []).append(sent[k])
            for u, ev in enumerate(recs):
                ss = per_user_sent.get(u, [])
                for t_ev in ev:
                    if not ss or t_ev < ss[0]:
                        spurious += 1
            fig("delivery events=%d appends_ok=%d undelivered=%d coalesced=%d spurious=%d other_events=%d "
                "pings=%d bad_events=%d id_repeats=%d streams_open_at_end=%d" % (
                    nev, len(ok), missing, len(ok) - missing - len(matched), spurious,
                    R["other"], R["pings"], R["bad"], R["id_dups"], R["still_open"]))
            if miss_ex:
                fig("undelivered_examples \"%s\"" % "; ".join(miss_ex))
            fig("latency ack_to_event_p50_ms=%s ack_to_event_p99_ms=%s ack_to_event_max_ms=%s "
                "send_to_event_p50_ms=%s send_to_event_p99_ms=%s send_to_event_max_ms=%s "
                "reader_loop_lag_p99_ms=%s reader_loop_lag_max_ms=%s reader_cpu_s=%.1f" % (
                    ms(pct(a2e, 50)), ms(pct(a2e, 99)), ms(a2e[-1] if a2e else None),
                    ms(pct(s2e, 50)), ms(pct(s2e, 99)), ms(s2e[-1] if s2e else None),
                    ms(pct(R["lag"], 99)), ms(R["lag"][-1] if R["lag"] else None), R["cpu"]))
            # a per-second timeline (runs.txt only): where the tails come from
            secs_n = int(max(sent) - W["t0"]) + 1
            tl = [{"n": 0, "ack": [], "late": 0.0, "a2e": 0.0, "wlag": 0.0, "rlag": 0.0} for _ in range(secs_n)]
            for k in ok:
                b = tl[min(secs_n - 1, max(0, int(sent[k] - W["t0"])))]
                b["n"] += 1
                b["ack"].append(ack[k] - sent[k])
                b["late"] = max(b["late"], sent[k] - (W["t0"] + k / RATE))
            for k, v in zip(ok_delivered, a2e_by_k):
                b = tl[min(secs_n - 1, max(0, int(sent[k] - W["t0"])))]
                b["a2e"] = max(b["a2e"], v)
            for key, series in (("wlag", W["lag_ts"]), ("rlag", R["lag_ts"])):
                for t_, v in series:
                    i = int(t_ - W["t0"])
                    if 0 <= i < secs_n:
                        tl[i][key] = max(tl[i][key], v)
            for i, b in enumerate(tl):
                b["ack"].sort()
                runs.write("tl sec=%d appends=%d ack_p99_ms=%s ack_max_ms=%s late_max_ms=%s ack_to_event_max_ms=%s "
                           "writer_lag_max_ms=%s reader_lag_max_ms=%s\n" % (
                               i, b["n"], ms(pct(b["ack"], 99)), ms(b["ack"][-1] if b["ack"] else None),
                               ms(b["late"]), ms(b["a2e"]), ms(b["wlag"]), ms(b["rlag"])))
            fig("stream_open p50_ms=%s p99_ms=%s max_ms=%s retry=%s content_type=\"%s\" chunked=%s" % (
                ms(pct(R["open_ms"], 50)), ms(pct(R["open_ms"], 99)),
                ms(R["open_ms"][-1] if R["open_ms"] else None), R["retry"], R["ctype"], R["chunked"]))
            rd.join(10)
            # resume: user 0 again with Last-Event-ID = its stream's ready cursor (before the load):
            # the compacted log has one record for its thread, the latest; expect exactly that
            if R.get("ready_cursor_0"):
                async def resume():
                    loop = asyncio.get_running_loop()
                    got = []
                    t = time.monotonic()
                    tr, st_ = await loop.create_connection(
                        lambda: Stream(users[0][0], users[0][1], got, R["ready_cursor_0"]), "127.0.0.1", port)
                    await asyncio.wait_for(st_.ready, 10)
                    await asyncio.sleep(0.5)
                    tr.close()
                    return len(got), st_.other, st_.ready.done(), time.monotonic() - t
                n_got, n_other, _, dt = asyncio.run(resume())
                fig("resume last_event_id_events=%d other=%d expected=1 ok=%s" % (
                    n_got, n_other, "yes" if n_got == 1 and n_other == 0 else "NO"))
        wr.join(10)
        # the server's own output (warnings, errors) during the run
        server_stderr_fig(fig, err_path)
        runs.close()
        summary(runs_path, os.path.join(res_dir, "summary.md"))
        log("results: " + res_dir)
    finally:
        teardown(server, work, KEEP, log)


def summary(runs_path, out_path):
    import re
    lines = open(runs_path).read().splitlines()

    def kv(prefix):
        for ln in lines:
            if ln.startswith("fig " + prefix + " "):
                return dict(re.findall(r'(\w+)=("[^"]*"|\S+)', ln))
        return {}
    L, S, D, T, O, I = kv("load"), kv("server_load"), kv("delivery"), kv("latency"), kv("streams"), kv("idle_streams")
    out = ["# Events bench (target: %d streams, %g appends/s: every event delivered, p99 commit-to-delivery "
           "<= 100 ms, RSS <= 64 MB)" % (USERS, RATE), ""]
    out += [ln for ln in lines if ln.startswith("#")] + [""]
    out.append("| figure | value | target |")
    out.append("|---|---|---|")
    if O:
        out.append("| streams open | %s of %d in %s s | %d |" % (O["opened"], USERS, O["secs"], USERS))
    out.append("| appends acknowledged | %s of %s (%s) | |" % (L.get("ok"), L.get("appends"), L.get("statuses")))
    out.append("| achieved append rate | %s/s over %s s (load generator kept up: %s) | %g/s |"
               % (L.get("rate"), L.get("secs"), L.get("kept_up"), RATE))
    out.append("| appends sent late (all %d connections awaiting answers) p99 / max | %s / %s ms | |"
               % (CONNS, L.get("sched_lag_p99_ms"), L.get("sched_lag_max_ms")))
    out.append("| append answer p50 / p99 / max | %s / %s / %s ms | |" % (L.get("ack_p50_ms"), L.get("ack_p99_ms"),
                                                                      L.get("ack_max_ms")))
    if D:
        out.append("| change events received (own thread) | %s | |" % D["events"])
        out.append("| acknowledged appends with no later event | %s | 0 |" % D["undelivered"])
        out.append("| ack -> event p50 / p99 / max | %s / %s / %s ms | p99 <= 100 ms |" % (
            T["ack_to_event_p50_ms"], T["ack_to_event_p99_ms"], T["ack_to_event_max_ms"]))
        out.append("| send -> event p50 / p99 / max | %s / %s / %s ms | |" % (
            T["send_to_event_p50_ms"], T["send_to_event_p99_ms"], T["send_to_event_max_ms"]))
    out.append("| server peak RSS (sampled VmRSS / VmHWM since setup) | %.1f / %.1f MiB | <= 64 MB (61.0 MiB) |" % (
        int(S.get("vmrss_max_kb", 0)) / 1024, int(S.get("vmhwm_kb", 0)) / 1024))
    if I:
        out.append("| server RSS with the streams open, idle | %.1f MiB, %s threads | |" % (
            int(I["vmrss_kb"]) / 1024, I["threads"]))
    if "rss_anon_end_kb" in S:
        out.append("| server RSS at the end: anonymous / file / shared memory | %.1f / %.1f / %.1f MiB | |" % (
            int(S["rss_anon_end_kb"]) / 1024, int(S["rss_file_end_kb"]) / 1024, int(S["rss_shmem_end_kb"]) / 1024))
    out.append("| server threads (max) | %s | |" % S.get("threads_max"))
    out.append("| server CPU during the load | %s s (%s%% of one core) | |" % (S.get("cpu_s"), S.get("cpu_pct")))
    out.append("| client loop lag p99 (writer / reader) | %s / %s ms | |" % (
        L.get("writer_loop_lag_p99_ms"), T.get("reader_loop_lag_p99_ms", "-")))
    out.append("| client CPU (writer / reader) | %s / %s s | |" % (L.get("writer_cpu_s"), T.get("reader_cpu_s", "-")))
    out.append("")
    out.append("Every figure: runs.txt beside this file.")
    with open("/proc/loadavg") as f:
        out.append("\nLoad average at the end: %s (2 cores; the latency tails need an otherwise idle machine: "
                   "check the client loop lags above)." % " ".join(f.read().split()[:3]))
    out.append("\nKept up: the achieved rate is >= 97% of the target and the writer's own event-loop lag p99 is "
               "< 20 ms. A send is late when every connection still waits for an answer (the server's stall), "
               "or when the writer's loop lags.")
    if L.get("kept_up") == "NO":
        out.append("\nThe load generator did NOT keep up with the target rate: the figures are for %s appends/s."
                   % L.get("rate"))
    text = "\n".join(out) + "\n"
    open(out_path, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
