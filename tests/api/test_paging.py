"""Keyset paging on every list (contract v2, "Organize"; issue 11): the threads, the chat history
and the catalog answer X-Next-Cursor while more rows follow, and ?cursor= continues after the
last row sent, with the same filters. Walking the pages gives every row once, in order, even
while rows are added or moved to the top meanwhile; the last page has no header; a cursor
that is malformed, of another list, or combined with offset/page is a 422."""

import base64
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_422  # noqa: E402

SRV = None
T = "/api/v1/chat-threads"


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def walk(c, path, limit, key=lambda js: js, rows=lambda js: js, between=None, **query):
    """Follow X-Next-Cursor from the first page to the last. Returns (rows, pages)."""
    out, pages = [], 0
    q = dict(query, limit=limit)
    while True:
        r = expect(c.get(path + "?" + urllib.parse.urlencode(q)), 200, "%s %r" % (path, q))
        page = rows(r.json)
        assert len(page) <= limit, r
        out += [key(x) for x in page]
        pages += 1
        nxt = r.header("X-Next-Cursor")
        if nxt is None:
            return out, pages
        assert page, "a cursor after an empty page: %r" % (r,)
        assert len(page) == limit, "a short page with a next cursor: %r" % (r,)
        assert set(nxt) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), nxt
        if between:
            between(pages)
        q = {"cursor": nxt, "limit": limit}


def test_threads_every_row_once_in_order():
    c, _ = cv.new_client(SRV, "pg")
    for i in range(23):
        expect(c.post(T, json={"title": "t%d" % i}), 201)
    full = expect(c.get(T + "?limit=200"), 200).json
    got, pages = walk(c, T, 5, key=lambda s: s["id"])
    assert got == [s["id"] for s in full] and pages == 5, (got, pages)
    # exactly one page: no header
    r = expect(c.get(T + "?limit=23"), 200)
    assert r.header("X-Next-Cursor") is None and len(r.json) == 23
    r = expect(c.get(T + "?limit=22"), 200)
    assert r.header("X-Next-Cursor") is not None
    r = expect(c.get(T + "?cursor=" + r.header("X-Next-Cursor") + "&limit=22"), 200)
    assert [s["id"] for s in r.json] == [full[-1]["id"]] and r.header("X-Next-Cursor") is None


def test_threads_across_inserts_and_moves():
    """Rows added, or moved to the top by an append, while walking are neither repeated nor
    make an older row be skipped (offset paging would do both)."""
    c, _ = cv.new_client(SRV, "pg")
    for i in range(20):
        expect(c.post(T, json={"title": "t%d" % i}), 201)
    before = [s["id"] for s in expect(c.get(T + "?limit=200"), 200).json]

    def meddle(page):
        expect(c.post(T, json={"title": "new %d" % page}), 201)
        # move an already-listed thread to the top
        expect(c.post("%s/%d/messages" % (T, before[0]), json={"role": "user", "content": "x"}), 201)

    got, _ = walk(c, T, 4, key=lambda s: s["id"], between=meddle)
    assert got == before, (got, before)


def test_threads_ties_on_updated_at_are_paged_by_id():
    c, _ = cv.new_client(SRV, "pg")
    items = [{"client_id": "c%d" % i, "title": "same %d" % i, "updated_at": "2026-01-02T03:04:05.678Z"}
             for i in range(7)]
    expect(c.post(T + "/import", json=items), 200)
    full = [s["id"] for s in expect(c.get(T + "?limit=200"), 200).json]
    assert full == sorted(full, reverse=True)
    got, pages = walk(c, T, 2, key=lambda s: s["id"])
    assert got == full and pages == 4, got


def test_threads_cursor_keeps_the_filters():
    c, _ = cv.new_client(SRV, "pg")
    ids = [expect(c.post(T, json={"title": "t%d" % i}), 201).json["id"] for i in range(12)]
    for i, tid in enumerate(ids):
        body = {"archived": i % 2 == 0, "pinned": i % 3 == 0}
        if i % 4 == 0:
            body["tags"] = ["Even4"]
        expect(c.put("%s/%d" % (T, tid), json=body), 200)
    for query in ({"archived": "true"}, {"archived": "any"}, {"archived": "false"},
                  {"pinned": "true", "archived": "any"}, {"pinned": "false"},
                  {"tag": "even4", "archived": "any"}, {"tag": "EVEN4", "pinned": "true",
                                                        "archived": "true"}):
        full = expect(c.get(T + "?" + urllib.parse.urlencode(dict(query, limit=200))), 200)
        got, _ = walk(c, T, 2, key=lambda s: s["id"], **query)
        assert got == [s["id"] for s in full.json], (query, got, full.json)
    # the filters may be repeated with the cursor, but not changed
    r = expect(c.get(T + "?archived=true&limit=2"), 200)
    cur = r.header("X-Next-Cursor")
    expect(c.get(T + "?archived=true&limit=2&cursor=" + cur), 200)
    expect(c.get(T + "?archived=1&limit=2&cursor=" + cur), 200)
    expect_422(c.get(T + "?archived=false&limit=2&cursor=" + cur), loc=["query", "cursor"])
    expect_422(c.get(T + "?archived=true&pinned=true&cursor=" + cur), loc=["query", "cursor"])
    expect_422(c.get(T + "?archived=true&tag=x&cursor=" + cur), loc=["query", "cursor"])
    # X-Total-Count stays the filtered total on every page
    r = expect(c.get(T + "?limit=2&cursor=" + cur), 200)
    assert r.header("X-Total-Count") == "6", r.headers


def test_chat_history_pages():
    c, _ = cv.new_client(SRV, "pg")
    for i in range(11):
        expect(c.post("/api/chat", json={"message": "hello %d" % i}), 200)
    full = expect(c.get("/api/chat-history?limit=100"), 200).json
    assert full["total"] == 11

    got, pages = walk(c, "/api/chat-history", 3, key=lambda e: e["chat_id"],
                      rows=lambda js: js["items"])
    assert got == [e["chat_id"] for e in full["items"]] and pages == 4, got
    r = expect(c.get("/api/chat-history?limit=3"), 200)
    r2 = expect(c.get("/api/chat-history?limit=3&cursor=" + r.header("X-Next-Cursor")), 200)
    assert set(r2.json) == {"items", "page", "limit", "total"} and r2.json["total"] == 11
    assert r2.json["page"] == 1 and r2.json["limit"] == 3, r2.json
    expect_422(c.get("/api/chat-history?page=2&cursor=" + r.header("X-Next-Cursor")),
               loc=["query", "cursor"])
    expect(c.get("/api/chat-history?page=1&limit=3&cursor=" + r.header("X-Next-Cursor")), 200)
    # a chat written meanwhile moves to the top; the walk neither repeats nor skips
    before = [e["chat_id"] for e in full["items"]]

    def meddle(page):
        expect(c.post("/api/chat", json={"chat_id": before[0], "message": "again"}), 200)

    got, _ = walk(c, "/api/chat-history", 4, key=lambda e: e["chat_id"],
                  rows=lambda js: js["items"], between=meddle)
    assert got == before, got


def test_catalog_pages():
    c, _ = cv.new_client(SRV, "pg")
    for i in range(9):
        expect(c.post("/api/characters", json={"name": "c%d" % i}), 201)
        expect(c.post("/api/scenes", json={"name": "s%d" % i}), 201)
        expect(c.post("/api/personas", json={"name": "p%d" % i}), 201)
    for path in ("/api/characters", "/api/scenes", "/api/personas"):
        full = expect(c.get(path + "?limit=200"), 200)
        got, pages = walk(c, path, 4, key=lambda x: x["id"])
        assert got == [x["id"] for x in full.json], (path, got)
        assert got == sorted(got) and len(got) == int(full.header("X-Total-Count"))
    # personas stay private while paging
    c2, _ = cv.new_client(SRV, "pg")
    expect(c2.post("/api/personas", json={"name": "other"}), 201)
    r = expect(c.get("/api/personas?limit=4"), 200)
    got, _ = walk(c, "/api/personas", 4, key=lambda x: x["name"])
    assert "other" not in got and len(got) == 9
    # a character added during the walk (a higher id) comes last, once
    r = expect(c.get("/api/characters?limit=4"), 200)
    expect(c.post("/api/characters", json={"name": "late"}), 201)
    names = [x["name"] for x in r.json]
    cur = r.header("X-Next-Cursor")
    while cur:
        r = expect(c.get("/api/characters?limit=4&cursor=" + cur), 200)
        names += [x["name"] for x in r.json]
        cur = r.header("X-Next-Cursor")
    assert names[-1] == "late" and names.count("late") == 1


def b64(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_bad_cursors_422():
    c, _ = cv.new_client(SRV, "pg")
    for i in range(3):
        expect(c.post(T, json={"title": "t%d" % i}), 201)
        expect(c.post("/api/personas", json={"name": "p%d" % i}), 201)
    thread_cur = expect(c.get(T + "?limit=1"), 200).header("X-Next-Cursor")
    persona_cur = expect(c.get("/api/personas?limit=1"), 200).header("X-Next-Cursor")
    bad = ["", "abc", "%%%", "not+base64!", b64("t1|junk"), b64("t9|2026-01-01T00:00:00.000Z|1|f-|"),
           b64("h1||5"), b64("c1||0"), thread_cur + "=", thread_cur + "A", "A" * 2000,
           urllib.parse.quote(b64("t1|2026-01-01T00:00:00.000Z|1|f-|\u00e9")[:-1] + "x")]
    for path in (T, "/api/chat-history", "/api/characters", "/api/scenes", "/api/personas"):
        for z in bad:
            expect_422(c.get(path + "?cursor=" + z), loc=["query", "cursor"], what="%s %r" % (path, z))
    # a cursor of another list
    expect_422(c.get("/api/personas?cursor=" + thread_cur), loc=["query", "cursor"])
    expect_422(c.get("/api/characters?cursor=" + persona_cur), loc=["query", "cursor"])
    expect_422(c.get("/api/chat-history?cursor=" + thread_cur), loc=["query", "cursor"])
    expect_422(c.get(T + "?cursor=" + persona_cur), loc=["query", "cursor"])
    # with offset
    expect_422(c.get(T + "?offset=1&cursor=" + thread_cur), loc=["query", "cursor"])
    expect_422(c.get("/api/personas?offset=2&cursor=" + persona_cur), loc=["query", "cursor"])
    expect(c.get(T + "?offset=0&cursor=" + thread_cur), 200)
    # another user's cursor only positions: it shows none of that user's rows
    c2, _ = cv.new_client(SRV, "pg")
    r = expect(c2.get(T + "?cursor=" + thread_cur), 200)
    assert r.json == [] and r.header("X-Next-Cursor") is None
