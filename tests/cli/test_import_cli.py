"""`chatvault import EMAIL FILE [--format F]` (contract v2 "Export and import", CLI): the
server's importer (importer.h) run on a file or standard input ("-"), against the database of
a serving server; a summary line "import: FORMAT, N imported, M skipped, K errors" on stdout,
then one "error: SOURCE: DETAIL" line per listed error; progress on stderr (plain lines when
stderr is not a terminal).

Exit codes (docs/conventions.md): 0 everything imported or already there, 1 something skipped
with an error or the file could not be imported (what was read before stays), 2 usage error.
"""

import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect, run_cli  # noqa: E402

T = "/api/v1/chat-threads"
SRV = None
TMP = None
SUMMARY = re.compile(r"^import: (\S+), (\d+) imported, (\d+) skipped, (\d+) errors$")
FORMATS = os.path.abspath(os.environ.get("CV_FORMATS_DIR")
                          or os.path.join(cv.ROOT, "..", "shared", "formats"))


def setup_module():
    global SRV, TMP
    SRV = cv.Server()
    TMP = tempfile.mkdtemp(prefix="cv-import-cli-")


def teardown_module():
    try:
        if SRV:
            SRV.close()
    finally:
        if TMP:
            shutil.rmtree(TMP, ignore_errors=True)


def summary(r):
    m = SUMMARY.match(r.stdout.splitlines()[0])
    assert m, r
    return m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))


def conv(i, tag="cli"):
    ct = 1700000000 + i
    return {"id": "%s-%d" % (tag, i), "title": "CLI %d" % i, "create_time": ct,
            "update_time": ct + 9, "current_node": "b", "mapping": {
                "a": {"id": "a", "parent": None, "children": ["b"], "message": {
                    "id": "a", "author": {"role": "user"}, "create_time": ct,
                    "content": {"content_type": "text", "parts": ["q %d" % i]}}},
                "b": {"id": "b", "parent": "a", "children": [], "message": {
                    "id": "b", "author": {"role": "assistant"}, "create_time": ct + 1,
                    "content": {"content_type": "text", "parts": ["a %d" % i]}}}}}


def write(name, data):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_import_file_then_again_and_served_by_the_server():
    email, tok, _ = cv.new_user(SRV, "cli")
    path = write("a.json", json.dumps([conv(i) for i in range(40)]).encode())
    r = run_cli(["import", email, path], db=SRV.db)
    assert r.returncode == 0, r
    assert summary(r) == ("chatgpt", 40, 0, 0), r
    assert "import:" in r.stderr and "bytes read" in r.stderr, r     # plain progress lines
    c = cv.Client(SRV, tok)
    assert int(expect(c.get(T + "?limit=1"), 200).header("X-Total-Count")) == 40
    r = run_cli(["import", email, path], db=SRV.db)
    assert r.returncode == 0 and summary(r) == ("chatgpt", 0, 40, 0), r


def test_standard_input_format_flag_and_errors():
    email, tok, _ = cv.new_user(SRV, "cli2")
    data = json.dumps([conv(1, "std"), {"id": "broken", "mapping": 3}]).encode()
    r = run_cli(["import", email, "-"], stdin=data, db=SRV.db)
    assert r.returncode == 1, r                  # one conversation skipped with an error
    fmt, imported, skipped, errors = summary(r)
    assert (fmt, imported, skipped) == ("chatgpt", 1, 1) and errors >= 1, r
    assert any(l.startswith("error: broken: ") for l in r.stdout.splitlines()), r
    r = run_cli(["import", email, "-", "--format", "claude"], stdin=data, db=SRV.db)
    assert r.returncode == 1, r
    r = run_cli(["import", email, "-", "--format", "word"], stdin=data, db=SRV.db)
    assert r.returncode == 2 and "--format" in r.stderr, r


def test_bad_file_unknown_user_and_usage():
    email, _, _ = cv.new_user(SRV, "cli3")
    r = run_cli(["import", email, write("bad.json", b"{ not json")], db=SRV.db)
    assert r.returncode == 1 and "import stopped" in r.stderr, r
    r = run_cli(["import", "nobody@example.test", write("ok.json", b"[]")], db=SRV.db)
    assert r.returncode == 1 and "no user" in r.stderr, r
    r = run_cli(["import", email, os.path.join(TMP, "missing.json")], db=SRV.db)
    assert r.returncode == 1 and "cannot read" in r.stderr, r
    r = run_cli(["import", email], db=SRV.db)
    assert r.returncode == 2, r


def test_real_sillytavern_chat_and_export_round_trip():
    email, tok, _ = cv.new_user(SRV, "cli4")
    if os.path.isdir(FORMATS):
        st = os.path.join(FORMATS, "sillytavern", "chats", "Megumin_1673323621108.jsonl")
        r = run_cli(["import", email, st], db=SRV.db)
        assert r.returncode == 0 and summary(r)[:2] == ("sillytavern", 1), r
    else:
        print("SKIP the SillyTavern part: no %s" % FORMATS)
    run_cli(["import", email, write("b.json", json.dumps([conv(i, "rt") for i in range(5)])
                                    .encode())], db=SRV.db)
    out = os.path.join(TMP, "export.json")
    r = run_cli(["export", email, out], db=SRV.db)
    assert r.returncode == 0, r
    email2, tok2, _ = cv.new_user(SRV, "cli5")
    r = run_cli(["import", email2, out], db=SRV.db)
    assert r.returncode == 0, r
    fmt, imported, _, _ = summary(r)
    assert fmt == "chatvault" and imported == (6 if os.path.isdir(FORMATS) else 5), r
