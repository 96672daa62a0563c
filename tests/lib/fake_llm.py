#!/usr/bin/python3
"""fake_llm.py — a fake OpenAI-compatible upstream for chatvault's tests (Python 3 stdlib only).

A test double for the network peer behind --llm-url, nothing more: it answers
POST .../v1/chat/completions in the ways real servers (llama.cpp, Ollama, vLLM, OpenAI) and
broken networks do, so llm.c can be tested end to end on loopback.

The variant is picked by the first path segment (`http://127.0.0.1:PORT/slow` as the URL gives
POST /slow/v1/chat/completions) or else by the request's model (`"model":"slow"` or
`"fake-slow"`); anything else is `normal`:

  normal    200 text/event-stream, chunked: a comment, a role-only chunk, then the deltas
            "Hello" ", " "world" "!" 0.2 s apart, a finish_reason chunk and `data: [DONE]`
  echo      like normal, but the deltas are the words of the last user message
  crlf      like normal but CRLF line ends, no chunking, body ended by closing
  slow      like normal but 1 s between deltas (about 4 s in all)
  stall     200, the deltas "Hello" ", " at once, then nothing more (until the client goes away,
            or 120 s): a stream that stops midway, whatever the machine's load
  json      200 application/json with Content-Length: {"choices":[{"message":{"content":...}}]}
            (a server that ignores "stream":true)
  error     500 application/json {"error":{"message":"fake upstream failure",...}}
  hang      reads the request, then never answers (until the client goes away, or 120 s)
  reset     200, two deltas, then a TCP reset (SO_LINGER 0) mid-stream
  garbage   200 text/event-stream whose body is binary junk and HTML, then close
  nodone    deltas, then the chunked body ends without [DONE] or a finish_reason
  llamaerr  a delta, then llama.cpp's `error: {...}` line
  empty     only `data: [DONE]`
  auth      like normal, but 401 unless `Authorization: Bearer sekrit`
  nul       like normal, but the second delta is "before\u0000after" (U+0000 inside)
  nuljson   like json, with the content "before\u0000after"

The path must end in /v1/chat/completions (404 otherwise), which checks the client's URL join;
GET .../v1/models answers MODELS (below).
The last request (path, headers, parsed body) is kept: GET /_last returns it as JSON, and with
--record FILE it is also written to FILE (replaced atomically) for tests written in C.

Command line:  fake_llm.py [--port N] [--tls CERT KEY] [--record FILE]
prints one line `listening on http[s]://127.0.0.1:PORT` (flushed) once it accepts connections,
and serves until killed.
From Python:   with FakeLLM() as f: ... f.url ... f.last_request
"""

import argparse
import json
import os
import select
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VARIANTS = ("normal", "echo", "crlf", "slow", "stall", "json", "error", "hang", "reset", "garbage",
            "nodone", "llamaerr", "empty", "auth", "nul", "nuljson")
DELTAS = ["Hello", ", ", "world", "!"]
KEY = "sekrit"


# GET .../v1/models: two good entries and three that chatvault must leave out (an id that is
# not a string, one of 300 characters, an entry that is not an object); "owned_by" missing on
# the second. Variants "error" (500) and "garbage" (200, not JSON) by the first path segment.
MODELS = [{"id": "fake-normal", "object": "model", "created": 1700000000, "owned_by": "fake"},
          {"id": "fake-echo", "object": "model"},
          {"id": 5, "object": "model"},
          {"id": "x" * 300, "object": "model"},
          "fake-loose"]


def chunk(delta=None, role=None, finish=None):
    d = {}
    if role:
        d["role"] = role
    if delta is not None:
        d["content"] = delta
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
            "model": "fake", "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-llm/1"

    def log_message(self, fmt, *args):  # quiet: tests read stdout
        pass

    # --- plumbing ----------------------------------------------------------------------------
    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def start_stream(self, chunked=True):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.chunked = chunked
        self.close_connection = True

    def put(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.wfile.write(data)
        self.wfile.flush()

    def end_stream(self):
        if self.chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def event(self, obj, eol="\n"):
        payload = obj if isinstance(obj, str) else json.dumps(obj)
        self.put("data: " + payload + eol + eol)

    # --- requests ----------------------------------------------------------------------------
    def do_GET(self):
        if self.path == "/_last":
            self.send_json(200, self.server.last_request or {})
        elif self.path.split("?")[0].endswith("/v1/models"):
            self.server.record({"path": self.path, "headers": dict(self.headers.items()),
                                "body": None})
            seg = self.path.lstrip("/").split("/")[0]
            if seg == "error":
                self.send_json(500, {"error": {"message": "fake upstream failure"}})
            elif seg == "garbage":
                body = b"<html>not a list</html>"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_json(200, {"object": "list", "data": MODELS})
        else:
            self.send_json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.server.record({"path": self.path, "headers": dict(self.headers.items()),
                            "body": body if body is not None else raw.decode("utf-8", "replace")})
        if not self.path.split("?")[0].endswith("/v1/chat/completions"):
            self.send_json(404, {"error": {"message": "no route %s" % self.path}})
            return
        seg = self.path.lstrip("/").split("/")[0]
        model = body.get("model", "") if isinstance(body, dict) else ""
        if model.startswith("fake-"):
            model = model[5:]
        variant = seg if seg in VARIANTS else model if model in VARIANTS else "normal"
        getattr(self, "v_" + variant)(body if isinstance(body, dict) else {})

    # --- variants ----------------------------------------------------------------------------
    def stream(self, deltas, gap, eol="\n", chunked=True):
        self.start_stream(chunked)
        self.put(": fake-llm keep-alive" + eol + eol)
        self.event(chunk(role="assistant"), eol)
        for d in deltas:
            time.sleep(gap)
            self.event(chunk(d), eol)
        self.event(chunk(finish="stop"), eol)
        self.event("[DONE]", eol)
        self.end_stream()

    def v_normal(self, body):
        self.stream(DELTAS, 0.2)

    def v_auth(self, body):
        if self.headers.get("Authorization") != "Bearer " + KEY:
            self.send_json(401, {"error": {"message": "Incorrect API key provided",
                                           "type": "invalid_request_error"}})
            return
        self.stream(DELTAS, 0.05)

    def v_echo(self, body):
        last = ""
        for m in body.get("messages") or []:
            if isinstance(m, dict) and m.get("role") == "user":
                last = m.get("content") or ""
        words = [w + " " for w in last.split(" ")]
        if words:
            words[-1] = words[-1][:-1]
        self.stream([w for w in words if w], 0.01)

    def v_crlf(self, body):
        self.stream(DELTAS, 0.05, eol="\r\n", chunked=False)

    def v_slow(self, body):
        self.stream(DELTAS, 1.0)

    def v_json(self, body):
        self.send_json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant",
                                                      "content": "".join(DELTAS)}}]})

    def v_error(self, body):
        self.send_json(500, {"error": {"message": "fake upstream failure", "type": "server_error"}})

    def wait_for_close(self):
        # send nothing more; return when the client closes (or after 120 s)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.connection], [], [], 0.5)
            if r:
                try:
                    if not self.connection.recv(1024):
                        break
                except OSError:
                    break
        self.close_connection = True

    def v_hang(self, body):
        self.wait_for_close()

    def v_stall(self, body):
        self.start_stream()
        self.event(chunk(role="assistant"))
        self.event(chunk(DELTAS[0]))
        self.event(chunk(DELTAS[1]))
        self.wait_for_close()

    def v_reset(self, body):
        self.start_stream()
        self.event(chunk(DELTAS[0]))
        time.sleep(0.05)
        self.event(chunk(DELTAS[1]))
        time.sleep(0.05)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True
        self.wfile = open(os.devnull, "wb")  # finish() must not write to the dead socket

    def v_garbage(self, body):
        self.start_stream(chunked=False)
        self.wfile.write(b"<html><body>502 Bad Gateway</body></html>\n\x00\xff\xfe garbage\n")
        for i in range(5):
            self.wfile.write(bytes((i * 37 + j) % 256 for j in range(200)) + b"\n")
            self.wfile.flush()
            time.sleep(0.01)

    def v_nodone(self, body):
        self.start_stream()
        for d in DELTAS:
            self.event(chunk(d))
        self.end_stream()

    def v_llamaerr(self, body):
        self.start_stream()
        self.event(chunk(DELTAS[0]))
        self.put('error: {"code":500,"message":"the context is full","type":"server_error"}\n\n')
        self.end_stream()

    def v_nul(self, body):
        # a delta holding U+0000 (json.dumps writes it as \u0000) after a normal first delta
        self.stream([DELTAS[0], "before\u0000after", DELTAS[3]], 0.05)

    def v_nuljson(self, body):
        self.send_json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant",
                                                      "content": "before\u0000after"}}]})

    def v_empty(self, body):
        self.start_stream()
        self.event("[DONE]")
        self.end_stream()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, record_path=None):
        super().__init__(addr, Handler)
        self.last_request = None
        self.record_path = record_path
        self.lock = threading.Lock()

    def record(self, req):
        with self.lock:
            self.last_request = req
            if self.record_path:
                tmp = self.record_path + ".tmp"
                with open(tmp, "w", encoding="utf-8") as f:
                    json.dump(req, f)
                os.replace(tmp, self.record_path)

    def handle_error(self, request, client_address):
        pass  # clients that vanish mid-answer are part of the tests


def make_server(port=0, tls=None, record=None):
    srv = Server(("127.0.0.1", port), record)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    return srv


class FakeLLM:
    """In-process fake for Python tests: `with FakeLLM() as f:` then use f.url."""

    def __init__(self, tls=None):
        self.srv = make_server(0, tls)
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)

    @property
    def port(self):
        return self.srv.server_address[1]

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def variant_url(self, name):
        return "%s/%s" % (self.url, name)

    @property
    def last_request(self):
        return self.srv.last_request

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main():
    ap = argparse.ArgumentParser(description="fake OpenAI-compatible upstream for tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--record", metavar="FILE", help="write each request here as JSON")
    a = ap.parse_args()
    srv = make_server(a.port, a.tls, a.record)
    print("listening on %s://127.0.0.1:%d" % ("https" if a.tls else "http", srv.server_address[1]),
          flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    main()
