"""Organize (contract v2, "Organize"; issue 11): pinned, archived and tags on threads, the
list filters and X-Total-Count after filtering, GET /api/v1/tags, and that none of it ever
changes updated_at or shows another user's data."""

import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_422, expect_error  # noqa: E402

SRV = None
T = "/api/v1/chat-threads"
THREAD_KEYS = {"id", "user_id", "title", "messages", "created_at", "updated_at", "pinned",
               "archived", "tags"}
SUMMARY_KEYS = {"id", "title", "created_at", "updated_at", "message_count", "pinned", "archived",
                "tags"}


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def user(tag="org"):
    return cv.new_client(SRV, tag)


def create(c, title="t", messages=None):
    body = {"title": title}
    if messages is not None:
        body["messages"] = messages
    r = expect(c.post(T, json=body), 201, "create")
    assert set(r.json) == THREAD_KEYS, r
    assert r.json["pinned"] is False and r.json["archived"] is False and r.json["tags"] == [], r
    return r.json


def put(c, tid, body, status=200):
    r = c.put("%s/%d" % (T, tid), json=body)
    expect(r, status, "put %r" % (body,))
    if status == 200:
        assert set(r.json) == THREAD_KEYS, r
    return r


def q(**kw):
    return "?" + urllib.parse.urlencode(kw) if kw else ""


def listing(c, **kw):
    r = expect(c.get(T + q(**kw)), 200, "list %r" % (kw,))
    for s in r.json:
        assert set(s) == SUMMARY_KEYS, s
    return r


def ids(r):
    return [s["id"] for s in r.json]


def test_pin_archive_tag_round_trip_and_never_change_updated_at():
    c, _ = user()
    t = create(c, "A", [{"role": "user", "content": "hi"}])
    time.sleep(0.01)
    r = put(c, t["id"], {"pinned": True})
    assert r.json["pinned"] is True and r.json["updated_at"] == t["updated_at"], r
    r = put(c, t["id"], {"archived": True, "tags": ["work", "Ideas"]})
    assert r.json["archived"] is True and r.json["tags"] == ["Ideas", "work"], r
    assert r.json["updated_at"] == t["updated_at"] and r.json["title"] == "A", r
    assert r.json["messages"] == [{"role": "user", "content": "hi"}], r
    g = expect(c.get("%s/%d" % (T, t["id"])), 200).json
    assert g["pinned"] is True and g["archived"] is True and g["tags"] == ["Ideas", "work"], g
    assert g["updated_at"] == t["updated_at"], g
    s = [x for x in listing(c, archived="any").json if x["id"] == t["id"]][0]
    assert s["pinned"] is True and s["archived"] is True and s["tags"] == ["Ideas", "work"], s
    assert s["updated_at"] == t["updated_at"], s
    # unpin, unarchive, clear tags: still the same updated_at
    r = put(c, t["id"], {"pinned": False, "archived": False, "tags": []})
    assert (r.json["pinned"], r.json["archived"], r.json["tags"]) == (False, False, []), r
    assert r.json["updated_at"] == t["updated_at"], r
    # a title change still moves updated_at, in the same request as organizing
    time.sleep(0.01)
    r = put(c, t["id"], {"title": "B", "pinned": True})
    assert r.json["updated_at"] > t["updated_at"] and r.json["pinned"] is True, r
    # appends keep the organization
    expect(c.post("%s/%d/messages" % (T, t["id"]), json={"role": "user", "content": "x"}), 201)
    g = expect(c.get("%s/%d" % (T, t["id"])), 200).json
    assert g["pinned"] is True and g["title"] == "B", g


def test_tag_rules_case_duplicates_trim_order():
    c, _ = user()
    t = create(c)
    r = put(c, t["id"], {"tags": ["  Work ", "work", "WORK", "b\u00e9ta", "\u00c9t\u00e9", "alpha"]})
    # the first spelling of each, trimmed; sorted by the folded key (code point order)
    assert r.json["tags"] == ["alpha", "b\u00e9ta", "Work", "\u00c9t\u00e9"], r
    r = put(c, t["id"], {"tags": ["\u039f\u0394\u039f\u03a3", "\u03bf\u03b4\u03bf\u03c2",
                                  "\u041c\u0418\u0420", "\u043c\u0438\u0440"]})
    assert r.json["tags"] == ["\u039f\u0394\u039f\u03a3", "\u041c\u0418\u0420"], r
    # 20 distinct is fine, and duplicates of them too as long as the list has at most 20
    r = put(c, t["id"], {"tags": ["t%02d" % i for i in range(20)]})
    assert len(r.json["tags"]) == 20, r
    # 50 characters (emoji are one each) is fine
    r = put(c, t["id"], {"tags": ["\U0001F600" * 50, "x" * 50]})
    assert r.json["tags"] == ["x" * 50, "\U0001F600" * 50], r


def test_spelling_follows_the_users_other_threads():
    c, _ = user()
    a, b = create(c, "A"), create(c, "B")
    put(c, a["id"], {"tags": ["Work"]})
    r = put(c, b["id"], {"tags": ["work", "home"]})
    assert r.json["tags"] == ["home", "Work"], r          # A's spelling wins
    # a thread alone with a tag may respell it
    r = put(c, b["id"], {"tags": ["HOME", "WORK"]})
    assert r.json["tags"] == ["HOME", "Work"], r          # Work is still on A
    tags = expect(c.get("/api/v1/tags"), 200).json
    assert tags == [{"tag": "HOME", "count": 1}, {"tag": "Work", "count": 2}], tags
    # another user's spelling does not matter
    c2, _ = user()
    t2 = create(c2)
    r = put(c2, t2["id"], {"tags": ["WORK"]})
    assert r.json["tags"] == ["WORK"], r


def test_validation_422():
    c, _ = user()
    t = create(c)
    tid = t["id"]
    path = "%s/%d" % (T, tid)
    expect_422(c.put(path, json={"pinned": "yes"}), loc=["body", "pinned"])
    expect_422(c.put(path, json={"archived": 1}), loc=["body", "archived"])
    expect_422(c.put(path, json={"tags": "work"}), loc=["body", "tags"])
    expect_422(c.put(path, json={"tags": ["a", "b", "c", 3]}), loc=["body", "tags", 3])
    expect_422(c.put(path, json={"tags": ["ok", None]}), loc=["body", "tags", 1])
    expect_422(c.put(path, json={"tags": ["   "]}), loc=["body", "tags", 0])
    expect_422(c.put(path, json={"tags": [""]}), loc=["body", "tags", 0])
    expect_422(c.put(path, json={"tags": ["x" * 51]}), loc=["body", "tags", 0])
    expect_422(c.put(path, json={"tags": ["t%d" % i for i in range(21)]}), loc=["body", "tags"])
    expect_422(c.put(path, json={"tags": ["a\u0000b"]}))
    d = expect_422(c.put(path, json={}), loc=["body"])
    assert "pinned" in d[0]["msg"] and "tags" in d[0]["msg"], d
    expect_422(c.put(path, json={"pinned": None, "tags": None}), loc=["body"])
    # nothing of a refused request was kept (one transaction, validated first)
    expect_422(c.put(path, json={"pinned": True, "tags": [1]}), loc=["body", "tags", 0])
    g = expect(c.get(path), 200).json
    assert g["pinned"] is False and g["tags"] == [], g
    # invalid UTF-8 in a tag
    r = cv.request(SRV, "PUT", path, body=b'{"tags":["\xff"]}', token=c.token,
                   headers={"Content-Type": "application/json"})
    expect(r, 422)


def test_list_filters_and_total_count():
    c, _ = user()
    th = [create(c, "t%d" % i) for i in range(8)]   # newest last
    put(c, th[0]["id"], {"archived": True, "tags": ["Old"]})
    put(c, th[1]["id"], {"archived": True, "pinned": True})
    put(c, th[2]["id"], {"pinned": True, "tags": ["old", "x"]})
    put(c, th[3]["id"], {"tags": ["X"]})
    allids = [t["id"] for t in reversed(th)]
    r = listing(c)
    assert ids(r) == [i for i in allids if i not in (th[0]["id"], th[1]["id"])], r
    assert r.header("X-Total-Count") == "6", r.headers
    r = listing(c, archived="false")
    assert len(r.json) == 6 and r.header("X-Total-Count") == "6"
    r = listing(c, archived="true")
    assert ids(r) == [th[1]["id"], th[0]["id"]] and r.header("X-Total-Count") == "2", r
    r = listing(c, archived="any")
    assert ids(r) == allids and r.header("X-Total-Count") == "8", r
    r = listing(c, pinned="true")
    assert ids(r) == [th[2]["id"]] and r.header("X-Total-Count") == "1", r
    r = listing(c, pinned="true", archived="any")
    assert ids(r) == [th[2]["id"], th[1]["id"]] and r.header("X-Total-Count") == "2", r
    r = listing(c, pinned="false")
    assert th[2]["id"] not in ids(r) and len(r.json) == 5 and r.header("X-Total-Count") == "5", r
    r = listing(c, pinned="false", archived="any")
    assert len(r.json) == 6 and r.header("X-Total-Count") == "6", r
    r = listing(c, tag="OLD")                      # case-insensitive; archived hidden by default
    assert ids(r) == [th[2]["id"]] and r.header("X-Total-Count") == "1", r
    r = listing(c, tag=" old ", archived="any")
    assert ids(r) == [th[2]["id"], th[0]["id"]] and r.header("X-Total-Count") == "2", r
    r = listing(c, tag="x", pinned="false")
    assert ids(r) == [th[3]["id"]] and r.header("X-Total-Count") == "1", r
    r = listing(c, tag="x", pinned="true")
    assert ids(r) == [th[2]["id"]] and r.header("X-Total-Count") == "1", r
    r = listing(c, tag="nope")
    assert r.json == [] and r.header("X-Total-Count") == "0", r
    # filters with limit/offset
    r = listing(c, archived="any", limit=3, offset=2)
    assert ids(r) == allids[2:5] and r.header("X-Total-Count") == "8", r
    # deleting an archived thread keeps the counts right
    expect(c.delete("%s/%d" % (T, th[0]["id"])), 204)
    r = listing(c, archived="true")
    assert ids(r) == [th[1]["id"]] and r.header("X-Total-Count") == "1", r
    assert listing(c, archived="any").header("X-Total-Count") == "7"
    assert listing(c).header("X-Total-Count") == "6"


def test_list_filter_validation_422():
    c, _ = user()
    for query, loc in [("?archived=maybe", ["query", "archived"]),
                       ("?archived=", ["query", "archived"]),
                       ("?pinned=2", ["query", "pinned"]),
                       ("?pinned=", ["query", "pinned"]),
                       ("?tag=", ["query", "tag"]),
                       ("?tag=%20%20", ["query", "tag"]),
                       ("?tag=" + "x" * 51, ["query", "tag"]),
                       ("?tag=%FF", ["query", "tag"]),
                       ("?tag=a%00b", ["query", "tag"]),
                       ("?tag=%zz", ["query", "tag"])]:
        expect_422(c.get(T + query), loc=loc, what=query)
    # the spellings of a boolean that FastAPI accepts
    for v in ("true", "True", "1", "yes", "on", "false", "0", "no", "off"):
        expect(c.get(T + "?pinned=" + v), 200, v)
        expect(c.get(T + "?archived=" + v), 200, v)


def test_tags_endpoint():
    c, _ = user()
    expect_401(cv.request(SRV, "GET", "/api/v1/tags"))
    assert expect(c.get("/api/v1/tags"), 200).json == []
    a, b, d = create(c, "a"), create(c, "b"), create(c, "d")
    put(c, a["id"], {"tags": ["zeta", "Alpha"]})
    put(c, b["id"], {"tags": ["alpha", "\u00e9t\u00e9"], "archived": True})
    put(c, d["id"], {"tags": ["ZETA"]})
    r = expect(c.get("/api/v1/tags"), 200)
    assert r.header("Content-Type").startswith("application/json")
    assert r.json == [{"tag": "Alpha", "count": 2}, {"tag": "zeta", "count": 2},
                      {"tag": "\u00e9t\u00e9", "count": 1}], r
    expect(c.delete("%s/%d" % (T, d["id"])), 204)
    assert expect(c.get("/api/v1/tags"), 200).json[1] == {"tag": "zeta", "count": 1}


def test_isolation_between_users():
    c1, _ = user()
    c2, _ = user()
    t1 = create(c1, "mine")
    put(c1, t1["id"], {"tags": ["secret"], "pinned": True, "archived": True})
    # another user cannot organize it (403), an unknown id is 404
    expect_error(c2.put("%s/%d" % (T, t1["id"]), json={"pinned": False}), 403)
    expect_error(c2.put("%s/%d" % (T, t1["id"]), json={"tags": ["x"]}), 403)
    expect_error(c2.put("%s/%d" % (T, 999999999), json={"archived": True}), 404)
    g = expect(c1.get("%s/%d" % (T, t1["id"])), 200).json
    assert g["tags"] == ["secret"] and g["pinned"] is True, g
    # never listed, counted or tagged for the other user
    t2 = create(c2, "theirs")
    put(c2, t2["id"], {"tags": ["other"]})
    for kw in ({}, {"archived": "any"}, {"archived": "true"}, {"pinned": "true"},
               {"tag": "secret", "archived": "any"}, {"pinned": "false", "archived": "any"}):
        r = listing(c2, **kw)
        assert t1["id"] not in ids(r), (kw, r)
    assert listing(c2, tag="secret", archived="any").header("X-Total-Count") == "0"
    assert listing(c2, archived="true").header("X-Total-Count") == "0"
    assert listing(c2, pinned="true", archived="any").header("X-Total-Count") == "0"
    assert expect(c2.get("/api/v1/tags"), 200).json == [{"tag": "other", "count": 1}]
    assert expect(c1.get("/api/v1/tags"), 200).json == [{"tag": "secret", "count": 1}]
