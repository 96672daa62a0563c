"""Upstream LLM faults (issue 5, Faults): an upstream that hangs, resets mid-stream, streams
garbage or is too slow, with `--llm-timeout 2`. For POST /api/chat (plain and streamed) and
POST /api/v1/chat-threads/{id}/complete: an answer within a bounded time (timeout + 3 s), a
clean error (502/504 with {"detail"}, or `event: error` once a stream has started), the user's
message kept, and the worker freed: 16 hanging requests at once all end in time and /healthz
stays fast while they wait."""

import os
import socket
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
import fake_llm  # noqa: E402
from cv import expect, expect_error  # noqa: E402
from cvstats import record_stat  # noqa: E402

TEST_TIMEOUT = 240
T = "/api/v1/chat-threads"
LLM_TIMEOUT = 2
BOUND = LLM_TIMEOUT + 3.0
FAKE = None
COUNT = {"requests": 0}


def setup_module():
    global FAKE
    FAKE = fake_llm.FakeLLM().start()


def teardown_module():
    if FAKE:
        FAKE.stop()


def stream_post(srv, token, path, body):
    """POST with stream:true; returns (status, raw text) read until the server closes."""
    import json
    data = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=BOUND + 10)
    try:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (path.encode(), token.encode(), len(data), data))
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    finally:
        s.close()
    st = int(got.split(b" ", 2)[1]) if got.startswith(b"HTTP/1.") else None
    return st, got.decode("utf-8", "replace")


def check_variant(variant, want_status):
    with cv.Server(args=["--llm-url", FAKE.variant_url(variant), "--llm-timeout", str(LLM_TIMEOUT)]) as srv:
        _, tok, _ = cv.new_user(srv, "llm-" + variant)
        c = cv.Client(srv, tok, timeout=BOUND + 10)
        # /api/chat, not streamed
        cid = str(uuid.uuid4())
        t0 = time.monotonic()
        r = c.post("/api/chat", json={"chat_id": cid, "message": "keep me %s" % variant})
        dt = time.monotonic() - t0
        COUNT["requests"] += 1
        assert r.status in want_status, "%s: /api/chat %r" % (variant, r)
        expect_error(r, r.status, variant)
        assert dt < BOUND, "%s: /api/chat took %.1fs" % (variant, dt)
        h = expect(c.get("/api/chat-history"), 200).json
        e = [x for x in h["items"] if x["chat_id"] == cid]
        assert e and e[0]["messages"][0] == {"role": "user", "content": "keep me %s" % variant}, \
            "%s: the user's message was not kept: %r" % (variant, h)
        # /api/chat streamed
        cid2 = str(uuid.uuid4())
        t0 = time.monotonic()
        st, text = stream_post(srv, tok, "/api/chat", {"chat_id": cid2, "message": "stream %s" % variant,
                                                       "stream": True})
        dt2 = time.monotonic() - t0
        COUNT["requests"] += 1
        assert dt2 < BOUND, "%s: streamed /api/chat took %.1fs" % (variant, dt2)
        if st == 200:
            assert "event: error" in text, "%s: stream ended without an error event: %r" % (variant, text[-400:])
            assert "event: done" not in text, text[-400:]
        else:
            assert st in want_status, "%s: streamed: %s %r" % (variant, st, text[:300])
        h = expect(c.get("/api/chat-history"), 200).json
        assert any(x["chat_id"] == cid2 and x["messages"][0]["content"] == "stream %s" % variant
                   for x in h["items"]), "%s: streamed user message not kept" % variant
        # /complete on a thread
        tid = expect(c.post(T, json={"title": "t"}), 201).json["id"]
        t0 = time.monotonic()
        r = c.post("%s/%d/complete" % (T, tid), json={"content": "complete %s" % variant})
        dt3 = time.monotonic() - t0
        COUNT["requests"] += 1
        assert r.status in want_status and dt3 < BOUND, "%s: /complete %r in %.1fs" % (variant, r, dt3)
        th = expect(c.get("%s/%d" % (T, tid)), 200).json
        assert th["messages"][0] == {"role": "user", "content": "complete %s" % variant}, th
        c.close()
        return max(dt, dt2, dt3)


def test_upstream_hangs_504():
    """Upstream never answers: /api/chat, streamed /api/chat, /complete end within timeout+3 s with 504 (or an error event); user messages kept."""
    dt = check_variant("hang", (504,))
    print("  hang: slowest answer %.1fs (timeout %ds)" % (dt, LLM_TIMEOUT))


def test_upstream_resets_502():
    """Upstream resets mid-stream (TCP RST): 502 / error event, user messages kept."""
    check_variant("reset", (502,))


def test_upstream_garbage_502():
    """Upstream streams binary junk and HTML: 502 / error event, user messages kept."""
    check_variant("garbage", (502,))


def test_upstream_nul_is_502_and_nothing_saved():
    """Upstream sends U+0000 in a delta ("before\\u0000after"), streamed or as one JSON answer: 502 / error event, never a reply cut at the NUL saved with a 200; user messages kept."""
    for variant in ("nul", "nuljson"):
        check_variant(variant, (502,))
        with cv.Server(args=["--llm-url", FAKE.variant_url(variant), "--llm-timeout", str(LLM_TIMEOUT)]) as srv:
            _, tok, _ = cv.new_user(srv, "llm-nul")
            c = cv.Client(srv, tok, timeout=BOUND + 10)
            tid = expect(c.post(T, json={"title": "t"}), 201).json["id"]
            r = c.post("%s/%d/complete" % (T, tid), json={"content": "say it"})
            expect_error(r, 502, variant)
            th = expect(c.get("%s/%d" % (T, tid)), 200).json
            assert [m["role"] for m in th["messages"]] == ["user"], \
                "%s: an assistant reply was saved: %r" % (variant, th["messages"])
            # streamed: the error event, no done event, nothing saved
            st, text = stream_post(srv, tok, "%s/%d/complete" % (T, tid), {"content": "again", "stream": True})
            if st == 200:
                assert "event: error" in text and "event: done" not in text, text[-400:]
            else:
                assert st == 502, "%s streamed /complete: %s %r" % (variant, st, text[:300])
            th = expect(c.get("%s/%d" % (T, tid)), 200).json
            assert all(m["role"] == "user" for m in th["messages"]), \
                "%s: an assistant reply was saved: %r" % (variant, th["messages"])
            assert not any("before" in m["content"] for m in th["messages"]), th["messages"]
            c.close()


def test_upstream_too_slow_504():
    """Upstream slower than --llm-timeout (1 s per delta): 504 / error event, user messages kept."""
    check_variant("slow", (504,))


def test_hanging_upstream_frees_workers():
    """16 hanging upstream calls at once: all 504 in time, /healthz under 1 s meanwhile, then 24 parallel requests served; 16 user messages kept."""
    with cv.Server(args=["--llm-url", FAKE.variant_url("hang"), "--llm-timeout", str(LLM_TIMEOUT),
                         "--threads", "24"]) as srv:
        _, tok, _ = cv.new_user(srv, "llm-many")
        n = 16
        res = [None] * n

        def one(i):
            t0 = time.monotonic()
            r = cv.request(srv, "POST", "/api/chat", json={"message": "many %d" % i}, token=tok,
                           timeout=BOUND + 20)
            res[i] = (r.status, time.monotonic() - t0)

        ts = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
        for t in ts:
            t.start()
        time.sleep(0.5)
        worst = 0.0
        for _ in range(3):
            t0 = time.monotonic()
            expect(cv.request(srv, "GET", "/healthz", timeout=5), 200)
            worst = max(worst, time.monotonic() - t0)
            time.sleep(0.3)
        for t in ts:
            t.join(BOUND + 30)
        assert all(r is not None for r in res), "some requests never ended: %r" % res
        assert all(s == 504 for s, _ in res), res
        slow = max(d for _, d in res)
        assert slow < BOUND + 2, "16 hanging upstream calls: slowest %.1fs" % slow
        assert worst < 1.0, "healthz took %.2fs while 16 upstream calls hung" % worst
        COUNT["requests"] += n
        # all workers free again: 24 quick requests at once
        rs = cv.parallel(lambda: cv.request(srv, "GET", "/healthz", timeout=5), [()] * 24)
        assert all(getattr(r, "status", None) == 200 for r in rs), rs
        h = expect(cv.request(srv, "GET", "/api/chat-history?limit=100", token=tok), 200).json
        assert h["total"] == n, "user messages kept: %d of %d" % (h["total"], n)
    record_stat("llm_faults", requests=COUNT["requests"])
