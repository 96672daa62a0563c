#!/usr/bin/env python3
"""Data for bench/export.sh (python3 stdlib only): one user holding THREADS threads of MSGS
messages (10,000 x 100 = 1,000,000 by default), filled through the API of a running chatvault
(POST /api/v1/chat-threads/import, BATCH threads per request, JOBS clients in parallel), plus
30 character chats, 3 personas and 2 characters of its own.

  export_data.py fill BASE META [THREADS MSGS]   fill, then write META (JSON: email, password,
        counts, fill seconds, the content bytes generated)
  export_data.py login BASE META                 print a fresh token of META's user
  export_data.py get META KEY                    print META[KEY]
  export_data.py check BASE TOKEN META           GET /api/v1/export once, parse it, compare its
        counts with META's; prints "threads=.. messages=.. chats=.. bytes=.."; exit 1 on a mismatch

Messages are generated text of 20..60 words (~220 bytes), user/assistant alternating, with
some non-ASCII (é, emoji, CJK) and quotes/backslashes/newlines so the JSON escaping is
exercised. The data depend only on GEN_VERSION and the seed (export.sh keys its cache by it).
"""
import http.client
import json
import os
import random
import sys
import time
import urllib.parse
from concurrent.futures import ProcessPoolExecutor

GEN_VERSION = 1
PASSWORD = "bench-password-123"
WORDS = ("the of and to in is it you that was for on are with as his they be at one have this "
         "from or had by word but what some we can out other were all there when up use your how "
         "said each she which do their time if will way about many then them write would like so "
         "these her long make thing see him two has look more day could go come did number sound "
         "people over know water than call first who may down side been now find new work part "
         "take get place made live where after back little only round man year came show every "
         "café naïve résumé \U0001F600 日本語 \"quoted\" back\\slash").split()


def conn(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=600)


def call(c, method, path, body=None, token=None):
    hdrs = {"Content-Type": "application/json"}
    if token:
        hdrs["Authorization"] = "Bearer " + token
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    c.request(method, path, body=data, headers=hdrs)
    r = c.getresponse()
    out = r.read()
    if r.status >= 300:
        raise SystemExit("%s %s -> %d %s" % (method, path, r.status, out[:300]))
    return json.loads(out) if out else None


def text(rng):
    n = rng.randint(20, 60)
    words = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.2:
        words[rng.randrange(n)] += "\n"
    return " ".join(words)


def batch(args):
    """Import threads [first, first+n) of the user; returns the content bytes generated."""
    base, token, first, n, msgs = args
    c = conn(base)
    items, nbytes = [], 0
    for i in range(first, first + n):
        rng = random.Random(i * 7919 + GEN_VERSION)
        m = []
        for j in range(msgs):
            t = text(rng)
            nbytes += len(t.encode("utf-8"))
            m.append({"role": "user" if j % 2 == 0 else "assistant", "content": t})
        items.append({"client_id": str(1000000 + i), "title": "Thread %d: %s" % (i, text(rng)[:40]),
                      "messages": m})
    call(c, "POST", "/api/v1/chat-threads/import", items, token)
    c.close()
    return nbytes


def fill(base, meta, threads=10000, msgs=100):
    t0 = time.time()
    email = "export-bench-%d@example.test" % int(t0)
    c = conn(base)
    call(c, "POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD,
                                               "display_name": "Export Bench"})
    token = call(c, "POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})["access_token"]
    personas = [call(c, "POST", "/api/personas", {"name": "Persona %d" % i}, token)
                for i in range(3)]
    chars = [call(c, "POST", "/api/characters", {"name": "Character %d" % i,
                                                 "description": "A bench character"}, token)
             for i in range(2)]
    nchat_msgs = 0
    for i in range(30):
        r = call(c, "POST", "/api/chat", {"character_id": chars[i % 2]["id"],
                                          "persona_id": personas[i % 3]["id"],
                                          "message": "Chat %d: hello" % i}, token)
        for j in range(4):
            call(c, "POST", "/api/chat", {"chat_id": r["chat_id"], "message": "more %d" % j}, token)
        nchat_msgs += 10
    c.close()                     # idle through the fill: the server would close it
    per = int(os.environ.get("BATCH", "100"))
    jobs = int(os.environ.get("JOBS", "2"))
    work = [(base, token, f, min(per, threads - f), msgs) for f in range(0, threads, per)]
    nbytes = 0
    with ProcessPoolExecutor(jobs) as ex:
        for k, b in enumerate(ex.map(batch, work)):
            nbytes += b
            if k % 20 == 0:
                print("fill: %d/%d batches, %.0f s" % (k + 1, len(work), time.time() - t0),
                      file=sys.stderr)
    out = {"gen_version": GEN_VERSION, "email": email, "password": PASSWORD, "threads": threads,
           "messages": threads * msgs, "chats": 30, "chat_messages": nchat_msgs, "personas": 3,
           "characters": 2, "content_bytes": nbytes, "fill_secs": round(time.time() - t0, 1)}
    with open(meta, "w") as f:
        json.dump(out, f)
    print("filled %d threads x %d messages (%d content bytes) in %.1f s" % (
        threads, msgs, nbytes, time.time() - t0))


def login(base, meta):
    m = json.load(open(meta))
    c = conn(base)
    print(call(c, "POST", "/api/v1/auth/login", {"email": m["email"], "password": m["password"]})["access_token"])


def check(base, token, meta):
    m = json.load(open(meta))
    c = conn(base)
    c.request("GET", "/api/v1/export", headers={"Authorization": "Bearer " + token})
    r = c.getresponse()
    body = r.read()
    js = json.loads(body)
    nmsg = sum(len(t["messages"]) for t in js["threads"])
    line = "threads=%d messages=%d chats=%d personas=%d characters=%d bytes=%d" % (
        len(js["threads"]), nmsg, len(js["chats"]), len(js["personas"]), len(js["characters"]),
        len(body))
    print(line)
    ok = (r.status == 200 and list(js)[0] == "format" and len(js["threads"]) == m["threads"]
          and nmsg == m["messages"] and len(js["chats"]) == m["chats"]
          and len(js["personas"]) == m["personas"] and len(js["characters"]) == m["characters"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "fill":
        fill(a[1], a[2], *[int(x) for x in a[3:5]])
    elif a[0] == "login":
        login(a[1], a[2])
    elif a[0] == "get":
        print(json.load(open(a[1]))[a[2]])
    elif a[0] == "check":
        check(a[1], a[2], a[3])
    else:
        raise SystemExit(__doc__)
