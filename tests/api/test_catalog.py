"""The character-chat catalog: /api/characters (with /recommended), /api/scenes, /api/personas
(contract: "Character chats"), and the demo catalog of `serve --demo`."""

import os
import re
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_422, expect_error, expect_ts  # noqa: E402

SRV = None
CHAR_KEYS = {"id", "name", "picture", "description", "greeting", "created_at"}
SCENE_KEYS = {"id", "name", "picture", "description", "created_at"}
PERSONA_KEYS = {"id", "name", "description", "created_at"}


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def user(srv=None, tag="cat"):
    return cv.new_client(srv or SRV, tag)


def check(js, keys, what):
    assert isinstance(js, dict) and set(js) == keys, "%s keys: %r" % (what, js)
    assert isinstance(js["id"], int) and not isinstance(js["id"], bool), js
    expect_ts(js["created_at"], what + ".created_at")
    return js


def create(c, path, body, keys, status=201):
    r = c.post(path, json=body)
    expect(r, status, "POST " + path)
    return check(r.json, keys, path) if status == 201 else r


# ---------------------------------------------------------------------------------------------
# characters
# ---------------------------------------------------------------------------------------------

def test_character_create_get_list():
    c, _ = user()
    ch = create(c, "/api/characters", {"name": "Aria", "picture": "https://p/a.png",
                                       "description": "An elf.", "greeting": "Hail!"}, CHAR_KEYS)
    assert (ch["name"], ch["picture"], ch["description"], ch["greeting"]) == \
        ("Aria", "https://p/a.png", "An elf.", "Hail!"), ch
    bare = create(c, "/api/characters", {"name": "Bare"}, CHAR_KEYS)
    assert (bare["picture"], bare["description"], bare["greeting"]) == ("", "", ""), bare
    got = expect(c.get("/api/characters/%d" % ch["id"]), 200).json
    assert got == ch, got
    # another user sees it too (shared catalog)
    o, _ = user()
    assert expect(o.get("/api/characters/%d" % ch["id"]), 200).json == ch
    r = expect(o.get("/api/characters?limit=200"), 200)
    ids = [x["id"] for x in r.json]
    assert ch["id"] in ids and bare["id"] in ids, ids
    for x in r.json:
        check(x, CHAR_KEYS, "list item")
    assert int(r.header("X-Total-Count")) >= 2
    assert ids == sorted(ids), ids


def test_character_list_paging():
    c, _ = user()
    for i in range(3):
        create(c, "/api/characters", {"name": "P%d" % i}, CHAR_KEYS)
    r = expect(c.get("/api/characters?limit=2&offset=0"), 200)
    total = int(r.header("X-Total-Count"))
    assert len(r.json) == 2 and total >= 3, r
    r2 = expect(c.get("/api/characters?limit=2&offset=2"), 200)
    assert not set(x["id"] for x in r.json) & set(x["id"] for x in r2.json)
    for q in ("?limit=0", "?limit=201", "?offset=-1", "?limit=x"):
        expect_422(c.get("/api/characters" + q))


def test_character_validation():
    c, _ = user()
    expect_422(c.post("/api/characters", json={}), loc=["body", "name"])
    expect_422(c.post("/api/characters", json={"name": ""}), loc=["body", "name"])
    expect_422(c.post("/api/characters", json={"name": "x" * 101}), loc=["body", "name"])
    expect_422(c.post("/api/characters", json={"name": 5}), loc=["body", "name"])
    expect_422(c.post("/api/characters", json={"name": "ok", "greeting": 1}), loc=["body", "greeting"])
    expect_422(c.post("/api/characters", json={"name": "ok", "picture": ["x"]}), loc=["body", "picture"])
    expect_422(c.post("/api/characters", json=["name"]))
    expect_422(c.post("/api/characters", body=b'{"name":"a\\u0000"}'))
    # lengths are characters, not bytes
    ch = create(c, "/api/characters", {"name": "😀" * 100}, CHAR_KEYS)
    assert ch["name"] == "😀" * 100
    expect_422(c.post("/api/characters", json={"name": "😀" * 101}), loc=["body", "name"])


def test_character_get_errors():
    c, _ = user()
    expect_error(c.get("/api/characters/99999999"), 404)
    expect_422(c.get("/api/characters/abc"))
    expect(c.get("/api/characters/0"), (404, 422))


def test_catalog_needs_auth():
    for method, path in (("GET", "/api/characters"), ("POST", "/api/characters"),
                         ("GET", "/api/characters/1"), ("PUT", "/api/characters/1"),
                         ("DELETE", "/api/characters/1"), ("GET", "/api/characters/recommended"),
                         ("GET", "/api/scenes"), ("POST", "/api/scenes"), ("GET", "/api/scenes/1"),
                         ("GET", "/api/personas"), ("POST", "/api/personas")):
        expect_401(cv.request(SRV, method, path, json={"name": "x"} if method in ("POST", "PUT") else cv._NO_JSON),
                   "%s %s" % (method, path))
    expect_401(cv.request(SRV, "GET", "/api/characters", token="not-a-token"))


def test_only_the_creator_may_change_or_delete_a_character():
    owner, _ = user(tag="creator")
    other, _ = user(tag="other")
    ch = create(owner, "/api/characters", {"name": "Mine", "description": "secret sauce"}, CHAR_KEYS)
    path = "/api/characters/%d" % ch["id"]
    r = other.put(path, json={"name": "Stolen"})
    expect_error(r, 403)
    expect_error(other.delete(path), 403)
    assert expect(owner.get(path), 200).json == ch
    r = expect(owner.put(path, json={"name": "Mine v2", "greeting": "Yo"}), 200)
    upd = check(r.json, CHAR_KEYS, "updated")
    assert (upd["name"], upd["greeting"], upd["description"], upd["id"], upd["created_at"]) == \
        ("Mine v2", "Yo", "secret sauce", ch["id"], ch["created_at"]), upd
    expect_422(owner.put(path, json={}))
    expect_422(owner.put(path, json={"name": ""}), loc=["body", "name"])
    expect_error(owner.put("/api/characters/99999999", json={"name": "x"}), 404)
    expect_error(owner.delete("/api/characters/99999999"), 404)
    expect(owner.delete(path), 204)
    expect_error(owner.get(path), 404)
    expect_error(owner.delete(path), 404)


def test_deleting_a_character_keeps_the_chats():
    c, _ = user()
    ch = create(c, "/api/characters", {"name": "Ephemeral", "picture": "https://p/e.png"}, CHAR_KEYS)
    sc = create(c, "/api/scenes", {"name": "Beach", "picture": "https://p/b.png"}, SCENE_KEYS)
    r = expect(c.post("/api/chat", json={"message": "bye soon", "character_id": ch["id"],
                                          "scene_id": sc["id"]}), 200)
    cid = r.json["chat_id"]
    expect(c.delete("/api/characters/%d" % ch["id"]), 204)
    e = expect(c.get("/api/chat-history"), 200).json["items"][0]
    assert e["chat_id"] == cid and e["character_id"] is None, e
    assert e["character_name"] == "Ephemeral" and e["character_picture"] == "https://p/e.png", e
    assert e["scene_id"] == sc["id"] and e["scene_name"] == "Beach", e
    assert len(e["messages"]) == 2
    # and the chat goes on without its character
    r = expect(c.post("/api/chat", json={"chat_id": cid, "message": "still here?"}), 200)
    assert len(r.json["chat"]["messages"]) == 4 and r.json["chat"]["character_name"] == "Ephemeral"


def test_renaming_a_character_does_not_change_old_chats():
    c, _ = user()
    ch = create(c, "/api/characters", {"name": "Old Name"}, CHAR_KEYS)
    expect(c.post("/api/chat", json={"message": "hi", "character_id": ch["id"]}), 200)
    expect(c.put("/api/characters/%d" % ch["id"], json={"name": "New Name"}), 200)
    e = expect(c.get("/api/chat-history"), 200).json["items"][0]
    assert e["character_name"] == "Old Name" and e["character_id"] == ch["id"], e


def test_recommended_excludes_characters_the_user_chatted_with():
    with cv.Server() as srv:
        c, _ = user(srv)
        chars = [create(c, "/api/characters", {"name": "R%d" % i}, CHAR_KEYS) for i in range(4)]
        r = expect(c.get("/api/characters/recommended"), 200)
        assert [x["id"] for x in r.json] == [x["id"] for x in chars], r
        for x in r.json:
            check(x, CHAR_KEYS, "recommended")
        expect(c.post("/api/chat", json={"message": "hi", "character_id": chars[1]["id"]}), 200)
        r = expect(c.get("/api/characters/recommended?limit=2"), 200)
        assert [x["id"] for x in r.json] == [chars[0]["id"], chars[2]["id"]], r
        # another user's chats do not count
        o, _ = user(srv)
        assert len(expect(o.get("/api/characters/recommended?limit=50"), 200).json) == 4
        for q in ("?limit=0", "?limit=51", "?limit=abc"):
            expect_422(c.get("/api/characters/recommended" + q), loc=["query", "limit"])
        expect(c.get("/api/characters/recommended?limit=50"), 200)
        expect(c.get("/api/characters/recommended?limit=1"), 200)


# ---------------------------------------------------------------------------------------------
# scenes and personas
# ---------------------------------------------------------------------------------------------

def test_scenes():
    c, _ = user()
    sc = create(c, "/api/scenes", {"name": "Tavern", "picture": "", "description": "Loud."}, SCENE_KEYS)
    assert (sc["name"], sc["picture"], sc["description"]) == ("Tavern", "", "Loud."), sc
    assert expect(c.get("/api/scenes/%d" % sc["id"]), 200).json == sc
    r = expect(c.get("/api/scenes?limit=200"), 200)
    assert sc["id"] in [x["id"] for x in r.json] and r.header("X-Total-Count")
    for x in r.json:
        check(x, SCENE_KEYS, "scene")
    expect_error(c.get("/api/scenes/99999999"), 404)
    expect_422(c.post("/api/scenes", json={"name": "x" * 101}), loc=["body", "name"])
    expect_422(c.post("/api/scenes", json={"description": "no name"}), loc=["body", "name"])
    expect(c.request("DELETE", "/api/scenes/%d" % sc["id"]), 405)


def test_personas_are_private():
    a, _ = user(tag="pa")
    b, _ = user(tag="pb")
    pa = create(a, "/api/personas", {"name": "Knight", "description": "A's secret persona"}, PERSONA_KEYS)
    create(b, "/api/personas", {"name": "Bard"}, PERSONA_KEYS)
    la = expect(a.get("/api/personas"), 200)
    assert [x["name"] for x in la.json] == ["Knight"] and la.header("X-Total-Count") == "1", la
    lb = expect(b.get("/api/personas"), 200)
    assert [x["name"] for x in lb.json] == ["Bard"], lb
    assert b"secret persona" not in lb.body
    for x in la.json + lb.json:
        check(x, PERSONA_KEYS, "persona")
    expect_422(a.post("/api/personas", json={"name": ""}), loc=["body", "name"])
    # b cannot chat as a's persona
    expect_error(b.post("/api/chat", json={"message": "x", "persona_id": pa["id"]}), 404)


# ---------------------------------------------------------------------------------------------
# demo data
# ---------------------------------------------------------------------------------------------

def test_demo_seeds_characters_and_scenes_once():
    with cv.Server(args=["--demo"]) as srv:
        out = open(srv._stdout_path, encoding="utf-8").read() if os.path.exists(srv._stdout_path) else ""
        c, _ = user(srv)
        chars = expect(c.get("/api/characters"), 200).json
        scenes = expect(c.get("/api/scenes"), 200).json
        assert len(chars) >= 2 and len(scenes) >= 1, (chars, scenes)
        for x in chars:
            check(x, CHAR_KEYS, "demo character")
            assert x["name"] and x["description"], x
            # the page's built-in avatars (issue 16: inline SVG data: URLs showed as initials)
            assert re.match(r"^/avatars/[a-z]+\.svg$", x["picture"]), x
        assert any(x["greeting"] for x in chars)
        srv.restart()
        c2, _ = user(srv)
        assert len(expect(c2.get("/api/characters"), 200).json) == len(chars)
        assert len(expect(c2.get("/api/scenes"), 200).json) == len(scenes)
        # a demo chat works offline with a demo character
        r = expect(c2.post("/api/chat", json={"message": "hi", "character_id": chars[0]["id"]}), 200)
        assert chars[0]["name"] in r.json["reply"]
        del out


def old_demo_picture(fill, letter):
    """The inline SVG picture the demo characters had before issue 16 (demo.c DEMO_PIC)."""
    return ("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'%3E"
            "%3Ccircle cx='32' cy='32' r='32' fill='%23" + fill + "'/%3E%3Ctext x='32' y='42'"
            " font-size='28' text-anchor='middle' fill='white' font-family='sans-serif'%3E"
            + letter + "%3C/text%3E%3C/svg%3E")


def test_demo_gives_old_demo_characters_their_avatars():
    """A file seeded by an earlier --demo (inline SVG pictures) gets the built-in avatars at the
    next --demo start; a demo character whose picture was changed since is left alone."""
    import sqlite3
    with cv.Server(args=["--demo"]) as srv:
        srv.stop()
        con = sqlite3.connect(srv.db)
        con.execute("UPDATE characters SET picture=? WHERE name='Ada'", (old_demo_picture("6a5acd", "A"),))
        con.execute("UPDATE characters SET picture='https://example.test/mine.png' WHERE name='Captain Mira'")
        con.commit()
        con.close()
        srv.start()
        c, _ = user(srv)
        pics = {x["name"]: x["picture"] for x in expect(c.get("/api/characters"), 200).json}
        assert pics["Ada"] == "/avatars/owl.svg", pics
        assert pics["Captain Mira"] == "https://example.test/mine.png", pics
