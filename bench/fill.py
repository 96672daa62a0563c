#!/usr/bin/env python3
"""Data setup for bench/run.sh (python3 stdlib only). Talks HTTP to a running chatvault.

  fill.py account BASE TAG                  register + login a new user; prints its token
  fill.py threads BASE TOKEN N [MSGS [CHARS [BATCH]]]
                                            import N threads (MSGS messages of ~CHARS chars each)
                                            via POST /api/v1/chat-threads/import in batches of
                                            BATCH (default 1000, kept under the 1 MiB body limit);
                                            prints the new ids, comma-separated
  fill.py sizes BASE TOKEN                  message_count of every thread of the user (via the
                                            list): prints "threads=N min=.. max=.. mean=.."
  fill.py has-chat BASE                     exit 0 when POST /api/chat exists (not 404/405)
  fill.py character BASE TOKEN              create a character; prints its id
  fill.py chat BASE TOKEN CHARACTER_ID      create one chat via POST /api/chat; prints chat_id
  fill.py sql DB QUERY                      first row of a read-only query, space-separated
  fill.py legacy OUT USERS CHATS MSGS CHARS [EMAIL_PREFIX]
                                            write a JSON Lines file of legacy user rows
                                            (`chatvault import-legacy` input)
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

PASSWORD = "bench-password-123"
FILLER = ("The quick brown fox jumps over the lazy dog while the assistant explains "
          "how a write-ahead log keeps acknowledged writes safe across a crash. ")
MAX_BODY = int(os.environ.get("MAX_BODY", 1 << 20))   # the server's --max-body


def call(base, method, path, body=None, token=None, expect=(200, 201, 204), raw_body=None):
    data = raw_body if raw_body is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, raw, hdrs = r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        status, raw, hdrs = e.code, e.read(), e.headers
    if expect is not None and status not in expect:
        raise SystemExit(f"{method} {path} -> {status}: {raw[:300]!r}")
    return status, (json.loads(raw) if raw and raw[:1] in (b"{", b"[") else None), hdrs


def messages(n, chars, tag=""):
    out = []
    for i in range(n):
        text = (f"{tag}message {i}: " + FILLER * (chars // len(FILLER) + 2))[:chars]
        out.append({"role": "user" if i % 2 == 0 else "assistant", "content": text})
    return out


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def account(base, tag):
    email = f"bench-{tag}-{os.getpid()}-{int(time.time() * 1000)}@bench.test"
    call(base, "POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD})
    _, tok, _ = call(base, "POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
    print(tok["access_token"])


def threads(base, token, n, msgs=2, chars=100, batch=1000):
    ids = []
    t0 = time.time()
    base_t = time.time() - n - 10   # distinct updated_at per thread, all in the past
    msg = messages(msgs, chars)
    run = uuid.uuid4().hex[:8]
    i = 0
    while i < n:
        items = []
        for j in range(i, min(n, i + batch)):
            items.append({"client_id": f"bench-{run}-{j}", "title": f"bench thread {j}",
                          "messages": msg, "created_at": iso(base_t + j), "updated_at": iso(base_t + j)})
        body = json.dumps(items).encode()
        if len(body) > MAX_BODY:
            raise SystemExit(f"import batch of {len(items)} is {len(body)} bytes > MAX_BODY {MAX_BODY}: lower BATCH")
        _, res, _ = call(base, "POST", "/api/v1/chat-threads/import", token=token, raw_body=body)
        if res["imported"] != len(items):
            raise SystemExit(f"import: expected {len(items)} imported, got {res}")
        ids.extend(str(t["id"]) for t in res["threads"])
        i += len(items)
    print(f"fill: {n} threads x {msgs} msgs in {time.time() - t0:.1f}s", file=sys.stderr)
    print(",".join(ids))


def sizes(base, token):
    counts, off = [], 0
    while True:
        _, page, _ = call(base, "GET", f"/api/v1/chat-threads?limit=200&offset={off}", token=token)
        if not page:
            break
        counts.extend(t["message_count"] for t in page)
        off += len(page)
    if not counts:
        print("threads=0")
        return
    print(f"threads={len(counts)} min={min(counts)} max={max(counts)} mean={sum(counts) / len(counts):.0f}")


def has_chat(base):
    st, _, _ = call(base, "POST", "/api/chat", {}, expect=None)
    sys.exit(0 if st not in (404, 405) else 1)


def character(base, token):
    _, c, _ = call(base, "POST", "/api/characters",
                   {"name": "Bench Bot", "description": "a benchmark character",
                    "greeting": "Hello! I am the benchmark character."}, token=token)
    print(c["id"])


def chat(base, token, char_id):
    _, c, _ = call(base, "POST", "/api/chat",
                   {"character_id": int(char_id), "message": "hello, first message"}, token=token)
    print(c["chat_id"])


def legacy(out, users, chats, msgs, chars, prefix="legacy"):
    t0 = time.time()
    base_t = time.time() - 86400 * 30
    msg = messages(msgs, chars)
    with open(out, "w") as f:
        for u in range(users):
            hist = []
            for c in range(chats):
                t = base_t + u * chats + c
                hist.append({"chat_id": str(uuid.uuid4()), "character_id": None,
                             "character_name": "Legacy Character", "character_picture": "/img/c.png",
                             "scene_id": None, "scene_name": "Legacy Scene", "scene_picture": "/img/s.png",
                             "persona_id": None, "title": f"legacy chat {c}", "messages": msg,
                             "last_updated": iso(t), "created_at": iso(t - 60)})
            f.write(json.dumps({"id": u + 1, "email": f"{prefix}-{u}@bench.test",
                                "chat_history": hist}) + "\n")
    print(f"legacy: {users} users x {chats} chats x {msgs} msgs -> {out} "
          f"({os.path.getsize(out) / 1e6:.1f} MB, {time.time() - t0:.1f}s)", file=sys.stderr)


def sql(db, query):
    import sqlite3
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    row = con.execute(query).fetchone()
    print(" ".join(str(x) for x in row) if row else "")


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    cmd = a[0]
    if cmd == "account":
        account(a[1], a[2])
    elif cmd == "threads":
        threads(a[1], a[2], int(a[3]), *[int(x) for x in a[4:7]])
    elif cmd == "sizes":
        sizes(a[1], a[2])
    elif cmd == "has-chat":
        has_chat(a[1])
    elif cmd == "character":
        character(a[1], a[2])
    elif cmd == "chat":
        chat(a[1], a[2], a[3])
    elif cmd == "sql":
        sql(a[1], a[2])
    elif cmd == "legacy":
        legacy(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]), *a[6:7])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
