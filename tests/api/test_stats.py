"""GET /api/v1/stats (contract v2, "Organize"; issue 11): exact figures for a user built
through the API, per_day zero-filled over the window ending today (UTC), top characters'
order, validation of ?days=, and that nothing of another user is ever counted."""

import datetime
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_422  # noqa: E402

SRV = None
T = "/api/v1/chat-threads"
KEYS = {"threads", "chats", "messages", "characters_used", "per_day", "top_characters"}


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def msgs(n):
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": "m%d" % i} for i in range(n)]


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def stats(c, query=""):
    d0 = today()
    r = expect(c.get("/api/v1/stats" + query), 200, "stats" + query)
    d1 = today()
    js = r.json
    assert set(js) == KEYS, js
    days = [datetime.date.fromisoformat(d["date"]) for d in js["per_day"]]
    assert days[-1] in (d0, d1), js["per_day"][-3:]
    assert all(b - a == datetime.timedelta(days=1) for a, b in zip(days, days[1:])), days
    for d in js["per_day"]:
        assert set(d) == {"date", "messages"} and len(d["date"]) == 10, d
    return js


def test_exact_figures_for_a_constructed_user():
    c, _ = cv.new_client(SRV, "st")
    # threads: 3 messages, then 2 by PUT, 1 appended, then shrunk to 1 (a shrink writes none)
    t1 = expect(c.post(T, json={"title": "one", "messages": msgs(3)}), 201).json
    t2 = expect(c.post(T, json={"title": "two"}), 201).json
    expect(c.put("%s/%d" % (T, t2["id"]), json={"messages": msgs(2)}), 200)
    expect(c.post("%s/%d/messages" % (T, t1["id"]), json={"role": "user", "content": "x"}), 201)
    expect(c.put("%s/%d" % (T, t1["id"]), json={"messages": msgs(1), "archived": True}), 200)
    # an imported thread of 4 messages dated 3 days ago counts on that day
    day3 = today() - datetime.timedelta(days=3)
    expect(c.post(T + "/import", json=[{"client_id": "old", "messages": msgs(4),
                                        "updated_at": day3.isoformat() + "T12:00:00Z"}]), 200)
    # chats: Alice twice (2 + 4 messages), Bob once, Carl once (2 each), one without character
    ids = {}
    for name in ("Alice", "Bob", "Carl"):
        ids[name] = expect(c.post("/api/characters", json={"name": name}), 201).json["id"]
    a1 = expect(c.post("/api/chat", json={"character_id": ids["Alice"], "message": "hi"}), 200).json
    expect(c.post("/api/chat", json={"character_id": ids["Alice"], "message": "hi"}), 200)
    expect(c.post("/api/chat", json={"chat_id": a1["chat_id"], "message": "again"}), 200)
    expect(c.post("/api/chat", json={"character_id": ids["Carl"], "message": "hi"}), 200)
    expect(c.post("/api/chat", json={"character_id": ids["Bob"], "message": "hi"}), 200)
    expect(c.post("/api/chat", json={"message": "no character"}), 200)

    js = stats(c, "?days=7")
    assert js["threads"] == 3, js
    assert js["chats"] == 5, js
    assert js["messages"] == (1 + 2 + 4) + (4 + 2 + 2 + 2 + 2), js
    assert js["characters_used"] == 3, js
    assert js["top_characters"] == [
        {"character_name": "Alice", "chats": 2, "messages": 6},
        {"character_name": "Bob", "chats": 1, "messages": 2},     # ties: by name
        {"character_name": "Carl", "chats": 1, "messages": 2}], js["top_characters"]
    assert len(js["per_day"]) == 7
    per = {d["date"]: d["messages"] for d in js["per_day"]}
    # written today: 3 + 2 + 1 in threads, 12 in chats; 4 three days ago; 0 on the others
    assert per[js["per_day"][-1]["date"]] == 3 + 2 + 1 + 12, js["per_day"]
    assert per[day3.isoformat()] == 4, js["per_day"]
    assert sum(per.values()) == 22, js["per_day"]
    # deleting a conversation changes the totals, not the record of what was written
    expect(c.delete("%s/%d" % (T, t2["id"])), 204)
    js2 = stats(c, "?days=7")
    assert js2["threads"] == 2 and js2["messages"] == js["messages"] - 2, js2
    assert sum(d["messages"] for d in js2["per_day"]) == 22


def test_top_characters_at_most_five_and_ordered():
    c, _ = cv.new_client(SRV, "st")
    want = []
    for i, n in enumerate([1, 3, 2, 1, 4, 1]):      # turns per character
        name = "K%d" % i
        cid = expect(c.post("/api/characters", json={"name": name}), 201).json["id"]
        chat = None
        for _ in range(n):
            body = {"message": "m", "character_id": cid}
            if chat:
                body["chat_id"] = chat
            chat = expect(c.post("/api/chat", json=body), 200).json["chat_id"]
        want.append((-(2 * n), -1, name))
    js = stats(c)
    want.sort()
    assert [(t["character_name"], t["chats"], t["messages"]) for t in js["top_characters"]] == \
        [(w[2], 1, -w[0]) for w in want[:5]], js["top_characters"]
    assert js["characters_used"] == 6


def test_per_day_zero_filled_and_days_param():
    c, _ = cv.new_client(SRV, "st")
    js = stats(c)
    assert len(js["per_day"]) == 30 and all(d["messages"] == 0 for d in js["per_day"])
    assert (js["threads"], js["chats"], js["messages"], js["characters_used"]) == (0, 0, 0, 0)
    assert js["top_characters"] == []
    assert len(stats(c, "?days=1")["per_day"]) == 1
    assert len(stats(c, "?days=366")["per_day"]) == 366
    for bad in ("0", "367", "-1", "x", "", "1.5"):
        expect_422(c.get("/api/v1/stats?days=" + bad), loc=["query", "days"], what=bad)
    expect_401(cv.request(SRV, "GET", "/api/v1/stats"))


def test_isolation():
    c1, _ = cv.new_client(SRV, "st")
    c2, _ = cv.new_client(SRV, "st")
    expect(c1.post(T, json={"messages": msgs(5)}), 201)
    cid = expect(c1.post("/api/characters", json={"name": "Shared"}), 201).json["id"]
    expect(c1.post("/api/chat", json={"character_id": cid, "message": "hi"}), 200)
    js2 = stats(c2)
    assert (js2["threads"], js2["chats"], js2["messages"], js2["characters_used"]) == (0, 0, 0, 0)
    assert js2["top_characters"] == [] and all(d["messages"] == 0 for d in js2["per_day"])
    js1 = stats(c1)
    assert (js1["threads"], js1["chats"], js1["messages"]) == (1, 1, 7), js1
    assert js1["per_day"][-1]["messages"] == 7
