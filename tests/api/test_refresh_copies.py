"""Refreshed character copies (issue 16, contract v2 "Copied character data"): `serve
--refresh-copies`.

A chat copies its character's name and picture when it is created. By default it keeps that copy
("chats keep what they copied"); with --refresh-copies a change of the character's name or
picture (PUT /api/characters/{id}) reaches every chat that still references it, in the same
transaction, by a trigger of schema.sql. A chat whose character was deleted keeps its copy either
way. Refreshing is not a change of the chat: last_updated and the history order stay.
"""

import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect  # noqa: E402

TEST_TIMEOUT = 180


def character(c, name, picture):
    return expect(c.post("/api/characters", json={"name": name, "picture": picture}), 201,
                  "create character").json


def new_chat(c, character_id, text):
    return expect(c.post("/api/chat", json={"character_id": character_id, "message": text}),
                  200, "chat").json["chat"]


def history(c):
    js = expect(c.get("/api/chat-history?limit=100"), 200).json
    return {e["chat_id"]: e for e in js["items"]}, [e["chat_id"] for e in js["items"]]


def setting(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT value FROM settings WHERE key='refresh_copies'").fetchall()
    finally:
        con.close()


def scenario(srv):
    """Two users chat with one character, one with another; then the character is renamed and
    given a new picture. Returns what the test compares."""
    a, _ = cv.new_client(srv, "rca")
    b, _ = cv.new_client(srv, "rcb")
    ada = character(a, "Ada", "https://example.test/ada-1.png")
    bob = character(a, "Bob", "https://example.test/bob.png")
    ca = new_chat(a, ada["id"], "hello Ada")
    cb = new_chat(b, ada["id"], "hello from b")
    cbob = new_chat(a, bob["id"], "hello Bob")
    before_a, order_a = history(a)
    r = expect(a.put("/api/characters/%d" % ada["id"],
                     json={"name": "Ada Lovelace", "picture": "/avatars/owl.svg"}), 200, "PUT")
    assert r.json["name"] == "Ada Lovelace" and r.json["picture"] == "/avatars/owl.svg", r.json
    after_a, order_a2 = history(a)
    after_b, _ = history(b)
    return {"a": a, "b": b, "ada": ada, "ca": ca, "cb": cb, "cbob": cbob,
            "before_a": before_a, "after_a": after_a, "after_b": after_b,
            "order_a": order_a, "order_a2": order_a2}


def test_default_chats_keep_what_they_copied():
    with cv.Server() as srv:
        s = scenario(srv)
        for cid, h in ((s["ca"]["chat_id"], s["after_a"]), (s["cb"]["chat_id"], s["after_b"])):
            assert h[cid]["character_name"] == "Ada", h[cid]
            assert h[cid]["character_picture"] == "https://example.test/ada-1.png", h[cid]
        assert setting(srv.db) == [("0",)]


def test_refresh_copies_updates_every_chat_that_references_it():
    with cv.Server(args=["--refresh-copies"]) as srv:
        s = scenario(srv)
        for cid, h in ((s["ca"]["chat_id"], s["after_a"]), (s["cb"]["chat_id"], s["after_b"])):
            assert h[cid]["character_name"] == "Ada Lovelace", h[cid]
            assert h[cid]["character_picture"] == "/avatars/owl.svg", h[cid]
            assert h[cid]["character_id"] == s["ada"]["id"], h[cid]
        # the other character's chat is untouched; nothing moved in the history
        bob = s["after_a"][s["cbob"]["chat_id"]]
        assert bob["character_name"] == "Bob" and bob["character_picture"] == "https://example.test/bob.png"
        assert s["order_a"] == s["order_a2"], (s["order_a"], s["order_a2"])
        for cid in s["order_a"]:
            assert s["after_a"][cid]["last_updated"] == s["before_a"][cid]["last_updated"], cid
        # the name alone, then the picture alone
        a = s["a"]
        expect(a.put("/api/characters/%d" % s["ada"]["id"], json={"name": "Countess"}), 200)
        h, _ = history(a)
        assert h[s["ca"]["chat_id"]]["character_name"] == "Countess"
        assert h[s["ca"]["chat_id"]]["character_picture"] == "/avatars/owl.svg"
        expect(a.put("/api/characters/%d" % s["ada"]["id"], json={"picture": ""}), 200)
        h, _ = history(a)
        assert h[s["ca"]["chat_id"]]["character_picture"] == "", h[s["ca"]["chat_id"]]
        # a description change does not touch the copies' names
        expect(a.put("/api/characters/%d" % s["ada"]["id"], json={"description": "d"}), 200)
        assert history(a)[0][s["ca"]["chat_id"]]["character_name"] == "Countess"
        assert setting(srv.db) == [("1",)]


def test_a_chat_whose_character_was_deleted_keeps_its_copy():
    with cv.Server(args=["--refresh-copies"]) as srv:
        a, _ = cv.new_client(srv, "rcd")
        ada = character(a, "Ada", "https://example.test/ada.png")
        ch = new_chat(a, ada["id"], "hello")
        expect(a.delete("/api/characters/%d" % ada["id"]), 204)
        h, _ = history(a)
        e = h[ch["chat_id"]]
        assert e["character_id"] is None and e["character_name"] == "Ada", e
        assert e["character_picture"] == "https://example.test/ada.png", e
        # a new character of the same name changing later does not reach the orphaned chat
        ada2 = character(a, "Ada", "https://example.test/ada2.png")
        expect(a.put("/api/characters/%d" % ada2["id"], json={"name": "Other"}), 200)
        assert history(a)[0][ch["chat_id"]]["character_name"] == "Ada"


def test_switching_the_flag_between_runs():
    srv = cv.Server(args=["--refresh-copies"])
    try:
        _, tok, _ = cv.new_user(srv, "rcs")
        a = cv.Client(srv, tok)
        ada = character(a, "Ada", "p1")
        ch = new_chat(a, ada["id"], "hello")
        expect(a.put("/api/characters/%d" % ada["id"], json={"name": "Ada 2"}), 200)
        assert history(a)[0][ch["chat_id"]]["character_name"] == "Ada 2"
        a.close()
        srv.stop()
        srv.args = []                               # default: off again
        srv.start()
        a = cv.Client(srv, tok)
        expect(a.put("/api/characters/%d" % ada["id"], json={"name": "Ada 3"}), 200)
        assert history(a)[0][ch["chat_id"]]["character_name"] == "Ada 2"
        a.close()
        srv.stop()
        srv.args = []
        srv.env = {"CHATVAULT_REFRESH_COPIES": "1"}  # the environment twin
        srv.start()
        a = cv.Client(srv, tok)
        expect(a.put("/api/characters/%d" % ada["id"], json={"name": "Ada 4"}), 200)
        assert history(a)[0][ch["chat_id"]]["character_name"] == "Ada 4"
        a.close()
    finally:
        srv.close(check=False)


def test_archived_chats_are_refreshed_too():
    with cv.Server(args=["--refresh-copies", "--history-limit", "1",
                         "--history-overflow", "archive"]) as srv:
        a, _ = cv.new_client(srv, "rcar")
        ada = character(a, "Ada", "p1")
        old = new_chat(a, ada["id"], "first")
        new_chat(a, ada["id"], "second")
        expect(a.put("/api/characters/%d" % ada["id"], json={"name": "Renamed"}), 200)
        js = expect(a.get("/api/chat-history/archived"), 200).json
        assert [e["chat_id"] for e in js["items"]] == [old["chat_id"]], js
        assert js["items"][0]["character_name"] == "Renamed", js
