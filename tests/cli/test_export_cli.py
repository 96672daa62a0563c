"""`chatvault export EMAIL [FILE]` (contract v2 "Export and import", CLI): the same document
as GET /api/v1/export, written to FILE or standard output (absent or "-"), a summary line on
stderr; run against the database of a serving server (a read snapshot: safe while it serves).

Exit codes (docs/conventions.md): 0 success, 1 error (message on stderr), 2 usage error.
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
SUMMARY = re.compile(r"^exported (\d+) threads \((\d+) messages\), (\d+) chats \((\d+) messages\), "
                     r"(\d+) personas, (\d+) characters of (\S+) to (.+)$")


def setup_module():
    global SRV, TMP
    SRV = cv.Server()
    TMP = tempfile.mkdtemp(prefix="cv-export-cli-")


def teardown_module():
    try:
        if SRV:
            SRV.close()
    finally:
        if TMP:
            shutil.rmtree(TMP, ignore_errors=True)


def without_time(body):
    """The document's bytes with the exported_at value blanked (the only part that differs)."""
    return re.sub(rb'^(\{"format":"chatvault","version":1,"exported_at":")[^"]*"', rb'\1"', body)


def filled_user():
    email, tok, _ = cv.new_user(SRV, "cliexp")
    c = cv.Client(SRV, tok)
    expect(c.post(T, json={"title": "Caf\u00e9 \U0001F600", "messages": [
        {"role": "user", "content": "one"}, {"role": "assistant", "content": "two\nlines"}]}), 201)
    expect(c.post(T + "/import", json=[{"client_id": 99, "title": "imported",
                                        "messages": [{"role": "user", "content": "x"}]}]), 200)
    expect(c.post("/api/personas", json={"name": "P"}), 201)
    ch = expect(c.post("/api/characters", json={"name": "C"}), 201).json
    expect(c.post("/api/chat", json={"character_id": ch["id"], "message": "hey"}), 200)
    return email, c


def test_export_to_a_file_equals_the_route():
    email, c = filled_user()
    out = os.path.join(TMP, "out.json")
    res = run_cli(["export", email, out], db=SRV.db)
    assert res.returncode == 0, res
    assert res.stdout == "", res
    with open(out, "rb") as f:
        body = f.read()
    route = expect(c.get("/api/v1/export"), 200).body
    assert without_time(body) == without_time(route)
    js = json.loads(body)
    assert js["format"] == "chatvault" and js["user"]["email"] == email
    m = SUMMARY.match(res.stderr.strip().splitlines()[-1])
    assert m, res.stderr
    assert m.groups() == ("2", "3", "1", "2", "1", "1", email, out), m.groups()


def test_export_to_standard_output():
    email, c = filled_user()
    route = expect(c.get("/api/v1/export"), 200).body
    for args in (["export", email], ["export", email, "-"]):
        res = run_cli(args, db=SRV.db)
        assert res.returncode == 0, res
        assert without_time(res.stdout.encode("utf-8")) == without_time(route)
        assert res.stderr.strip().endswith(" to standard output"), res.stderr


def test_email_is_matched_case_insensitively():
    email, _ = filled_user()
    res = run_cli(["export", email.upper()], db=SRV.db)
    assert res.returncode == 0, res
    assert json.loads(res.stdout)["user"]["email"] == email


def test_unknown_email_exits_1_and_writes_no_file():
    out = os.path.join(TMP, "never.json")
    res = run_cli(["export", "nobody-%s@example.test" % os.getpid(), out], db=SRV.db)
    assert res.returncode == 1 and "no user" in res.stderr, res
    assert not os.path.exists(out)
    assert res.stdout == ""


def test_unwritable_file_exits_1():
    email, _ = filled_user()
    res = run_cli(["export", email, os.path.join(TMP, "no", "such", "dir", "x.json")], db=SRV.db)
    assert res.returncode == 1 and "cannot write" in res.stderr, res


def test_usage_errors_exit_2_and_usage_lists_export():
    for args in (["export"], ["export", "a@b.c", "f1", "f2"]):
        res = run_cli(args, db=SRV.db)
        assert res.returncode == 2 and "export EMAIL [FILE]" in res.stderr, res
    res = run_cli(["help"])
    assert res.returncode == 0 and "chatvault export EMAIL [FILE]" in res.stdout, res


def test_big_account_through_the_cli():
    """A 3,000-message thread and 200 threads: the file parses and the counts add up."""
    email, tok, _ = cv.new_user(SRV, "clibig")
    c = cv.Client(SRV, tok)
    expect(c.post(T, json={"title": "long", "messages": [
        {"role": "user", "content": "m%d \u00e9" % i} for i in range(3000)]}), 201)
    expect(c.post(T + "/import", json=[{"client_id": "k%d" % i, "title": "t%d" % i}
                                       for i in range(200)]), 200)
    out = os.path.join(TMP, "big.json")
    res = run_cli(["export", email, out], db=SRV.db)
    assert res.returncode == 0, res
    with open(out, "rb") as f:
        js = json.loads(f.read())
    assert len(js["threads"]) == 201
    assert js["threads"][0]["messages"][2999]["content"] == "m2999 \u00e9"
    m = SUMMARY.match(res.stderr.strip().splitlines()[-1])
    assert m and m.group(1) == "201" and m.group(2) == "3000", res.stderr
