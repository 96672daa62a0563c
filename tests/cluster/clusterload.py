#!/usr/bin/env python3
"""The HTTP side of tests/cluster/test_serve.py, run inside a node's network namespace (the
test process cannot reach them): `ip netns exec NS python3 clusterload.py VERB ...`.

    register HOST:PORT EMAIL PASSWORD     print a bearer token of a new account
    load HOST:PORT TOKEN TAG OUT STOP     write until the file STOP exists, one JSON line per
                                          write in OUT: {"k": "t"|"m", "v": value, "thread": id,
                                          "ok": acknowledged, "status": HTTP status or 0,
                                          "t0": start, "t1": end (time.time())}
    export HOST:PORT TOKEN                print {title: [message contents]} of every thread
    write HOST:PORT TOKEN TITLE           one thread created; print the status and the
                                          seconds it took (the partition test's minority)
    get HOST:PORT TOKEN PATH              print {"status": ..., "body": ...} of one GET

Every write has a unique value (TAG-t<n> for a thread's title, TAG-m<n> for a message), so the
test can tell an acknowledged write lost (value absent) from one applied twice (value twice).
"""

import http.client
import json
import os
import sys
import time

TIMEOUT = 30


def call(hostport, method, path, token=None, body=None, timeout=TIMEOUT):
    host, port = hostport.rsplit(":", 1)
    if method == "GET":            # 503 means "try again" (the leader changed): reads retry
        for _ in range(60):
            st, js = call1(host, port, method, path, token, body, timeout)
            if st != 503:
                return st, js
            time.sleep(0.5)
        return st, js
    return call1(host, port, method, path, token, body, timeout)


def call1(host, port, method, path, token, body, timeout):
    c = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        c.request(method, path, body=None if body is None else json.dumps(body),
                  headers=headers)
        r = c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)
    finally:
        c.close()


def register(hostport, email, password):
    st, js = call(hostport, "POST", "/api/v1/auth/register",
                  body={"email": email, "password": password})
    assert st == 201, (st, js)
    st, js = call(hostport, "POST", "/api/v1/auth/login",
                  body={"email": email, "password": password})
    assert st == 200, (st, js)
    print(js["access_token"])


def load(hostport, token, tag, out, stop):
    n = 0
    thread = None
    with open(out, "a") as f:
        while not os.path.exists(stop):
            n += 1
            make = thread is None or n % 10 == 0
            value = "%s-%s%d" % (tag, "t" if make else "m", n)
            t0 = time.time()
            status = 0
            js = None
            try:
                if make:
                    status, js = call(hostport, "POST", "/api/v1/chat-threads", token,
                                      {"title": value})
                else:
                    status, js = call(hostport, "POST", "/api/v1/chat-threads/%d/messages" % thread,
                                      token, {"role": "user", "content": value})
            except (OSError, http.client.HTTPException, ValueError):
                status = 0
            ok = status in (200, 201)
            rec = {"k": "t" if make else "m", "v": value, "thread": thread, "ok": ok,
                   "status": status, "t0": t0, "t1": time.time()}
            if make and ok:
                thread = js["id"]
                rec["thread"] = thread
            f.write(json.dumps(rec) + "\n")
            f.flush()
            if not ok:
                time.sleep(0.1)


def export(hostport, token):
    out = {}
    before = None
    while True:
        path = "/api/v1/chat-threads?limit=100" + ("&cursor=%s" % before if before else "")
        host, port = hostport.rsplit(":", 1)
        for _ in range(60):
            c = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
            c.request("GET", path, headers={"Authorization": "Bearer " + token})
            r = c.getresponse()
            page = json.loads(r.read())
            nxt = r.getheader("X-Next-Cursor")
            c.close()
            if r.status != 503:
                break
            time.sleep(0.5)
        assert r.status == 200, (r.status, page)
        for t in page:
            st, full = call(hostport, "GET", "/api/v1/chat-threads/%d" % t["id"], token)
            assert st == 200, (st, full)
            out.setdefault(full["title"], []).append([m["content"] for m in full["messages"]])
        if not nxt:
            break
        before = nxt
    print(json.dumps(out, sort_keys=True))


def write(hostport, token, title):
    t0 = time.time()
    try:
        st, _ = call(hostport, "POST", "/api/v1/chat-threads", token, {"title": title}, timeout=60)
    except (OSError, http.client.HTTPException):
        st = 0
    print(json.dumps({"status": st, "seconds": time.time() - t0}))


def get(hostport, token, path):
    st, js = call(hostport, "GET", path, token)
    print(json.dumps({"status": st, "body": js}))


if __name__ == "__main__":
    verb, args = sys.argv[1], sys.argv[2:]
    {"register": register, "load": load, "export": export, "write": write, "get": get}[verb](*args)
