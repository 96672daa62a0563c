#!/usr/bin/env python3
"""Data for bench/search.sh (python3 stdlib only): generated text, filled through the API of a
running chatvault (POST /api/v1/chat-threads/import), several clients in parallel.

  search_data.py main BASE META [U_THREADS OTHERS OTHER_THREADS MSGS]
        user U with U_THREADS (10000) threads of MSGS (100) messages and OTHERS (50) users of
        OTHER_THREADS (100) threads each: English-like text (Zipf over ~20,000 pseudo-words
        and English stop words, 20-80 words a message, user/assistant alternating); the rare
        word RARE planted in exactly 20 of U's messages and in 30 messages of 10 other users.
        Writes META (JSON: emails, password, planted places, counts, fill time).
  search_data.py cjk BASE META [THREADS MSGS]      one user, THREADS (1000) threads of MSGS
        (100) messages of generated Japanese/Chinese text (no spaces; Han, kana, 、。)
  search_data.py pages BASE META [THREADS]         one user, THREADS (100000) threads of 2 short
        messages (the deep-page lists)
  search_data.py appendset BASE META [THREADS MSGS]  one user, THREADS (1000) threads of MSGS (20)
        messages plus one hot thread; META gets their ids
  search_data.py login BASE META [WHO]             a fresh token of META's user WHO (default U)
  search_data.py check-search BASE TOKEN Q N       GET /api/v1/search?q=Q&limit=20: exit 0 when
        total == N and min(N, 20) items come back; prints "total=.. items=.. ms=.."
  search_data.py walk BASE TOKEN PAGE [LIMIT]      follow X-Next-Cursor from page 1 to page PAGE
        of GET /api/v1/chat-threads?limit=LIMIT (20); prints the cursor of page PAGE, and
        "walk ..." timing on stderr
  search_data.py fillfig META | get META KEY | searchcheck | listcheck    helpers of search.sh
  search_data.py sample [N]                        N (5) generated messages of each kind, and
        the mean bytes of 20,000 (a dry run of the generator)
Env: JOBS (3) parallel import clients; BATCH threads per import request (main: 100 ~ 3 MB).
The data depend only on GEN_VERSION and the seeds: a change to the generator must bump it
(bench/search.sh keys its cached databases by it).
"""
import bisect
import http.client
import json
import os
import random
import sys
import time
import urllib.parse
from concurrent.futures import ProcessPoolExecutor

GEN_VERSION = 1
RARE = "zyxolotl"
PASSWORD = "bench-password-123"
U_HITS = 20                      # U's messages holding RARE
OTHER_HITS = (10, 3)             # other users with RARE, messages each

STOP = ("the of and to a in is it you that he was for on are with as I his they be at one have "
        "this from or had by not word but what some we can out other were all there when up use "
        "your how said an each she which do their time if will way about many then them write "
        "would like so these her long make thing see him two has look more day could go come did "
        "number sound no most people my over know water than call first who may down side been "
        "now find any new work part take get place made live where after back little only round "
        "man year came show every good me give our under name very through just form sentence "
        "great think say help low line differ turn cause much mean before move right boy old too "
        "same tell does set three want air well also play small end put home read hand port large "
        "spell add even land here must big high such follow act why ask men change went light "
        "kind off need house picture try us again animal point mother world near build self earth "
        "father").split()


# ---------------------------------------------------------------- text generation

def _vocab():
    """~20,000 pseudo-words (shorter ones more frequent) after the stop words; Zipf s=1.0."""
    rnd = random.Random(1103)
    cons = "b c d f g h j k l m n p r s t v w z br ch cl dr fl gr pl pr sh st th tr".split()
    vows = "a e i o u ai ea ee ie io oa ou".split()
    ends = ["", "", "", "n", "r", "s", "t", "l", "nd", "st", "ng", "ck", "rt", "sm"]
    words, seen = [], set(STOP) | {RARE}
    while len(words) < 20000:
        nsyl = rnd.choices((1, 2, 3, 4), (2, 5, 3, 1))[0]
        w = "".join(rnd.choice(cons) + rnd.choice(vows) for _ in range(nsyl)) + rnd.choice(ends)
        if len(w) >= 3 and w not in seen and "zyx" not in w:
            seen.add(w)
            words.append(w)
    words.sort(key=lambda w: (len(w), rnd.random()))
    # a stable shuffle of neighbours so rank does not follow length strictly
    for i in range(0, len(words) - 1, 2):
        if rnd.random() < 0.5:
            words[i], words[i + 1] = words[i + 1], words[i]
    vocab = STOP + words
    cum, t = [], 0.0
    for r in range(1, len(vocab) + 1):
        t += 1.0 / r
        cum.append(t)
    return vocab, cum


def _cjk_vocab():
    """~10,000 CJK 'words' of 1-3 characters (Han from a fixed pool, some kana) + particles."""
    rnd = random.Random(2207)
    han = [chr(c) for c in rnd.sample(range(0x4E00, 0x9FA6), 3000)]
    hira = [chr(c) for c in range(0x3042, 0x3094)]
    kata = [chr(c) for c in range(0x30A2, 0x30F4)]
    particles = list("のはがをにでともへやか") + ["です", "ます", "した", "する", "ない", "から", "まで", "この", "その"]
    words, seen = [], set(particles)
    while len(words) < 10000:
        k = rnd.random()
        if k < 0.65:
            w = "".join(rnd.choice(han) for _ in range(rnd.choices((1, 2, 3), (3, 6, 1))[0]))
        elif k < 0.85:
            w = rnd.choice(han) + "".join(rnd.choice(hira) for _ in range(rnd.randint(1, 2)))
        else:
            w = "".join(rnd.choice(kata) for _ in range(rnd.randint(2, 5)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    vocab = particles + words
    cum, t = [], 0.0
    for r in range(1, len(vocab) + 1):
        t += 1.0 / r
        cum.append(t)
    return vocab, cum


_V = None


def vocab(kind):
    global _V
    if _V is None or _V[0] != kind:
        _V = (kind,) + (_vocab() if kind == "en" else _cjk_vocab())
    return _V[1], _V[2]


def en_message(rnd, plant=False):
    words, cum = vocab("en")
    total = cum[-1]
    n = rnd.randint(20, 80)
    r = rnd.random
    w = [words[bisect.bisect(cum, r() * total)] for _ in range(n)]
    if plant:
        w[rnd.randrange(n)] = RARE
    out, start = [], True
    for i, x in enumerate(w):
        if start:
            x = x[:1].upper() + x[1:]
            start = False
        if i == n - 1:
            x += "."
        elif r() < 0.08:
            x += "."
            start = True
        elif r() < 0.06:
            x += ","
        out.append(x)
    return " ".join(out)


def cjk_message(rnd):
    words, cum = vocab("cjk")
    total = cum[-1]
    n = rnd.randint(20, 80)
    r = rnd.random
    out = []
    for i in range(n):
        out.append(words[bisect.bisect(cum, r() * total)])
        if i == n - 1:
            out.append("。")
        elif r() < 0.07:
            out.append("。")
        elif r() < 0.08:
            out.append("、")
    return "".join(out)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def gen_threads(kind, user_seed, first, count, msgs, plants=(), t_base=1.7e9):
    """Threads first..first+count-1 of one user: a list of import items. plants: set of
    (thread, index) holding RARE."""
    items = []
    for j in range(first, first + count):
        rnd = random.Random(user_seed * 1_000_003 + j)
        ms = []
        for i in range(msgs):
            if kind == "en":
                text = en_message(rnd, (j, i) in plants)
            elif kind == "cjk":
                text = cjk_message(rnd)
            else:   # pages: short fixed text
                text = f"message {i} of thread {j}: " + en_message(rnd)[:60]
            ms.append({"role": "user" if i % 2 == 0 else "assistant", "content": text})
        if kind == "cjk":
            title = cjk_message(rnd)[:12]
        else:
            title = " ".join(en_message(rnd).split()[:4]).rstrip(".,")
        t = t_base + j * 60
        items.append({"client_id": f"t{j}", "title": title or "thread", "messages": ms,
                      "created_at": iso(t), "updated_at": iso(t + 30)})
    return items


# ---------------------------------------------------------------- HTTP

class Client:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def call(self, method, path, body=None, token=None, expect=(200, 201, 204)):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        hdrs = {}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        if token:
            hdrs["Authorization"] = "Bearer " + token
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
                self.conn.request(method, path, body=data, headers=hdrs)
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.conn = None
                if attempt == 2:
                    raise
        if expect is not None and r.status not in expect:
            raise SystemExit(f"{method} {path} -> {r.status}: {raw[:300]!r}")
        return r.status, (json.loads(raw) if raw[:1] in (b"{", b"[") else None), r


def register(base, email):
    c = Client(base)
    c.call("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD})
    return login(base, email)


def login(base, email):
    _, tok, _ = Client(base).call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
    return tok["access_token"]


def _job(args):
    """One import request: (base, token, kind, user_seed, first, count, msgs, plants)."""
    base, token, kind, seed, first, count, msgs, plants = args
    items = gen_threads(kind, seed, first, count, msgs, set(map(tuple, plants)))
    body = json.dumps(items, ensure_ascii=False).encode()
    _, res, _ = Client(base).call("POST", "/api/v1/chat-threads/import", body, token=token)
    if res["imported"] + res["skipped"] != count:
        raise SystemExit(f"import: expected {count}, got {res}")
    return {"imported": res["imported"], "bytes": len(body),
            "ids": [t["id"] for t in res["threads"]]}


def run_jobs(jobs, label):
    n = int(os.environ.get("JOBS", "3"))
    t0 = time.time()
    done, nbytes, ids = 0, 0, []
    with ProcessPoolExecutor(max_workers=n) as ex:
        for k, r in enumerate(ex.map(_job, jobs)):
            done += r["imported"]
            nbytes += r["bytes"]
            ids.extend(r["ids"])
            if (k + 1) % max(1, len(jobs) // 10) == 0:
                print(f"fill {label}: {k + 1}/{len(jobs)} requests, {time.time() - t0:.0f} s",
                      file=sys.stderr)
    return time.time() - t0, done, nbytes, ids


def stamp():
    return f"{os.getpid()}-{int(time.time() * 1000)}"


def cmd_main(base, meta, u_threads=10000, others=50, other_threads=100, msgs=100):
    rnd = random.Random(42)
    batch = int(os.environ.get("BATCH", "100"))
    s = stamp()
    u_email = f"search-u-{s}@bench.test"
    o_emails = [f"search-o{k}-{s}@bench.test" for k in range(others)]
    u_tok = register(base, u_email)
    o_toks = [register(base, e) for e in o_emails]
    places = set()
    while len(places) < U_HITS:
        places.add((rnd.randrange(u_threads), rnd.randrange(msgs)))
    u_plants = sorted(places)
    o_plants = {}
    for k in rnd.sample(range(others), min(OTHER_HITS[0], others)):
        pl = set()
        while len(pl) < OTHER_HITS[1]:
            pl.add((rnd.randrange(other_threads), rnd.randrange(msgs)))
        o_plants[k] = sorted(pl)
    jobs = []
    # interleave U's requests with the others' so every client stays busy to the end
    for first in range(0, u_threads, batch):
        cnt = min(batch, u_threads - first)
        pl = [p for p in u_plants if first <= p[0] < first + cnt]
        jobs.append((base, u_tok, "en", 1, first, cnt, msgs, pl))
    o_jobs = []
    for k in range(others):
        for first in range(0, other_threads, batch):
            cnt = min(batch, other_threads - first)
            pl = [p for p in o_plants.get(k, []) if first <= p[0] < first + cnt]
            o_jobs.append((base, o_toks[k], "en", 1000 + k, first, cnt, msgs, pl))
    step = max(1, len(jobs) // max(1, len(o_jobs)))
    mixed = []
    for i, j in enumerate(jobs):
        mixed.append(j)
        if i % step == step - 1 and o_jobs:
            mixed.append(o_jobs.pop())
    mixed.extend(o_jobs)
    secs, n, nbytes, _ = run_jobs(mixed, "main")
    m = {"gen_version": GEN_VERSION, "rare": RARE, "password": PASSWORD,
         "u": u_email, "others": o_emails, "u_plants": u_plants,
         "other_plants": {o_emails[k]: v for k, v in o_plants.items()},
         "u_threads": u_threads, "msgs": msgs, "other_threads": other_threads,
         "threads": n, "messages": n * msgs, "request_bytes": nbytes,
         "fill_secs": round(secs, 1), "jobs": int(os.environ.get("JOBS", "3")), "batch": batch}
    json.dump(m, open(meta, "w"), indent=1)
    print(f"fill main: {n} threads, {n * msgs} messages, {nbytes / 1e6:.0f} MB of requests in "
          f"{secs:.1f} s ({n * msgs / secs:,.0f} messages/s)")


def cmd_simple(kind, base, meta, threads, msgs, batch):
    email = f"search-{kind}-{stamp()}@bench.test"
    tok = register(base, email)
    jobs = [(base, tok, "en" if kind == "appendset" else kind, 7, f, min(batch, threads - f), msgs, [])
            for f in range(0, threads, batch)]
    secs, n, nbytes, ids = run_jobs(jobs, kind)
    m = {"gen_version": GEN_VERSION, "u": email, "password": PASSWORD, "threads": n,
         "messages": n * msgs, "request_bytes": nbytes, "fill_secs": round(secs, 1),
         "jobs": int(os.environ.get("JOBS", "3")), "batch": batch}
    if kind == "appendset":
        _, hot, _ = Client(base).call("POST", "/api/v1/chat-threads/import",
                                      gen_threads("en", 8, 0, 1, msgs), token=tok)
        m["ids"] = ids
        m["hot"] = hot["threads"][0]["id"]
    json.dump(m, open(meta, "w"), indent=1)
    print(f"fill {kind}: {n} threads, {n * msgs} messages, {nbytes / 1e6:.0f} MB of requests in "
          f"{secs:.1f} s ({n * msgs / secs:,.0f} messages/s)")


def cmd_check_search(base, token, q, n):
    t0 = time.time()
    _, res, _ = Client(base).call("GET", "/api/v1/search?" + urllib.parse.urlencode({"q": q, "limit": 20}),
                                  token=token)
    ms = (time.time() - t0) * 1000
    total, items = res.get("total"), len(res.get("items", []))
    print(f"total={total} items={items} ms={ms:.1f}")
    sys.exit(0 if total == n and items == min(n, 20) else 1)


def cmd_walk(base, token, page, limit=20):
    c = Client(base)
    t0 = time.time()
    cur = None
    for p in range(1, page):
        path = f"/api/v1/chat-threads?limit={limit}" + (f"&cursor={urllib.parse.quote(cur)}" if cur else "")
        _, rows, r = c.call("GET", path, token=token)
        cur = r.getheader("X-Next-Cursor")
        if not cur or len(rows) != limit:
            raise SystemExit(f"walk: page {p} gave {len(rows)} rows, next cursor {cur!r}")
    secs = time.time() - t0
    print(f"walk: {page - 1} pages of {limit} in {secs:.1f} s ({(page - 1) / secs:,.0f} pages/s)",
          file=sys.stderr)
    print(cur)


def cmd_sample(n=5):
    rnd = random.Random(5)
    for _ in range(n):
        print("en :", en_message(rnd))
    for _ in range(n):
        print("cjk:", cjk_message(rnd))
    for kind, f in (("en", en_message), ("cjk", cjk_message)):
        t0 = time.time()
        tot = sum(len(f(rnd).encode()) for _ in range(20000))
        print(f"{kind}: mean {tot / 20000:.0f} bytes a message, {20000 / (time.time() - t0):,.0f} messages/s")


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    cmd = a[0]
    if cmd == "main":
        cmd_main(a[1], a[2], *[int(x) for x in a[3:7]])
    elif cmd == "cjk":
        cmd_simple("cjk", a[1], a[2], int(a[3]) if len(a) > 3 else 1000, int(a[4]) if len(a) > 4 else 100,
                   int(os.environ.get("BATCH", "100")))
    elif cmd == "pages":
        cmd_simple("pages", a[1], a[2], int(a[3]) if len(a) > 3 else 100000, 2,
                   int(os.environ.get("BATCH", "2000")))
    elif cmd == "appendset":
        cmd_simple("appendset", a[1], a[2], int(a[3]) if len(a) > 3 else 1000, int(a[4]) if len(a) > 4 else 20,
                   int(os.environ.get("BATCH", "200")))
    elif cmd == "login":
        m = json.load(open(a[2]))
        who = a[3] if len(a) > 3 else "u"
        print(login(a[1], m[who] if who in m else who))
    elif cmd == "check-search":
        cmd_check_search(a[1], a[2], a[3], int(a[4]))
    elif cmd == "walk":
        cmd_walk(a[1], a[2], int(a[3]), int(a[4]) if len(a) > 4 else 20)
    elif cmd == "fillfig":        # META -> the fill's figures as key=value
        m = json.load(open(a[1]))
        print(f"secs={m['fill_secs']} " + " ".join(f"{k}={m.get(k, '?')}" for k in
                                                  ("threads", "messages", "request_bytes", "jobs")))
    elif cmd == "get":            # META KEY -> its value (a list comma-separated)
        v = json.load(open(a[1]))[a[2]]
        print(",".join(map(str, v)) if isinstance(v, list) else v)
    elif cmd == "searchcheck":    # a search answer on stdin -> total=.. items=..
        r = json.load(sys.stdin)
        print(f"total={r.get('total')} items={len(r.get('items', []))}")
    elif cmd == "listcheck":      # a list answer on stdin -> rows,first id,last id
        r = json.load(sys.stdin)
        print(f"{len(r)},{r[0]['id'] if r else '-'},{r[-1]['id'] if r else '-'}")
    elif cmd == "sample":
        cmd_sample(int(a[1]) if len(a) > 1 else 5)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
