"""The official `openai` npm package (tests/openai/, pinned with its lockfile) against the real
binary: models.list, a completion, a streamed one and later turns with the whole history
(tests/openai/client.mjs); then what chatvault stored is checked here through the REST API.
Skipped, with a message, only when node is absent."""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402

HERE = os.path.join(cv.ROOT, "tests", "openai")
TEST_TIMEOUT = 300


def test_official_openai_client():
    if shutil.which("node") is None:
        raise cv.Skip("node is not installed: the openai npm client cannot run")
    setup = subprocess.run(["bash", os.path.join(HERE, "setup.sh")], capture_output=True,
                           text=True, timeout=240)
    assert setup.returncode == 0, "tests/openai/setup.sh failed:\n%s%s" % (setup.stdout,
                                                                          setup.stderr)
    with cv.Server() as srv:
        _, token, _ = cv.new_user(srv, "oa-node")
        env = dict(os.environ, CHATVAULT_URL=srv.url, CHATVAULT_TOKEN=token)
        p = subprocess.run(["node", os.path.join(HERE, "client.mjs")], cwd=HERE, env=env,
                           capture_output=True, text=True, timeout=120)
        out = p.stdout
        assert p.returncode == 0 and "FAIL" not in out, "client.mjs:\n%s\n%s" % (out, p.stderr)
        res = json.loads([ln for ln in out.splitlines() if ln.startswith("RESULT ")][-1][7:])
        c = cv.Client(srv, token)

        def stored(tid):
            r = c.get("/api/v1/chat-threads/%d/messages" % tid)
            cv.expect(r, 200)
            return [(m["role"], m["content"]) for m in r.json]

        # the conversation of three turns is one thread: system message not stored, each later
        # turn (sent with the full history) appended only its two new messages
        assert stored(res["thread"]) == [
            ("user", "What is a vault?"), ("assistant", res["reply1"]),
            ("user", "And a second question?"), ("assistant", res["reply2"]),
            ("user", "A third, streamed."), ("assistant", res["reply3"]),
        ]
        # the streamed one-off conversation is a thread of its own
        assert res["streamThread"] != res["thread"]
        assert stored(res["streamThread"]) == [("user", "Stream, please."),
                                               ("assistant", res["streamReply"])]
        r = c.get("/api/v1/chat-threads")
        assert r.header("X-Total-Count") == "2", r.headers
