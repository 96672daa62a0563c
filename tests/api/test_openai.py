"""The OpenAI-compatible recording endpoint (contract v2, docs/api.md "OpenAI-compatible recording
endpoint"): POST /v1/chat/completions and GET /v1/models, against the real binary with the
offline responder."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402

SRV = None
CC = "/v1/chat/completions"
T = "/api/v1/chat-threads"


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def user(tag="oa"):
    return cv.new_client(SRV, tag)


def chat(c, messages, stream=False, headers=None, extra=None, token=None):
    body = {"model": "gpt-test", "messages": messages}
    if stream:
        body["stream"] = True
    body.update(extra or {})
    kw = {"json": body}
    if headers:
        kw["headers"] = headers
    if token is not None:
        kw["token"] = token
    return c.post(CC, **kw)


def expect_oai_error(r, status, what=""):
    assert r.status == status, "%s: want %d, got %d %r" % (what, status, r.status, r.body[:400])
    js = r.json
    assert isinstance(js, dict) and set(js) == {"error"}, "%s: %r" % (what, js)
    e = js["error"]
    assert set(e) == {"message", "type", "param", "code"}, e
    assert isinstance(e["message"], str) and e["message"], e
    return e


def messages_of(c, tid):
    r = c.get("%s/%d/messages" % (T, tid))
    cv.expect(r, 200)
    return [(m["role"], m["content"]) for m in r.json["items"]] if isinstance(r.json, dict) \
        else [(m["role"], m["content"]) for m in r.json]


def thread_count(c):
    r = c.get(T + "?limit=200")
    cv.expect(r, 200)
    return int(r.header("X-Total-Count"))


def thread_id(r):
    v = r.header("X-Chatvault-Thread")
    assert v and v.isdigit(), r.headers
    return int(v)


def parse_sse(body):
    """The data lines of an event stream, in order."""
    out = []
    for block in body.decode("utf-8").split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: "):
                out.append(line[6:])
    return out


# ---- shapes --------------------------------------------------------------------------------

def test_non_stream_shape():
    c, _ = user()
    r = chat(c, [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}])
    cv.expect(r, 200)
    js = r.json
    assert js["object"] == "chat.completion", js
    assert js["id"].startswith("chatcmpl-"), js
    assert isinstance(js["created"], int) and js["model"] == "gpt-test", js
    ch = js["choices"]
    assert len(ch) == 1 and ch[0]["index"] == 0 and ch[0]["finish_reason"] == "stop", js
    assert ch[0]["message"]["role"] == "assistant", js
    assert ch[0]["message"]["content"].startswith("[offline responder]"), js
    u = js["usage"]
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"] > 0, u
    tid = thread_id(r)
    # system messages are not stored
    assert messages_of(c, tid) == [("user", "hello"), ("assistant", ch[0]["message"]["content"])]
    r = c.get("%s/%d" % (T, tid))
    cv.expect(r, 200)
    assert r.json["title"] == "hello", r.json


def test_stream_shape():
    c, _ = user()
    r = chat(c, [{"role": "user", "content": "stream me"}], stream=True,
             extra={"stream_options": {"include_usage": True}})
    cv.expect(r, 200)
    assert r.header("Content-Type").startswith("text/event-stream"), r.headers
    tid = thread_id(r)
    data = parse_sse(r.body)
    assert data[-1] == "[DONE]", data
    chunks = [json.loads(d) for d in data[:-1]]
    ids = {k["id"] for k in chunks}
    assert len(ids) == 1 and ids.pop().startswith("chatcmpl-"), chunks
    for k in chunks:
        assert k["object"] == "chat.completion.chunk" and k["model"] == "gpt-test", k
    first = chunks[0]["choices"][0]
    assert first["delta"] == {"role": "assistant", "content": ""} and first["finish_reason"] is None
    usage = chunks[-1]
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] > 0, usage
    last = chunks[-2]["choices"][0]
    assert last["delta"] == {} and last["finish_reason"] == "stop", chunks[-2]
    text = "".join(k["choices"][0]["delta"].get("content", "") for k in chunks[1:-2])
    assert text.startswith("[offline responder]") and "stream me" in text, text
    assert messages_of(c, tid) == [("user", "stream me"), ("assistant", text)]


def test_models():
    c, _ = user()
    r = c.get("/v1/models")
    cv.expect(r, 200)
    js = r.json
    assert js["object"] == "list" and len(js["data"]) == 1, js
    m = js["data"][0]
    assert m["id"] == "chatvault-offline" and m["object"] == "model", m
    assert m["owned_by"] == "chatvault" and isinstance(m["created"], int), m


# ---- matching ------------------------------------------------------------------------------

def test_second_turn_appends_exactly_two():
    c, _ = user()
    hist = [{"role": "system", "content": "sys"}, {"role": "user", "content": "first question"}]
    r = chat(c, hist)
    cv.expect(r, 200)
    tid = thread_id(r)
    hist.append(r.json["choices"][0]["message"])
    hist.append({"role": "user", "content": "second question"})
    r2 = chat(c, hist)
    cv.expect(r2, 200)
    assert thread_id(r2) == tid
    msgs = messages_of(c, tid)
    assert len(msgs) == 4, msgs
    assert msgs[2] == ("user", "second question"), msgs
    assert msgs[3] == ("assistant", r2.json["choices"][0]["message"]["content"])
    assert thread_count(c) == 1
    # a third turn, streamed, with a changed system prompt: still the same thread
    hist[0]["content"] = "another system prompt"
    hist.append(r2.json["choices"][0]["message"])
    hist.append({"role": "user", "content": "third"})
    r3 = chat(c, hist, stream=True)
    cv.expect(r3, 200)
    assert thread_id(r3) == tid
    assert len(messages_of(c, tid)) == 6
    assert thread_count(c) == 1


def test_two_conversations_never_merge():
    c, _ = user()
    a = chat(c, [{"role": "user", "content": "hi"}])
    b = chat(c, [{"role": "user", "content": "hi"}])
    cv.expect(a, 200)
    cv.expect(b, 200)
    ta, tb = thread_id(a), thread_id(b)
    assert ta != tb
    reply = a.json["choices"][0]["message"]["content"]   # deterministic: both got the same
    assert b.json["choices"][0]["message"]["content"] == reply
    # they diverge: each extends... the newest thread with that history; neither merges
    ha = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": reply},
          {"role": "user", "content": "tell me about cats"}]
    hb = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": reply},
          {"role": "user", "content": "tell me about dogs"}]
    ra = chat(c, ha)
    rb = chat(c, hb)
    cv.expect(ra, 200)
    cv.expect(rb, 200)
    assert thread_id(ra) != thread_id(rb)
    for r, word in ((ra, "cats"), (rb, "dogs")):
        msgs = messages_of(c, thread_id(r))
        assert len(msgs) == 4, msgs
        assert msgs[2] == ("user", "tell me about " + word), msgs
    # the next turn of each goes to its own thread
    ha += [ra.json["choices"][0]["message"], {"role": "user", "content": "more cats"}]
    hb += [rb.json["choices"][0]["message"], {"role": "user", "content": "more dogs"}]
    ra2 = chat(c, ha)
    rb2 = chat(c, hb)
    assert thread_id(ra2) == thread_id(ra) and thread_id(rb2) == thread_id(rb)
    assert [m[1] for m in messages_of(c, thread_id(ra2)) if m[0] == "user"] == \
        ["hi", "tell me about cats", "more cats"]
    assert [m[1] for m in messages_of(c, thread_id(rb2)) if m[0] == "user"] == \
        ["hi", "tell me about dogs", "more dogs"]
    assert thread_count(c) == 2


def test_history_from_elsewhere_starts_a_thread_with_it():
    c, _ = user()
    hist = [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1 from elsewhere"},
            {"role": "user", "content": [{"type": "text", "text": "q2"},
                                         {"type": "text", "text": "part two"}]}]
    r = chat(c, hist)
    cv.expect(r, 200)
    msgs = messages_of(c, thread_id(r))
    assert msgs[:3] == [("user", "q1"), ("assistant", "a1 from elsewhere"), ("user", "q2\npart two")]
    assert len(msgs) == 4


def test_isolation_between_users():
    a, _ = user("oa-a")
    b, _ = user("oa-b")
    hist = [{"role": "user", "content": "same start"}]
    ra = chat(a, hist)
    cv.expect(ra, 200)
    hist.append(ra.json["choices"][0]["message"])
    hist.append({"role": "user", "content": "same next"})
    rb = chat(b, hist)                   # B's identical history never reaches A's thread
    cv.expect(rb, 200)
    assert thread_id(rb) != thread_id(ra)
    assert len(messages_of(a, thread_id(ra))) == 2
    assert len(messages_of(b, thread_id(rb))) == 4
    cv.expect(b.get("%s/%d" % (T, thread_id(ra))), 403)


def test_thread_header():
    a, _ = user("oa-h")
    b, _ = user("oa-h2")
    r = chat(a, [{"role": "user", "content": "pin me"}])
    tid = thread_id(r)
    hist = [{"role": "user", "content": "pin me"}, r.json["choices"][0]["message"],
            {"role": "user", "content": "next"}]
    r2 = chat(a, hist, headers={"X-Chatvault-Thread": str(tid)})
    cv.expect(r2, 200)
    assert thread_id(r2) == tid and len(messages_of(a, tid)) == 4
    # a thread made through the REST API can be named too
    rt = a.post(T, json={"messages": [{"role": "user", "content": "rest"},
                                      {"role": "assistant", "content": "ok"}]})
    cv.expect(rt, 201)
    rid = rt.json["id"]
    r3 = chat(a, [{"role": "user", "content": "rest"}, {"role": "assistant", "content": "ok"},
                  {"role": "user", "content": "continue"}], headers={"X-Chatvault-Thread": str(rid)})
    cv.expect(r3, 200)
    assert thread_id(r3) == rid and len(messages_of(a, rid)) == 4
    # messages that do not extend it: 409, nothing stored
    e = expect_oai_error(chat(a, [{"role": "user", "content": "something else"}],
                              headers={"X-Chatvault-Thread": str(rid)}), 409, "mismatch")
    assert e["code"] == "thread_mismatch", e
    assert len(messages_of(a, rid)) == 4
    # another user's thread and an unknown one: 404 in OpenAI's shape
    n_b = thread_count(b)
    for hdr in (str(tid), "999999999"):
        e = expect_oai_error(chat(b, hist, headers={"X-Chatvault-Thread": hdr}), 404, hdr)
        assert e["type"] == "invalid_request_error", e
    assert thread_count(b) == n_b
    assert len(messages_of(a, tid)) == 4
    expect_oai_error(chat(a, hist, headers={"X-Chatvault-Thread": "abc"}), 400, "bad header")


# ---- errors ------------------------------------------------------------------------------------

def test_401_in_openai_shape():
    for tok in (None, "not-a-token"):
        r = cv.request(SRV, "POST", CC, json={"messages": [{"role": "user", "content": "x"}]},
                       token=tok)
        e = expect_oai_error(r, 401, "token %r" % tok)
        assert e["type"] == "authentication_error" and e["param"] is None, e
        assert r.header("WWW-Authenticate") == "Bearer"
    e = expect_oai_error(cv.request(SRV, "GET", "/v1/models"), 401, "models")
    assert e["type"] == "authentication_error"


def test_404_405_in_openai_shape():
    c, _ = user()
    e = expect_oai_error(c.get("/v1/nothing-here"), 404, "unknown route")
    assert e["type"] == "invalid_request_error", e
    r = c.get(CC)
    e = expect_oai_error(r, 405, "GET completions")
    assert "POST" in r.header("Allow"), r.headers
    # the other routes keep their own shape
    r = c.get("/api/v1/nothing-here")
    assert r.status == 404 and "detail" in r.json


def test_bad_bodies_are_400_and_store_nothing():
    c, _ = user()
    bad = [
        (b"not json", None),
        (b"[1,2]", None),
        (b"{}", "messages"),
        (json.dumps({"messages": []}).encode(), "messages"),
        (json.dumps({"messages": "hi"}).encode(), "messages"),
        (json.dumps({"messages": [{"role": "assistant", "content": "a"}]}).encode(), "messages"),
        (json.dumps({"messages": [{"role": "user", "content": "q"},
                                  {"role": "assistant", "content": "a"}]}).encode(), "messages"),
        (json.dumps({"messages": [{"role": "system", "content": "only system"}]}).encode(),
         "messages"),
        (json.dumps({"messages": [{"role": "wizard", "content": "x"}]}).encode(),
         "messages[0].role"),
        (json.dumps({"messages": [{"role": "user", "content": 42}]}).encode(),
         "messages[0].content"),
        (json.dumps({"messages": [{"role": "user", "content": [{"type": "image_url",
                                                                "image_url": {"url": "x"}}]}]}).encode(),
         "messages[0].content[0]"),
        (json.dumps({"messages": [{"role": "user"}]}).encode(), "messages[0].content"),
        (json.dumps({"messages": [{"role": "user", "content": "x"}], "stream": "yes"}).encode(),
         "stream"),
        (json.dumps({"messages": [{"role": "user", "content": "x" * 100001}]}).encode(),
         "messages[0].content"),
        (json.dumps({"messages": [{"role": "user", "content": "x"}] * 2049}).encode(), "messages"),
    ]
    for body, param in bad:
        r = c.post(CC, body=body)
        e = expect_oai_error(r, 400, body[:60])
        assert e["type"] == "invalid_request_error", e
        assert e["param"] == param, (body[:80], e)
    assert thread_count(c) == 0
    # too large for --max-body: 413 in OpenAI's shape, answered before the body is read
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (CC, c.token, (1 << 20) + 100)).encode()
    r = cv.raw_request(SRV, head + b'{"messages":[')
    e = expect_oai_error(r, 413, "max-body")
    assert e["code"] == "request_too_large", e
    assert thread_count(cv.Client(SRV, c.token)) == 0


def test_tool_messages_are_skipped():
    c, _ = user()
    hist = [{"role": "user", "content": "weather?"},
            {"role": "assistant", "content": None,
             "tool_calls": [{"id": "t1", "type": "function",
                             "function": {"name": "w", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "sunny"},
            {"role": "developer", "content": "dev note"},
            {"role": "user", "content": "thanks"}]
    r = chat(c, hist)
    cv.expect(r, 200)
    msgs = messages_of(c, thread_id(r))
    assert [m[0] for m in msgs] == ["user", "user", "assistant"], msgs


def test_reply_survives_kill9():
    srv = cv.Server()
    try:
        c, _ = cv.new_client(srv, "oa-k")
        hist = [{"role": "user", "content": "remember this"}]
        r = chat(c, hist)
        cv.expect(r, 200)
        tid = thread_id(r)
        reply = r.json["choices"][0]["message"]["content"]
        srv.kill9()
        srv.start()
        c2 = cv.Client(srv, c.token)
        assert messages_of(c2, tid) == [("user", "remember this"), ("assistant", reply)]
        # and the fingerprint survived with it: the next turn extends the same thread
        hist += [r.json["choices"][0]["message"], {"role": "user", "content": "again"}]
        r2 = chat(c2, hist)
        cv.expect(r2, 200)
        assert thread_id(r2) == tid and len(messages_of(c2, tid)) == 4
    finally:
        srv.close()


def test_rest_change_makes_thread_unmatched():
    c, _ = user()
    r = chat(c, [{"role": "user", "content": "edit me"}])
    tid = thread_id(r)
    hist = [{"role": "user", "content": "edit me"}, r.json["choices"][0]["message"]]
    # an append through the REST API: the stored thread is no longer what the client holds
    cv.expect(c.post("%s/%d/messages" % (T, tid), json={"role": "user", "content": "web"}), 201)
    r2 = chat(c, hist + [{"role": "user", "content": "from the client"}])
    cv.expect(r2, 200)
    assert thread_id(r2) != tid
    assert len(messages_of(c, tid)) == 3


# ---- with an upstream (tests/lib/fake_llm.py) ------------------------------------------------

def test_upstream_forwarding_failure_and_retry():
    import fake_llm
    with fake_llm.FakeLLM() as f:
        srv = cv.Server(args=["--llm-url", f.variant_url("normal"), "--llm-timeout", "10"])
        try:
            c, _ = cv.new_client(srv, "oa-up")
            hist = [{"role": "system", "content": "sys prompt"},
                    {"role": "developer", "content": "dev prompt"},
                    {"role": "user", "content": "up?"}]
            r = chat(c, hist, stream=True)
            cv.expect(r, 200)
            data = parse_sse(r.body)
            assert data[-1] == "[DONE]", data
            text = "".join(json.loads(d)["choices"][0]["delta"].get("content", "")
                           for d in data[:-1] if json.loads(d).get("choices"))
            assert text == "Hello, world!", text
            sent = f.last_request["body"]
            assert sent["stream"] is True
            assert [(m["role"], m["content"]) for m in sent["messages"]] == [
                ("system", "sys prompt"), ("system", "dev prompt"), ("user", "up?")], sent
            tid = thread_id(r)
            assert messages_of(c, tid) == [("user", "up?"), ("assistant", "Hello, world!")]
            assert sent["model"] == "gpt-test", sent      # the request's model is forwarded
            # no model in the request: --llm-model's (default gpt-4o-mini)
            r = c.post(CC, json={"messages": [{"role": "user", "content": "no model"}]})
            cv.expect(r, 200)
            assert f.last_request["body"]["model"] == "gpt-4o-mini", f.last_request
            assert r.json["model"] == "gpt-4o-mini", r.json
            r = chat(c, [{"role": "user", "content": "forward my model"}],
                     extra={"model": "fake-echo"})
            cv.expect(r, 200)
            assert f.last_request["body"]["model"] == "fake-echo", f.last_request
            assert r.json["model"] == "fake-echo", r.json
            # GET /v1/models is the upstream's own list, checked: the bad entries left out
            r = c.get("/v1/models")
            cv.expect(r, 200)
            assert f.last_request["path"] == "/normal/v1/models", f.last_request
            assert f.last_request["headers"].get("Authorization") is None
            assert r.json["object"] == "list"
            assert [(m["id"], m["owned_by"], m["created"], m["object"]) for m in r.json["data"]] == [
                ("fake-normal", "fake", 1700000000, "model"),
                ("fake-echo", "upstream", 0, "model")], r.json
            thread_total = thread_count(c)
            # an upstream that fails: 502 in OpenAI's shape, the request's messages stay
            srv.stop()
            srv.args = ["--llm-url", f.variant_url("error"), "--llm-timeout", "10"]
            srv.start()
            c = cv.Client(srv, c.token)
            hist2 = [{"role": "user", "content": "up?"},
                     {"role": "assistant", "content": "Hello, world!"},
                     {"role": "user", "content": "and now?"}]
            e = expect_oai_error(chat(c, hist2), 502, "upstream error")
            assert e["type"] == "server_error", e
            # its model list fails too: 502 in OpenAI's shape
            e = expect_oai_error(c.get("/v1/models"), 502, "models, upstream error")
            assert e["type"] == "server_error", e
            assert len(messages_of(c, tid)) == 3
            # the same request again, with a working upstream: the same thread, only the reply
            srv.stop()
            srv.args = ["--llm-url", f.variant_url("normal"), "--llm-timeout", "10"]
            srv.start()
            c = cv.Client(srv, c.token)
            r = chat(c, hist2)
            cv.expect(r, 200)
            assert thread_id(r) == tid
            assert messages_of(c, tid) == [("user", "up?"), ("assistant", "Hello, world!"),
                                           ("user", "and now?"), ("assistant", "Hello, world!")]
            assert thread_count(c) == thread_total
        finally:
            srv.close()


def test_models_from_an_upstream_that_answers_no_list_is_502():
    import fake_llm
    with fake_llm.FakeLLM() as f:
        srv = cv.Server(args=["--llm-url", f.variant_url("garbage"), "--llm-timeout", "10"])
        try:
            c, _ = cv.new_client(srv, "oa-models")
            e = expect_oai_error(c.get("/v1/models"), 502, "models, not a list")
            assert e["type"] == "server_error", e
            assert f.last_request["path"] == "/garbage/v1/models", f.last_request
        finally:
            srv.close()
