"""GET /openapi.json and GET /docs (contract v2, "API description"; issue 15).

- /openapi.json is served from the binary, byte for byte src/web/openapi.json, with the cache
  headers of every embedded file (ETag, 304, no-cache), and is a valid OpenAPI 3.1 document
  by a real validator (@seriousme/openapi-schema-validator, pinned in tests/openapi/).
- Every documented method + path is a route of the server: without a token an operation that
  declares the bearer scheme answers 401, one that declares none never does; with a token no
  documented operation answers 405 or the router's "no route" 404.
- The answers of a session that uses every route (threads, search, sharing, catalog, chats,
  exports, imports, the OpenAI-compatible endpoint) have documented statuses, and their JSON
  bodies match the documented schemas (tests/openapi/check_responses.mjs, Ajv).
- GET /docs is an HTML page with exactly the CSP (and other security headers) of the app's page.

The C side (tests/unit/test_openapi.c) walks the route table against the document both ways.
Needs node (>= 20) for the validator; the test that needs it is skipped when node is absent.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import cv  # noqa: E402
from cv import expect  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OA_DIR = os.path.join(cv.ROOT, "tests", "openapi")
SRC = os.path.join(cv.ROOT, "src", "web", "openapi.json")
METHODS = ("get", "put", "post", "patch", "delete")
SRV = None


def setup_module():
    global SRV
    SRV = cv.Server()


def teardown_module():
    if SRV:
        SRV.close()


def load_doc():
    r = expect(SRV.req("GET", "/openapi.json"), 200, "GET /openapi.json")
    return r, json.loads(r.body.decode("utf-8"))


def operations(doc):
    for path, item in doc["paths"].items():
        for m in METHODS:
            if m in item:
                yield m.upper(), path, item[m]


def fill(path):
    """A concrete path for a template: ids that exist nowhere, a well-formed picture token."""
    return (path.replace("{id}", "987654").replace("{user_id}", "987654")
                .replace("{index}", "0").replace("{token}", "ab" * 32))


def node_or_skip():
    node = shutil.which("node")
    if not node:
        raise cv.Skip("node is not installed: the OpenAPI validator cannot run")
    if not os.path.exists(os.path.join(OA_DIR, "node_modules", "@seriousme",
                                       "openapi-schema-validator", "package.json")):
        p = subprocess.run(["bash", os.path.join(OA_DIR, "setup.sh")], capture_output=True,
                           text=True, timeout=300)
        assert p.returncode == 0, "tests/openapi/setup.sh failed:\n%s%s" % (p.stdout, p.stderr)
    return node


def test_served_from_the_binary_with_cache_headers():
    r, doc = load_doc()
    assert r.header("Content-Type", "").startswith("application/json"), r.headers
    with open(SRC, "rb") as f:
        assert r.body == f.read(), "the binary serves another openapi.json than src/web/openapi.json (rebuild?)"
    etag = r.header("ETag")
    assert etag and r.header("Cache-Control") == "no-cache", r.headers
    expect(SRV.req("GET", "/openapi.json", headers={"If-None-Match": etag}), 304, "revalidation")
    assert doc["openapi"].startswith("3.1."), doc["openapi"]
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]["bearer"]["description"]}
    h = SRV.req("HEAD", "/openapi.json")
    assert h.status == 200 and h.body == b"", h


def test_valid_openapi_31_by_a_real_validator():
    node = node_or_skip()
    r, _ = load_doc()
    p = subprocess.run([node, os.path.join(OA_DIR, "validate.mjs"), "-"], input=r.body,
                       capture_output=True, timeout=120)
    out = p.stdout.decode() + p.stderr.decode()
    assert p.returncode == 0 and "valid OpenAPI 3.1" in out, out


def test_every_documented_operation_is_routed_and_protected_as_documented():
    _, doc = load_doc()
    _, token, _ = cv.new_user(SRV, "oa")
    n = 0
    for method, path, op in operations(doc):
        n += 1
        url = fill(path)
        public = op.get("security") == []
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        r = SRV.req(method, url, body=body)
        if public:
            assert r.status != 401, "%s %s is documented public but answers 401: %r" % (method, path, r)
        else:
            assert r.status == 401, "%s %s is documented with a token but answers %r without" % (method, path, r)
            assert r.header("WWW-Authenticate") == "Bearer", r.headers
        assert r.status != 405, "%s %s: 405 (%r)" % (method, path, r)
        if public or (method, path) in (("POST", "/api/v1/auth/logout"), ("DELETE", "/api/users/me")):
            continue   # those would end the session used below
        if (method, path) == ("GET", "/api/v1/events"):
            url += "?since=bad"        # a valid request would open a stream that never ends
        r = SRV.req(method, url, body=body, token=token)
        assert r.status not in (401, 405), "%s %s with a token: %r" % (method, path, r)
        # the router's own 404 for an unknown path is {"detail":"Not Found"}; a handler's names
        # what is missing (the members POST uses the router's body on purpose: not for id 987654
        # of nobody, which is "Thread not found"... unless it is checked first, so allow it there)
        if r.status == 404 and (method, path) != ("POST", "/api/v1/chat-threads/{id}/members"):
            assert r.json != {"detail": "Not Found"}, "%s %s: the router's no-route 404" % (method, path)
    assert n >= 50, n
    # an undocumented path under /api/ is the router's 404, and a method not documented for a
    # documented path is a 405: the document and the router agree on what does not exist
    expect(SRV.req("GET", "/api/v1/no-such-route", token=token), 404)
    paths = doc["paths"]

    def matches(template, concrete):
        a, b = template.split("/"), concrete.split("/")
        return len(a) == len(b) and all(x == y or x.startswith("{") for x, y in zip(a, b))

    for path, item in paths.items():
        missing = [m.upper() for m in METHODS if m not in item]
        # a literal path (".../import") may be a parameter path's value for another method
        missing = [m for m in missing
                   if not any(m.lower() in it and p != path and matches(p, fill(path)) for p, it in paths.items())]
        if path.startswith("/api/") and missing:
            r = SRV.req(missing[0], fill(path), body=b"{}", token=token)
            assert r.status == 405, "%s %s is not documented but answers %r" % (missing[0], path, r)
            allow = {x.strip() for x in r.header("Allow", "").split(",")}
            want = {m.upper() for p, it in paths.items() if matches(p, fill(path)) for m in METHODS if m in it}
            assert allow == want, (path, allow, want)


class Recorder:
    """Requests through the API, each recorded as (method, template, status, type, body)."""

    def __init__(self, token):
        self.token = token
        self.seen = []

    def __call__(self, method, template, url=None, expect_status=None, raw=False, **kw):
        kw.setdefault("token", self.token)
        r = SRV.req(method, url or template, **kw)
        if expect_status is not None:
            expect(r, expect_status, "%s %s" % (method, url or template))
        ctype = r.header("Content-Type", "")
        body = r.json if ctype.startswith("application/json") else (None if not r.body else "<%d bytes>" % len(r.body))
        if method == "HEAD":
            body = None
        self.seen.append({"method": method, "path": template.split("?")[0], "status": r.status,
                          "type": ctype, "body": body})
        return r


def test_real_answers_match_the_documented_schemas():
    node = node_or_skip()
    T = "/api/v1/chat-threads"
    email, token, _ = cv.new_user(SRV, "oas")
    email2, token2, user2 = cv.new_user(SRV, "oas2")
    rec = Recorder(token)
    # accounts (the register/login answers themselves)
    e3 = cv.unique_email("oas3")
    rec("POST", "/api/v1/auth/register", json={"email": e3, "password": cv.DEFAULT_PASSWORD}, token=None, expect_status=201)
    rec("POST", "/api/v1/auth/register", json={"email": e3, "password": cv.DEFAULT_PASSWORD}, token=None, expect_status=409)
    rec("POST", "/api/v1/auth/register", json={"email": "x"}, token=None, expect_status=422)
    lo = rec("POST", "/api/v1/auth/login", json={"email": e3, "password": cv.DEFAULT_PASSWORD}, token=None, expect_status=200)
    rec("POST", "/api/v1/auth/login", json={"email": e3, "password": "wrong password"}, token=None, expect_status=401)
    rec("GET", "/api/v1/auth/me", expect_status=200)
    rec("GET", "/api/v1/auth/me", token="nope", expect_status=401)
    rec("POST", "/api/v1/auth/logout", token=lo.json["access_token"], expect_status=204)
    # threads
    t = rec("POST", T, json={"title": "Plans", "messages": [{"role": "user", "content": "hello café"}]}, expect_status=201).json
    tid = t["id"]
    one = "%s/%d" % (T, tid)
    rec("POST", T, json={"title": ""}, expect_status=422)
    rec("GET", T, url=T + "?limit=1", expect_status=200)
    rec("GET", T + "/{id}", url=one, expect_status=200)
    rec("GET", T + "/{id}", url="%s/987654" % T, expect_status=404)
    rec("PUT", T + "/{id}", url=one, json={"tags": ["work"], "pinned": True}, expect_status=200)
    rec("POST", T + "/{id}/messages", url=one + "/messages", json={"role": "assistant", "content": "hi"}, expect_status=201)
    rec("GET", T + "/{id}/messages", url=one + "/messages?limit=1", expect_status=200)
    rec("PATCH", T + "/{id}/messages/{index}", url=one + "/messages/1", json={"content": "hi!"}, expect_status=200)
    rec("PATCH", T + "/{id}/messages/{index}", url=one + "/messages/99", json={"content": "x"}, expect_status=404)
    rec("POST", T + "/{id}/complete", url=one + "/complete", json={"content": "and then?"}, expect_status=200)
    rec("POST", T + "/{id}/complete", url=one + "/complete", json={"regenerate": True}, expect_status=200)
    rec("POST", T + "/{id}/complete", url=one + "/complete", json={}, expect_status=422)
    sse = rec("POST", T + "/{id}/complete", url=one + "/complete", json={"content": "stream it", "stream": True}, expect_status=200)
    assert sse.header("Content-Type", "").startswith("text/event-stream") and b"event: done" in sse.body, sse
    f = rec("POST", T + "/{id}/fork", url=one + "/fork", json={"upto": 1, "title": "Fork"}, expect_status=201).json
    rec("DELETE", T + "/{id}/messages", url="%s/%d/messages?from=0" % (T, f["id"]), expect_status=204)
    rec("GET", T + "/{id}/export", url=one + "/export?format=md", expect_status=200)
    rec("GET", T + "/{id}/export", url=one + "/export", expect_status=200)
    rec("GET", T + "/{id}/export", url=one + "/export?format=pdf", expect_status=422)
    rec("POST", T + "/import", json=[{"client_id": "a1", "title": "Old", "messages": []}, {"client_id": 7}], expect_status=200)
    # sharing
    rec("POST", T + "/{id}/members", url=one + "/members", json={"email": email2}, expect_status=201)
    rec("POST", T + "/{id}/members", url=one + "/members", json={"email": email2}, expect_status=200)
    rec("GET", T + "/{id}/members", url=one + "/members", expect_status=200)
    rec("GET", T, url=T + "?shared=true", token=token2, expect_status=200)
    rec("GET", T + "/{id}", url=one, token=token2, expect_status=200)
    rec("PUT", T + "/{id}", url=one, json={"title": "mine"}, token=token2, expect_status=403)
    rec("DELETE", T + "/{id}/members/{user_id}", url="%s/members/%d" % (one, user2["id"]), expect_status=204)
    # share links
    sl = rec("POST", T + "/{id}/share", url=one + "/share", json={"expires_in": 3600}, expect_status=201).json
    rec("POST", T + "/{id}/share", url=one + "/share", json={"expires_in": 0}, expect_status=422)
    rec("POST", T + "/{id}/share", url=one + "/share", token=token2, json={}, expect_status=403)
    rec("GET", "/api/v1/shares", expect_status=200)
    rec("GET", "/api/v1/shared/{token}", url="/api/v1/shared/" + sl["token"], token=None, expect_status=200)
    rec("GET", "/s/{token}", url=sl["url"], token=None, expect_status=200)
    rec("DELETE", "/api/v1/shares/{token}", url="/api/v1/shares/" + sl["token"], expect_status=204)
    rec("DELETE", "/api/v1/shares/{token}", url="/api/v1/shares/" + sl["token"], expect_status=404)
    rec("GET", "/api/v1/shared/{token}", url="/api/v1/shared/" + sl["token"], token=None, expect_status=404)
    rec("GET", "/s/{token}", url=sl["url"], token=None, expect_status=404)
    # organize, search, export, import
    rec("GET", "/api/v1/tags", expect_status=200)
    rec("GET", "/api/v1/stats", url="/api/v1/stats?days=7", expect_status=200)
    rec("GET", "/api/v1/stats", url="/api/v1/stats?days=0", expect_status=422)
    rec("GET", "/api/v1/search", url="/api/v1/search?q=cafe", expect_status=200)
    rec("GET", "/api/v1/search", url="/api/v1/search?q=", expect_status=422)
    rec("GET", "/api/v1/export", expect_status=200)
    chatgpt = [{"id": "c1", "title": "Imported", "create_time": 1700000000, "update_time": 1700000100, "current_node": "n2",
                "mapping": {"n1": {"id": "n1", "parent": None, "children": ["n2"], "message": {"author": {"role": "user"}, "content": {"content_type": "text", "parts": ["hi"]}, "create_time": 1700000000}},
                            "n2": {"id": "n2", "parent": "n1", "children": [], "message": {"author": {"role": "assistant"}, "content": {"content_type": "text", "parts": ["hello"]}, "create_time": 1700000050}}}}]
    rec("POST", "/api/v1/import", json=chatgpt, expect_status=200)
    rec("POST", "/api/v1/import", body=b"[{", expect_status=422)
    # catalog and character chats
    ch = rec("POST", "/api/characters", json={"name": "Ada", "description": "Engines."}, expect_status=201).json
    rec("GET", "/api/characters", url="/api/characters?limit=1", expect_status=200)
    rec("GET", "/api/characters/{id}", url="/api/characters/%d" % ch["id"], expect_status=200)
    rec("PUT", "/api/characters/{id}", url="/api/characters/%d" % ch["id"], json={"greeting": "Hello."}, expect_status=200)
    rec("PUT", "/api/characters/{id}", url="/api/characters/%d" % ch["id"], json={"greeting": "x"}, token=token2, expect_status=403)
    rec("GET", "/api/characters/recommended", expect_status=200)
    gone = rec("POST", "/api/characters", json={"name": "Gone"}, expect_status=201).json
    rec("DELETE", "/api/characters/{id}", url="/api/characters/%d" % gone["id"], token=token2, expect_status=403)
    rec("DELETE", "/api/characters/{id}", url="/api/characters/%d" % gone["id"], expect_status=204)
    rec("GET", "/api/characters/{id}", url="/api/characters/%d" % gone["id"], expect_status=404)
    rec("POST", "/api/characters/import", body=json.dumps({"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Card"}}).encode(), expect_status=201)
    sc = rec("POST", "/api/scenes", json={"name": "Cave"}, expect_status=201).json
    rec("GET", "/api/scenes", expect_status=200)
    rec("GET", "/api/scenes/{id}", url="/api/scenes/%d" % sc["id"], expect_status=200)
    pe = rec("POST", "/api/personas", json={"name": "Me"}, expect_status=201).json
    rec("GET", "/api/personas", expect_status=200)
    chat = rec("POST", "/api/chat", json={"character_id": ch["id"], "scene_id": sc["id"], "persona_id": pe["id"], "message": "Hello"}, expect_status=200).json
    cid = chat["chat_id"]
    rec("POST", "/api/chat", json={"chat_id": "not-a-uuid", "message": "x"}, expect_status=422)
    rec("POST", "/api/chat", json={"character_id": 987654, "message": "x"}, expect_status=404)
    rec("POST", "/api/chat", json={"chat_id": cid, "message": "More", "stream": True}, expect_status=200)
    rec("POST", "/api/chat/rename", json={"chat_id": cid, "title": "Renamed"}, expect_status=200)
    rec("POST", "/api/chat/restore", json={"chat_id": cid}, expect_status=200)
    rec("GET", "/api/chat-history", expect_status=200)
    rec("GET", "/api/chat-history/archived", expect_status=200)
    rec("GET", "/api/chat/export", url="/api/chat/export?chat_id=%s&format=txt" % cid, expect_status=200)
    rec("GET", "/api/chat/export", url="/api/chat/export?chat_id=%s" % uuid.uuid4(), expect_status=404)
    rec("POST", "/api/chat/delete", json={"chat_id": cid}, expect_status=200)
    rec("GET", "/api/users/me", expect_status=200)
    me = SRV.req("GET", "/api/v1/auth/me", token=token).json
    rec("GET", "/api/user/{user_id}", url="/api/user/%d" % me["id"], expect_status=200)
    rec("GET", "/api/user/{user_id}", url="/api/user/%d" % user2["id"], expect_status=403)
    rec("GET", "/api/pictures/{token}", url="/api/pictures/" + "ab" * 32, token=None, expect_status=404)
    e4 = cv.unique_email("oas4")
    rec("POST", "/api/users", json={"email": e4, "password": cv.DEFAULT_PASSWORD}, token=None, expect_status=201)
    l4 = rec("POST", "/api/login", json={"email": e4, "password": cv.DEFAULT_PASSWORD}, token=None, expect_status=200)
    rec("DELETE", "/api/users/me", token=l4.json["access_token"], expect_status=204)
    # OpenAI-compatible
    rec("GET", "/v1/models", expect_status=200)
    rec("GET", "/v1/models", token="nope", expect_status=401)
    oc = rec("POST", "/v1/chat/completions", json={"model": "x", "messages": [{"role": "user", "content": "Hi"}]}, expect_status=200)
    assert oc.header("X-Chatvault-Thread"), oc.headers
    rec("POST", "/v1/chat/completions", json={"messages": "no"}, expect_status=400)
    st = rec("POST", "/v1/chat/completions", json={"stream": True, "messages": [{"role": "user", "content": "Streamed"}]}, expect_status=200)
    assert st.header("Content-Type", "").startswith("text/event-stream") and b"data: [DONE]" in st.body, st
    assert st.header("X-Chatvault-Thread"), st.headers
    rec("POST", "/v1/chat/completions", json={"messages": [{"role": "user", "content": "Hi"}]}, headers={"X-Chatvault-Thread": "987654"}, expect_status=404)
    # sync: the replay, and the event stream's head and first frames read from a socket
    ch = rec("GET", "/api/v1/changes", expect_status=200).json
    assert ch["changes"] and ch["more"] is False, ch
    rec("GET", "/api/v1/changes", url="/api/v1/changes?limit=1&since=" + ch["cursor"], expect_status=200)
    rec("GET", "/api/v1/changes", url="/api/v1/changes?since=bad", expect_status=422)
    rec("GET", "/api/v1/events", url="/api/v1/events?since=bad", expect_status=422)
    with socket.create_connection(("127.0.0.1", SRV.port), timeout=10) as sk:
        sk.sendall(("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
                    % token).encode())
        got = b""
        while b"event: ready" not in got:
            b = sk.recv(4096)
            assert b, got
            got += b
        head = got.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        ctype = [ln.split(":", 1)[1].strip() for ln in head.split("\r\n") if ln.lower().startswith("content-type:")]
        assert head.startswith("HTTP/1.1 200") and ctype == ["text/event-stream"], head
        rec.seen.append({"method": "GET", "path": "/api/v1/events", "status": 200, "type": ctype[0],
                         "body": "<%d bytes>" % len(got)})
    # service
    rec("GET", "/healthz", token=None, expect_status=200)
    rec("GET", "/openapi.json", token=None, expect_status=200)
    rec("GET", "/docs", token=None, expect_status=200)
    rec("DELETE", T + "/{id}", url=one, expect_status=204)

    _, doc = load_doc()
    documented = {(m, p) for m, p, _ in operations(doc)}
    exercised = {(a["method"], a["path"]) for a in rec.seen}
    assert documented - exercised == {("POST", "/api/v1/auth/logout")} - exercised, sorted(documented - exercised)
    lines = "".join(json.dumps(a) + "\n" for a in rec.seen)
    p = subprocess.run([node, os.path.join(OA_DIR, "check_responses.mjs"), SRC], input=lines.encode(),
                       capture_output=True, timeout=120)
    out = p.stdout.decode() + p.stderr.decode()
    assert p.returncode == 0, "answers that the document does not describe:\n" + out


def test_docs_page_has_the_apps_csp():
    app = expect(SRV.req("GET", "/"), 200, "GET /")
    r = expect(SRV.req("GET", "/docs"), 200, "GET /docs")
    assert r.header("Content-Type", "").startswith("text/html"), r.headers
    csp = r.header("Content-Security-Policy")
    assert csp and csp == app.header("Content-Security-Policy"), (csp, app.header("Content-Security-Policy"))
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp, csp
    for h in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
        assert r.header(h) == app.header(h), h
    html = r.body.decode("utf-8")
    assert '<script type="module" src="/docs.js"></script>' in html, html
    assert "<script>" not in html and " style=" not in html and "http://" not in html and "https://" not in html
    js = expect(SRV.req("GET", "/docs.js"), 200, "GET /docs.js")
    assert js.header("Content-Type", "").startswith("text/javascript"), js.headers
    assert js.header("Content-Security-Policy") == csp
    expect(SRV.req("GET", "/docs/"), 200, "a trailing slash")
