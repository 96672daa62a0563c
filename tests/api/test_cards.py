"""Character card import (POST /api/characters/import) and the pictures chatvault serves
(GET /api/pictures/{token}) — contract: "Export and import"; docs/api.md "Character cards".

Real cards come from ../shared/formats (SillyTavern cards: Seraphina with chara V2 + ccv3 V3,
Megumin V1, ccv3_over_chara; text-generation-webui's 2023 JSON); the tests that need them print
a message and pass when that folder is absent. Hostile inputs are built here, never copied."""

import base64
import json
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, expect_401, expect_422, expect_error, expect_ts  # noqa: E402

SRV = None
CHAR_KEYS = {"id", "name", "picture", "description", "greeting", "created_at"}
FORMATS = os.path.abspath(os.path.join(cv.ROOT, "..", "shared", "formats"))
CARDS = os.path.join(FORMATS, "sillytavern", "cards")
TEXTGEN = os.path.join(FORMATS, "text-generation-webui", "Example_2023_char_name.json")
PIC_PREFIX = "/api/pictures/"
CARD_MAX = 16 << 20


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def user(tag="card"):
    return cv.new_client(SRV, tag)


def have_formats(what):
    """True when ../shared/formats is there; otherwise says so (the test passes as skipped)."""
    if os.path.isdir(CARDS):
        return True
    print("  skipped %s: %s is absent (real cards are read from there, never copied)"
          % (what, FORMATS))
    return False


def read(path):
    with open(path, "rb") as f:
        return f.read()


# --- building PNGs -----------------------------------------------------------------------------

def chunk(ctype, data, crc=None):
    c = zlib.crc32(ctype + data) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", c)


def png(*extra, iend=True):
    """A real 1x1 RGBA PNG with the chunks `extra` after IHDR."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00\xff")
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + b"".join(extra) + chunk(b"IDAT", idat)
    return out + chunk(b"IEND", b"") if iend else out


def text(key, value):
    return chunk(b"tEXt", key + b"\x00" + value)


def b64json(obj):
    return base64.b64encode(json.dumps(obj).encode("utf-8"))


def card_chunks(data):
    """The card JSON objects in a PNG's tEXt chunks, by keyword (the test's own reader)."""
    out, i = {}, 8
    while i + 12 <= len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        t, d = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        if t == b"tEXt":
            k, _, v = d.partition(b"\x00")
            out.setdefault(k.decode("latin-1").lower(), json.loads(base64.b64decode(v)))
        if t == b"IEND":
            break
        i += 12 + n
    return out


def expected_description(f):
    parts = [(f.get("description") or "").strip()]
    if (f.get("personality") or "").strip():
        parts.append("Personality: " + f["personality"].strip())
    if (f.get("scenario") or "").strip():
        parts.append("Scenario: " + f["scenario"].strip())
    return "\n\n".join(p for p in parts if p)


# --- helpers -----------------------------------------------------------------------------------

def imp(c, body, status=201, ctype="application/octet-stream"):
    r = c.post("/api/characters/import", body=body, headers={"Content-Type": ctype})
    expect(r, status, "POST /api/characters/import")
    if status == 201:
        js = r.json
        assert isinstance(js, dict) and set(js) == CHAR_KEYS, js
        expect_ts(js["created_at"], "created_at")
        return js
    return r


def total(c):
    return int(expect(c.get("/api/characters?limit=1"), 200).header("X-Total-Count"))


def get_picture(url, method="GET"):
    assert url.startswith(PIC_PREFIX), url
    return cv.request(SRV, method, url)        # no token: an <img src> sends none


def check_picture(url, data):
    r = expect(get_picture(url), 200, "GET picture")
    assert r.body == data, "picture bytes differ (%d vs %d bytes)" % (len(r.body), len(data))
    assert r.header("Content-Type") == "image/png", r.header("Content-Type")
    assert r.header("X-Content-Type-Options") == "nosniff"
    cc = r.header("Cache-Control") or ""
    assert "private" in cc and "immutable" in cc and "max-age=" in cc, cc
    assert int(cc.split("max-age=")[1].split(",")[0]) >= 86400, cc
    h = expect(get_picture(url, "HEAD"), 200, "HEAD picture")
    assert h.body == b"" and int(h.header("Content-Length")) == len(data), h


# --- real cards --------------------------------------------------------------------------------

def test_seraphina_png_ccv3():
    if not have_formats("Seraphina"):
        return
    c, _ = user()
    data = read(os.path.join(CARDS, "default_Seraphina.png"))
    fields = card_chunks(data)["ccv3"]["data"]
    ch = imp(c, data)
    assert ch["name"] == "Seraphina", ch["name"]
    assert ch["description"] == expected_description(fields)[:20000], ch["description"][:200]
    assert "\r\n" in ch["description"], "the card's \\r\\n must be kept"
    assert ch["greeting"] == fields["first_mes"].strip(), ch["greeting"][:100]
    assert ch["picture"].startswith(PIC_PREFIX) and len(ch["picture"]) == len(PIC_PREFIX) + 64
    check_picture(ch["picture"], data)
    # rendered exactly as the catalog renders it
    assert expect(c.get("/api/characters/%d" % ch["id"]), 200).json == ch


def test_megumin_v1_card():
    if not have_formats("Megumin"):
        return
    c, _ = user()
    data = read(os.path.join(CARDS, "Megumin_v1.png"))
    fields = card_chunks(data)["chara"]
    assert "spec" not in fields and fields["personality"] and fields["scenario"]   # a V1 card
    ch = imp(c, data)
    assert ch["name"] == "Megumin", ch
    desc = ch["description"]
    assert desc == expected_description(fields), desc[:300]
    assert "\n\nPersonality: loud, intelligent" in desc and "\n\nScenario: Megumin went out" in desc
    assert ch["greeting"] == fields["first_mes"].strip()
    check_picture(ch["picture"], data)


def test_ccv3_wins_over_chara():
    if not have_formats("ccv3_over_chara"):
        return
    c, _ = user()
    data = read(os.path.join(CARDS, "ccv3_over_chara.png"))
    ch = imp(c, data)
    assert ch["name"] == "V3", ch
    check_picture(ch["picture"], data)
    # and built here: chara first, ccv3 after, the keyword in any case
    ch = imp(c, png(text(b"chara", b64json({"spec": "chara_card_v2", "data": {"name": "Two"}})),
                    text(b"CCV3", b64json({"spec": "chara_card_v3", "data": {"name": "Three"}}))))
    assert ch["name"] == "Three", ch


def test_textgen_json():
    if not have_formats("text-generation-webui"):
        return
    c, _ = user()
    raw = read(TEXTGEN)
    src = json.loads(raw)
    ch = imp(c, raw, ctype="application/json")
    assert ch["name"] == src["char_name"], ch
    assert ch["description"] == src["char_persona"]      # world_scenario is empty
    assert ch["greeting"] == src["char_greeting"]
    assert ch["picture"] == "", ch


# --- JSON cards built here ------------------------------------------------------------------------

def test_json_cards_v1_v2_v3():
    c, _ = user()
    v2 = {"spec": "chara_card_v2", "spec_version": "2.0",
          "name": "Top", "data": {"name": "  Aria \u00a0", "description": "An elf.",
                                  "personality": "  ", "scenario": "A forest.",
                                  "first_mes": "Hail!", "tags": [], "extensions": {}}}
    ch = imp(c, json.dumps(v2).encode())
    assert (ch["name"], ch["description"], ch["greeting"], ch["picture"]) == \
        ("Aria", "An elf.\n\nScenario: A forest.", "Hail!", ""), ch
    v3 = {"spec": "chara_card_v3", "spec_version": "3.0",
          "data": {"name": "Vee", "personality": "calm", "first_mes": None,
                   "group_only_greetings": []}}
    ch = imp(c, json.dumps(v3).encode())
    assert (ch["name"], ch["description"], ch["greeting"]) == ("Vee", "Personality: calm", ""), ch
    v1 = {"name": "Flat", "description": "d", "personality": "p", "scenario": "s",
          "first_mes": "hi", "mes_example": "<START>"}
    ch = imp(c, b"\xef\xbb\xbf" + json.dumps(v1).encode())          # a BOM is skipped
    assert (ch["name"], ch["description"], ch["greeting"]) == \
        ("Flat", "d\n\nPersonality: p\n\nScenario: s", "hi"), ch


def test_long_fields_cut_at_character_boundaries():
    c, _ = user()
    name = "\u00e9" * 99 + "\U0001F600" * 5                  # 104 characters, multi-byte
    card = {"name": name, "description": "\u4e2d" * 20010, "first_mes": "\U0001F600" * 10005}
    ch = imp(c, json.dumps(card, ensure_ascii=False).encode())
    assert ch["name"] == name[:100], ch["name"]
    assert ch["description"] == "\u4e2d" * 20000
    assert ch["greeting"] == "\U0001F600" * 10000


def test_imported_character_is_shared_like_the_catalog():
    c, _ = user()
    o, _ = user("other")
    ch = imp(c, png(text(b"chara", b64json({"name": "Shared", "first_mes": "Hi"}))))
    # the catalog is shared: another user sees it (and its picture URL) ...
    assert expect(o.get("/api/characters/%d" % ch["id"]), 200).json == ch
    r = expect(get_picture(ch["picture"]), 200)
    assert r.body.startswith(b"\x89PNG")
    # ... but only its creator may change or delete it
    expect_error(o.put("/api/characters/%d" % ch["id"], json={"name": "Mine"}), 403)
    expect_error(o.delete("/api/characters/%d" % ch["id"]), 403)
    expect(c.put("/api/characters/%d" % ch["id"], json={"name": "Renamed"}), 200)
    expect(c.delete("/api/characters/%d" % ch["id"]), 204)


def test_auth_and_content_type():
    body = png(text(b"chara", b64json({"name": "NoAuth"})))
    expect_401(cv.request(SRV, "POST", "/api/characters/import", body=body))
    expect_401(cv.request(SRV, "POST", "/api/characters/import", body=body, token="x" * 43))
    c, _ = user()
    # the format is detected from the bytes, whatever the Content-Type says
    assert imp(c, body, ctype="application/json")["name"] == "NoAuth"
    assert imp(c, b'{"name":"Plain"}', ctype="image/png")["name"] == "Plain"


def test_too_large_413():
    c, _ = user()
    n0 = total(c)
    # declared over the 16 MiB card limit: refused before reading
    head = ("POST /api/characters/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: image/png\r\nContent-Length: %d\r\n\r\n" % (c.token, CARD_MAX + 1))
    r = cv.raw_request(SRV, head.encode() + b"x" * 1000)
    expect_error(r, 413)
    # chunked, counted as it arrives
    big = png(text(b"chara", b64json({"name": "Big"})), text(b"junk", b"A" * (CARD_MAX + 10)))
    parts = [big[i:i + (1 << 20)] for i in range(0, len(big), 1 << 20)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    head = ("POST /api/characters/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Transfer-Encoding: chunked\r\n\r\n" % c.token)
    expect_error(cv.raw_request(SRV, head.encode() + body, timeout=60), 413)
    assert total(c) == n0
    # just under the limit is fine
    ok = png(text(b"chara", b64json({"name": "Fits"})), text(b"junk", b"A" * (CARD_MAX - 200)))
    assert len(ok) <= CARD_MAX
    assert imp(c, ok)["name"] == "Fits"


def test_max_import_flag_bounds_cards():
    with cv.Server(args=["--max-import", "2048"]) as srv:
        c, _ = cv.new_client(srv, "small")
        small = png(text(b"chara", b64json({"name": "Small"})))
        expect(c.post("/api/characters/import", body=small), 201)
        big = png(text(b"chara", b64json({"name": "Big", "description": "d" * 3000})))
        expect_error(c.post("/api/characters/import", body=big), 413)


def bad_inputs():
    good = b64json({"name": "Bad"})
    seraphina = os.path.join(CARDS, "default_Seraphina.png")
    full = png(text(b"chara", good))
    yield "truncated PNG", full[:len(full) - 7], ["body"]
    yield "PNG cut after the signature", full[:8], ["body"]
    yield "PNG without IEND", png(text(b"chara", good), iend=False), ["body"]
    yield "PNG without a card chunk", png(text(b"Comment", b"hello")), ["body"]
    yield "PNG with a bad CRC", png(chunk(b"tEXt", b"chara\x00" + good, crc=1234)), ["body"]
    yield "PNG chunk longer than the file", full[:33] + struct.pack(">I", 0x7fffff00) + full[37:], ["body"]
    yield "PNG chunk length over 2^31", full[:33] + b"\xff\xff\xff\xff" + full[37:], ["body"]
    yield "PNG not starting with IHDR", b"\x89PNG\r\n\x1a\n" + text(b"chara", good) + chunk(b"IEND", b""), ["body"]
    yield "tEXt without keyword", png(chunk(b"tEXt", b"no separator")), ["body"]
    yield "bad base64", png(text(b"chara", b"!!!not base64***")), ["body", "chara"]
    yield "base64 of not JSON", png(text(b"ccv3", base64.b64encode(b"{nope"))), ["body", "ccv3"]
    yield "base64 of invalid UTF-8", png(text(b"chara", base64.b64encode(b'{"name":"\xff"}'))), ["body", "chara"]
    yield "chunk JSON not an object", png(text(b"chara", base64.b64encode(b"[1,2]"))), ["body", "chara"]
    yield "chunk card without name", png(text(b"chara", b64json({"spec": "chara_card_v2", "data": {"description": "x"}}))), ["body", "chara", "data", "name"]
    yield "JSON not an object", b"[1, 2, 3]", ["body"]
    yield "JSON string", b'"Seraphina"', ["body"]
    yield "not JSON at all", b"GIF89a\x01\x00garbage", ["body"]
    yield "empty body", b"", ["body"]
    yield "missing name", b'{"description": "nameless"}', ["body", "name"]
    yield "blank name", b'{"name": " \\t\\u3000 "}', ["body", "name"]
    yield "name not a string", b'{"name": 5}', ["body", "name"]
    yield "description not a string", b'{"name": "A", "description": ["x"]}', ["body", "description"]
    yield "V2 data not an object", b'{"spec": "chara_card_v2", "data": "x"}', ["body", "data"]
    yield "V2 without data", b'{"spec": "chara_card_v2", "name": "Top"}', ["body", "data"]
    yield "spec not a string", b'{"spec": 2, "name": "A"}', ["body", "spec"]
    yield "greeting wrong type", b'{"spec":"chara_card_v3","data":{"name":"A","first_mes":{}}}', ["body", "data", "first_mes"]
    yield "textgen name not a string", b'{"char_name": null}', ["body", "char_name"]
    yield "NUL escape", b'{"name": "a\\u0000b"}', ["body"]
    yield "duplicate keys", b'{"name": "a", "name": "b"}', ["body"]
    if os.path.isfile(seraphina):
        real = read(seraphina)
        yield "truncated real card", real[:len(real) // 2], ["body"]


def test_bad_cards_422():
    c, _ = user()
    n0 = total(c)
    for what, body, loc in bad_inputs():
        r = c.post("/api/characters/import", body=body, headers={"Content-Type": "image/png"})
        detail = expect_422(r, what=what)
        locs = [d["loc"] for d in detail]
        assert loc in locs, "%s: locs %r, expected %r" % (what, locs, loc)
        assert all(d["msg"] for d in detail), detail
    assert total(c) == n0, "a refused card left a character behind"
    SRV.assert_alive()


def test_picture_tokens_404_alike():
    c, _ = user()
    ch = imp(c, png(text(b"chara", b64json({"name": "Pic"}))))
    tok = ch["picture"][len(PIC_PREFIX):]
    bodies = set()
    for bad in ("0" * 64, tok[:-1] + ("0" if tok[-1] != "0" else "1"), tok[:-1], tok + "0",
                tok.upper(), "g" * 64, "%2e%2e", "x", tok[:32]):
        r = get_picture(PIC_PREFIX + bad)
        expect_error(r, 404, bad)
        bodies.add(r.body)
    assert len(bodies) == 1, bodies
    expect(get_picture(ch["picture"]), 200)
    expect(cv.request(SRV, "POST", ch["picture"], body=b"x"), 405)


def test_deleting_the_user_deletes_pictures():
    c, _ = user()
    ch = imp(c, png(text(b"chara", b64json({"name": "Orphan"}))))
    expect(get_picture(ch["picture"]), 200)
    expect(c.delete("/api/users/me"), 204)
    expect_error(get_picture(ch["picture"]), 404)
    # the shared character stays (without a creator), as the catalog does
    o, _ = user()
    assert expect(o.get("/api/characters/%d" % ch["id"]), 200).json["name"] == "Orphan"
