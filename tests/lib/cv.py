"""Shared helpers for chatvault's black-box tests (Python 3 stdlib only).

What is here:
- find_binary(): the chatvault executable under test.
- Server: a fresh temporary directory + database, `chatvault serve` on a free port,
  stop (SIGTERM, exit code 0 expected), kill -9, restart on the same database.
- request()/Client: a small HTTP client that returns Resp(status, headers, body, json).
- raw_request(): send exact bytes on a socket (invalid UTF-8, lying Content-Length, ...).
- register()/login()/auth_headers()/new_user(): account helpers.
- run_cli(): run a subcommand and capture its exit code, stdout and stderr.
- expect()/expect_422()/expect_error(): assertions with failure messages that show the response.

Nothing here knows the server's internals: the tests see only its HTTP and CLI contract
(/work/shared/contract.md, docs/conventions.md).
"""

import http.client
import itertools
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# The contract's timestamp format: ISO 8601 UTC, milliseconds, `Z`.
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LISTEN_RE = re.compile(r"^listening on https?://127\.0\.0\.1:(\d+)$")   # https with --tls-cert


def find_binary():
    """The binary under test: $CHATVAULT_BIN, else build/asan/chatvault, else build/chatvault."""
    env = os.environ.get("CHATVAULT_BIN")
    if env:
        path = env if os.path.isabs(env) else os.path.join(ROOT, env)
        if not os.access(path, os.X_OK):
            raise RuntimeError("CHATVAULT_BIN=%s is not an executable file" % env)
        return path
    for rel in ("build/asan/chatvault", "build/chatvault"):
        path = os.path.join(ROOT, rel)
        if os.access(path, os.X_OK):
            return path
    raise RuntimeError("no chatvault binary: build it (make asan) or set CHATVAULT_BIN")


_hooks = None


def has_test_hooks():
    """Whether the binary under test is a test build (-DCV_TEST_HOOKS, the ASan build), which
    obeys the CV_TEST_* variables its `version` names on a last line."""
    global _hooks
    if _hooks is None:
        out = subprocess.run([find_binary(), "version"], stdout=subprocess.PIPE,
                             env=base_env(), timeout=60).stdout.decode("utf-8", "replace")
        _hooks = any(ln.startswith("test hooks: ") for ln in out.splitlines())
    return _hooks


def base_env(extra=None):
    """The environment for a child chatvault: ours minus any CHATVAULT_* setting (so a developer's
    shell cannot change what a test means), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATVAULT_")}
    # ASan/UBSan: fail loudly. Leak checking stays on unless the caller set ASAN_OPTIONS.
    env.setdefault("ASAN_OPTIONS", "abort_on_error=0:halt_on_error=1:detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    if extra:
        env.update(extra)
    return env


_counter = itertools.count(1)


def unique_email(tag="u"):
    """A fresh, lower-case email, unique across processes and runs."""
    return "%s-%d-%s@example.test" % (tag, next(_counter), uuid.uuid4().hex[:10])


def _tail(path, n=4000):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------

class Skip(Exception):
    """Raised by a test that cannot run here (not root, a tool missing): tests/run.py prints
    `skip NAME: reason` and counts it neither passed nor failed."""


class ServerError(AssertionError):
    pass


class Server:
    """`chatvault serve` on a fresh temporary database.

        srv = Server(args=["--token-ttl", "2s"], env={"CHATVAULT_NO_SIGNUP": "1"})
        srv.url, srv.port, srv.db, srv.dir
        srv.stop()      # SIGTERM, waits, asserts exit code 0
        srv.kill9()     # SIGKILL, no checks
        srv.restart()   # stop (if running) and start again on the same database
        srv.close()     # stop and remove the temporary directory

    Also a context manager (close() on exit). stderr goes to srv.stderr_path; its tail is
    included in every ServerError.
    """

    START_TIMEOUT = 30.0
    STOP_TIMEOUT = 30.0

    def __init__(self, args=(), env=None, db=None, start=True, binary=None, access_log="off"):
        self.binary = binary or find_binary()
        self.access_log = access_log
        self.dir = tempfile.mkdtemp(prefix="cv-test-")
        self.db = db or os.path.join(self.dir, "chatvault.db")
        self.args = list(args)
        self.env = dict(env or {})
        self.proc = None
        self.port = None
        self.url = None
        self.starts = 0
        self.stderr_path = None
        self._stdout_path = None
        if start:
            self.start()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            raise ServerError("server already running")
        self.starts += 1
        self.stderr_path = os.path.join(self.dir, "serve.%d.stderr" % self.starts)
        self._stdout_path = os.path.join(self.dir, "serve.%d.stdout" % self.starts)
        cmd = [self.binary, "serve", "--db", self.db, "--listen", "127.0.0.1:0",
               "--access-log", self.access_log] + self.args
        if os.environ.get("CV_TEST_BACKEND") == "cluster":
            # the same suite on a one-node cluster (tests/cluster/test_api_on_cluster.py)
            if not getattr(self, "cluster_addr", None):
                s = socket.socket()
                s.bind(("127.0.0.1", 0))
                self.cluster_addr = "127.0.0.1:%d" % s.getsockname()[1]
                s.close()
            cmd += ["--cluster-dir", os.path.join(self.dir, "cluster"),
                    "--cluster-addr", self.cluster_addr]
        self.cmd = cmd
        errf = open(self.stderr_path, "wb")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=errf, env=base_env(self.env), cwd=self.dir)
        finally:
            errf.close()
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + self.START_TIMEOUT
        buf = b""
        port = None
        while port is None:
            left = deadline - time.monotonic()
            if left <= 0:
                self.proc.kill()
                self.proc.wait()
                raise ServerError("server did not print its listening line within %.0fs; "
                                  "stdout so far %r%s" % (self.START_TIMEOUT, buf, self._stderr_note()))
            r, _, _ = select.select([fd], [], [], min(left, 0.5))
            if not r:
                if self.proc.poll() is not None:
                    raise ServerError("server exited with %s before listening; stdout %r%s"
                                      % (self.proc.returncode, buf, self._stderr_note()))
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                code = self.proc.wait()
                raise ServerError("server closed stdout (exit %s) before listening; stdout %r%s"
                                  % (code, buf, self._stderr_note()))
            buf += chunk
            while b"\n" in buf and port is None:
                line, buf = buf.split(b"\n", 1)
                m = LISTEN_RE.match(line.decode("utf-8", "replace").rstrip("\r"))
                if m:
                    port = int(m.group(1))
        # Keep draining stdout so the server can never block on a full pipe.
        rest = buf
        out = open(self._stdout_path, "wb")
        out.write(rest)

        def drain(stream=self.proc.stdout, out=out):
            try:
                for chunk in iter(lambda: stream.read1(4096), b""):
                    out.write(chunk)
                    out.flush()
            except (OSError, ValueError):
                pass
            finally:
                out.close()
        threading.Thread(target=drain, daemon=True).start()
        self.port = port
        self.url = "http://127.0.0.1:%d" % port
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, check=True, sig=signal.SIGTERM):
        """Stop with SIGTERM and wait; with check, assert exit code 0 (ASan reports fail here).
        The signal is sent once only: a second one may legitimately force an exit."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None and not getattr(proc, "cv_signaled", False):
            proc.send_signal(sig)
        if proc.poll() is None:
            try:
                proc.wait(self.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                if check:
                    raise ServerError("server did not exit within %.0fs of %s%s"
                                      % (self.STOP_TIMEOUT, signal.Signals(sig).name,
                                         self._stderr_note()))
        code = proc.returncode
        if check and code != 0:
            raise ServerError("server exited with %s (expected 0 after %s)%s"
                              % (code, signal.Signals(sig).name, self._stderr_note()))
        return code

    def kill9(self):
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def restart(self):
        if self.running():
            self.stop()
        self.proc = None
        return self.start()

    def close(self, check=True):
        try:
            self.stop(check=check)
        finally:
            if not os.environ.get("CV_KEEP_TMP"):
                shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        # When the test already failed, do not hide its error behind a stop error.
        self.close(check=exc_type is None)
        return False

    # -- diagnostics ----------------------------------------------------------------------
    def stderr_tail(self, n=3000):
        return _tail(self.stderr_path, n) if self.stderr_path else ""

    def _stderr_note(self):
        t = self.stderr_tail()
        return ("; server stderr (tail):\n" + t) if t.strip() else ""

    def assert_alive(self):
        if not self.running():
            code = self.proc.returncode if self.proc else None
            raise ServerError("server is not running (exit %s)%s" % (code, self._stderr_note()))

    # -- convenience: requests against this server -----------------------------------------
    def req(self, method, path, **kw):
        return request(self, method, path, **kw)


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------

_NO_JSON = object()


class Resp(tuple):
    """(status, headers, body, json): unpackable, and with named attributes.

    headers is an http.client.HTTPMessage (case-insensitive .get()); json is None when the body
    is not valid JSON."""

    def __new__(cls, status, headers, body, js):
        return tuple.__new__(cls, (status, headers, body, js))

    status = property(lambda s: s[0])
    headers = property(lambda s: s[1])
    body = property(lambda s: s[2])
    json = property(lambda s: s[3])

    def header(self, name, default=None):
        return self[1].get(name, default) if self[1] is not None else default

    def __repr__(self):
        b = self.body
        shown = b[:600].decode("utf-8", "replace") + ("...(%d bytes)" % len(b) if len(b) > 600 else "")
        return "<HTTP %s %r>" % (self.status, shown)


def _hostport(target):
    if isinstance(target, Server):
        return "127.0.0.1", target.port
    if isinstance(target, tuple):
        return target
    m = re.match(r"^http://([^:/]+):(\d+)", target)
    return m.group(1), int(m.group(2))


def _parse_json(body):
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def encode_json(obj):
    """Compact UTF-8 JSON (non-ASCII sent as UTF-8, not as \\u escapes)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def request(target, method, path, json=_NO_JSON, body=None, headers=None, token=None,
            timeout=30, conn=None):
    """One HTTP request. `json=` sends that object encoded as JSON; `body=` sends raw bytes
    (Content-Type application/json unless headers say otherwise); `token=` adds the bearer
    header. With `conn` (an http.client.HTTPConnection), reuses that keep-alive connection.
    Returns Resp(status, headers, body, json)."""
    hdrs = {}
    if json is not _NO_JSON:
        body = encode_json(json)
    if body is not None:
        hdrs["Content-Type"] = "application/json"
    if token is not None:
        hdrs.update(auth_headers(token))
    if headers:
        hdrs.update(headers)
    own = conn is None
    if own:
        host, port = _hostport(target)
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, r.headers, data, _parse_json(data))
    finally:
        if own:
            conn.close()


class Client:
    """A keep-alive client bound to one server and optionally one token."""

    def __init__(self, target, token=None, timeout=30):
        self.host, self.port = _hostport(target)
        self.token = token
        self.timeout = timeout
        self.conn = None

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def request(self, method, path, **kw):
        if "token" not in kw and self.token is not None:
            kw["token"] = self.token
        try:
            r = request(None, method, path, conn=self._conn(), **kw)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The server may close an idle keep-alive connection: retry once on a new one.
            self.close()
            r = request(None, method, path, conn=self._conn(), **kw)
        if (r.header("Connection") or "").lower() == "close":
            self.close()
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def raw_request(target, data, timeout=15, shutdown_write=False):
    """Send exact bytes, then read one HTTP response. Returns Resp. The request must ask for a
    response the server can delimit (Content-Length, chunked, or Connection: close)."""
    host, port = _hostport(target)
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        if shutdown_write:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        return read_response(s)
    finally:
        s.close()


def read_response(sock, method="POST"):
    """Read one HTTP response from a connected socket. Returns Resp."""
    r = http.client.HTTPResponse(sock, method=method)
    r.begin()
    data = r.read()
    return Resp(r.status, r.headers, data, _parse_json(data))


def auth_headers(token):
    return {"Authorization": "Bearer " + token}


# ---------------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------------

DEFAULT_PASSWORD = "correct horse battery"

# What GET /healthz answers: on a file {"status":"ok"}; on a one-node cluster
# (CV_TEST_BACKEND=cluster) the node also says it leads and can write (docs/api.md).
HEALTHZ_OK = ({"status": "ok", "role": "leader", "writable": True}
              if os.environ.get("CV_TEST_BACKEND") == "cluster" else {"status": "ok"})


def register(srv, email, pw=DEFAULT_PASSWORD, display_name=None, expect_status=201):
    body = {"email": email, "password": pw}
    if display_name is not None:
        body["display_name"] = display_name
    r = request(srv, "POST", "/api/v1/auth/register", json=body)
    if expect_status is not None:
        expect(r, expect_status, "register %s" % email)
    return r


def login(srv, email, pw=DEFAULT_PASSWORD, expect_status=200):
    r = request(srv, "POST", "/api/v1/auth/login", json={"email": email, "password": pw})
    if expect_status is not None:
        expect(r, expect_status, "login %s" % email)
    return r


def new_user(srv, tag="u", pw=DEFAULT_PASSWORD):
    """Register a fresh user and log in. Returns (email, token, user_json)."""
    email = unique_email(tag)
    register(srv, email, pw)
    r = login(srv, email, pw)
    return email, r.json["access_token"], r.json["user"]


class User:
    """A fresh account on srv, registered and logged in: email, token, id, name (its display
    name), a keep-alive Client `c`, and req() for one request with its token.

        u = cv.User(srv, "owner", display_name="Olive")
        u.req("POST", "/api/v1/chat-threads", {"title": "x"})    # a JSON body
        u.req("PUT", path, raw=b"{", headers={...})               # raw bytes
    """

    def __init__(self, srv, tag="u", display_name=None):
        self.srv = srv
        self.email = unique_email(tag)
        self.name = display_name
        register(srv, self.email, display_name=display_name)
        r = login(srv, self.email)
        self.token = r.json["access_token"]
        self.id = r.json["user"]["id"]
        self.c = Client(srv, self.token)

    def req(self, method, path, body=None, raw=None, headers=None):
        kw = {"token": self.token}
        if body is not None:
            kw["json"] = body
        if raw is not None:
            kw["body"] = raw
        if headers:
            kw["headers"] = headers
        return self.srv.req(method, path, **kw)


def new_client(srv, tag="u"):
    """A fresh user as (keep-alive Client carrying its token, user json)."""
    _, tok, u = new_user(srv, tag)
    return Client(srv, tok), u


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

class CliResult:
    def __init__(self, args, returncode, stdout, stderr):
        self.args, self.returncode, self.stdout, self.stderr = args, returncode, stdout, stderr

    def __repr__(self):
        return "<chatvault %s: exit %s, stdout %r, stderr %r>" % (
            " ".join(self.args), self.returncode, self.stdout[-800:], self.stderr[-1500:])


def sql_rows(path, query, params=()):
    """Every row of query on the database file at path, opened read-only (a server may be
    serving it: WAL readers never wait)."""
    import sqlite3
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return con.execute(query, params).fetchall()
    finally:
        con.close()


def sql_one(path, query, params=()):
    """Column 0 of the first row of query on the file at path, read-only (sql_rows)."""
    return sql_rows(path, query, params)[0][0]


def index_segments(path):
    """The search index's segments (FTS5 b-trees) in the file at path: its _idx table has a
    row per leaf of each."""
    return sql_one(path, "SELECT count(DISTINCT segid) FROM search_index_idx")


def wait_index_merged(path, secs=30):
    """The index's segments once the server's idle merging (db.c) brought them to one, or
    what they are after secs."""
    end = time.time() + secs
    segs = index_segments(path)
    while segs != 1 and time.time() < end:
        time.sleep(0.1)
        segs = index_segments(path)
    return segs


def run_cli(args, stdin=None, db=None, env=None, timeout=60, binary=None, cwd=None):
    """Run `chatvault ARGS [--db DB]`. stdin is a str (or bytes) fed to the process.
    Returns CliResult(returncode, stdout, stderr) with text decoded as UTF-8."""
    cmd = [binary or find_binary()] + list(args)
    if db is not None:
        cmd += ["--db", db]
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    p = subprocess.run(cmd, input=stdin if stdin is not None else b"",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=base_env(env), timeout=timeout, cwd=cwd or tempfile.gettempdir())
    return CliResult(list(args), p.returncode, p.stdout.decode("utf-8", "replace"),
                     p.stderr.decode("utf-8", "replace"))


# ---------------------------------------------------------------------------------------------
# Assertions
# ---------------------------------------------------------------------------------------------

def expect(r, status, what=""):
    """Assert the status; the failure message shows the response."""
    ok = r.status in status if isinstance(status, (tuple, list, set, frozenset)) else r.status == status
    if not ok:
        raise AssertionError("%sexpected %s, got %r" % (what + ": " if what else "", status, r))
    return r


def expect_error(r, status, what=""):
    """Assert status and the plain error shape {"detail": "message"} (non-empty string)."""
    expect(r, status, what)
    js = r.json
    if not (isinstance(js, dict) and set(js) == {"detail"} and isinstance(js["detail"], str)
            and js["detail"]):
        raise AssertionError("%serror body is not {\"detail\": \"message\"}: %r"
                             % (what + ": " if what else "", r))
    ct = (r.header("Content-Type") or "").lower()
    if not ct.startswith("application/json"):
        raise AssertionError("%serror Content-Type is %r, not application/json"
                             % (what + ": " if what else "", ct))
    return js["detail"]


def expect_401(r, what=""):
    expect_error(r, 401, what)
    wa = r.header("WWW-Authenticate") or ""
    if not wa.startswith("Bearer"):
        raise AssertionError("%s401 without `WWW-Authenticate: Bearer` (got %r)"
                             % (what + ": " if what else "", wa))


def expect_422(r, loc=None, loc_prefix=None, what=""):
    """Assert 422 with FastAPI's shape {"detail":[{"loc":[...],"msg":str,"type":str},...]}.
    With loc, some entry's loc must equal it; with loc_prefix, some entry's loc must start
    with it. Returns the detail list."""
    w = what + ": " if what else ""
    expect(r, 422, what)
    js = r.json
    if not (isinstance(js, dict) and isinstance(js.get("detail"), list) and js["detail"]):
        raise AssertionError("%s422 body is not {\"detail\": [ ... ]}: %r" % (w, r))
    for e in js["detail"]:
        if not (isinstance(e, dict) and {"loc", "msg", "type"} <= set(e)
                and isinstance(e["loc"], list) and e["loc"]
                and all(isinstance(p, (str, int)) and not isinstance(p, bool) for p in e["loc"])
                and isinstance(e["msg"], str) and e["msg"]
                and isinstance(e["type"], str) and e["type"]):
            raise AssertionError("%s422 entry is not {loc:[str|int...], msg:str, type:str}: %r in %r"
                                 % (w, e, r))
    locs = [e["loc"] for e in js["detail"]]
    if loc is not None and list(loc) not in locs:
        raise AssertionError("%s422 has no entry with loc %r (locs: %r)" % (w, list(loc), locs))
    if loc_prefix is not None and not any(l[:len(loc_prefix)] == list(loc_prefix) for l in locs):
        raise AssertionError("%s422 has no entry with loc starting %r (locs: %r)"
                             % (w, list(loc_prefix), locs))
    return js["detail"]


def expect_ts(value, what="timestamp"):
    if not (isinstance(value, str) and TS_RE.match(value)):
        raise AssertionError("%s %r is not YYYY-MM-DDTHH:MM:SS.mmmZ" % (what, value))


def parallel(fn, args_list, max_workers=None):
    """Run fn(*args) for each args in threads at once (all start together); return results in
    order. Exceptions are returned in place of results (the caller asserts)."""
    n = len(args_list)
    results = [None] * n
    barrier = threading.Barrier(n)

    def run(i, a):
        try:
            barrier.wait(timeout=30)
        except threading.BrokenBarrierError:
            pass
        try:
            results[i] = fn(*a)
        except BaseException as e:  # noqa: the caller reports it
            results[i] = e

    ts = [threading.Thread(target=run, args=(i, a), daemon=True) for i, a in enumerate(args_list)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
        if t.is_alive():
            raise AssertionError("a parallel request did not finish within 120s (hang?)")
    return results


def timeout(secs):
    """Decorator: this test's time limit in the runner (default 120 s)."""
    def deco(fn):
        fn.timeout = secs
        return fn
    return deco


def long_test(fn):
    """Mark a test as long: the runner skips it unless CHATVAULT_LONG=1."""
    fn.long_test = True
    return fn


def close_all(servers, check=True):
    """Stop several servers at once (SIGTERM to all, then wait for each) and remove their
    directories: shutting down one at a time costs seconds each."""
    for s in servers:
        if s.proc is not None and s.proc.poll() is None:
            s.proc.send_signal(signal.SIGTERM)
            s.proc.cv_signaled = True
    errors = []
    for s in servers:
        try:
            s.close(check=check)
        except ServerError as e:
            errors.append(str(e))
    if errors:
        raise ServerError("; ".join(errors))
