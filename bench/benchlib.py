"""bench/benchlib.py — what the server benches (bench/events.py, bench/changes.py) share: the
results directory and its runs.txt header, /proc readings of the server, accounts and tokens made
with the CLI, the server started on 127.0.0.1:0, and the teardown. python3 stdlib only.

A bench imports it with its own directory on sys.path (it is run as `python3 bench/NAME.py` from
the repository root and by make), then:

    R = Results("events")           # bench/results/<stamp>-events/runs.txt; R.fig("...")
    work, cv = scratch("events", CV_SRC)
    R.header(cv, "USERS=%d ..." % USERS)
    tokens = make_users(cv, db, legacy, emails, jobs=4)
    server, port, err_path = start_server(cv, db, work, SYNC, "events.py")
    ...
    finally: teardown(server, work, KEEP, log)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_log(name):
    """A log(*a) that prints "NAME:" and its arguments on stderr, flushed."""
    def log(*a):
        print(name + ":", *a, file=sys.stderr, flush=True)
    return log


def proc_status(pid):
    """VmRSS, VmHWM, Threads, RssAnon, RssFile, RssShmem (kB; Threads a count) of pid; {} once it is gone."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                k, _, v = ln.partition(":")
                if k in ("VmRSS", "VmHWM", "Threads", "RssAnon", "RssFile", "RssShmem"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def proc_cpu(pid):
    """CPU seconds (utime + stime) pid has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sampler(threading.Thread):
    """Samples pid every interval s until stop is set: max VmRSS in rss, max Threads in threads, count in n."""

    def __init__(self, pid, interval):
        super().__init__(daemon=True)
        self.pid, self.interval, self.stop = pid, interval, threading.Event()
        self.rss, self.threads, self.n = 0, 0, 0

    def run(self):
        while not self.stop.is_set():
            s = proc_status(self.pid)
            self.rss = max(self.rss, s.get("VmRSS", 0))
            self.threads = max(self.threads, s.get("Threads", 0))
            self.n += 1
            self.stop.wait(self.interval)


class Results:
    """bench/results/<stamp>-NAME/ made, its runs.txt open for writing (runs); fig() adds a figure line."""

    def __init__(self, name):
        self.name = name
        self.stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self.dir = os.path.join(ROOT, "bench", "results", self.stamp + "-" + name)
        os.makedirs(self.dir, exist_ok=True)
        self.runs_path = os.path.join(self.dir, "runs.txt")
        self.runs = open(self.runs_path, "w")

    def fig(self, line):
        """Writes "fig LINE" to runs.txt (flushed) and to stderr."""
        self.runs.write("fig " + line + "\n")
        self.runs.flush()
        print("fig " + line, file=sys.stderr, flush=True)

    def header(self, cv, params):
        """Writes the three "#" lines: bench and stamp; host, chatvault version, git head(+dirty); params and load."""
        head = git_head()
        dirty = "" if subprocess.run(["git", "-C", ROOT, "diff", "--quiet"]).returncode == 0 else "+dirty"
        version = subprocess.run([cv, "version"], capture_output=True, text=True).stdout.split("\n")[0]
        self.runs.write("# chatvault %s bench %s\n# host: %d cores, %s; %s; git %s%s\n# %s load: %s\n" % (
            self.name, self.stamp, os.cpu_count(), os.uname().release, version, head, dirty, params, loadavg()))


def git_head():
    """The short HEAD commit of the repository, "?" when git cannot tell."""
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


def loadavg():
    """The 1, 5 and 15 minute load averages, as "a b c"."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def scratch(name, cv_src):
    """A new scratch directory chatvault-NAME.* and a copy of cv_src in it (a rebuild during the run changes nothing): (work, cv)."""
    work = tempfile.mkdtemp(prefix="chatvault-%s." % name)
    cv = os.path.join(work, "chatvault")
    shutil.copy2(cv_src, cv)
    return work, cv


def make_users(cv, db, legacy, emails, jobs=1, import_args=()):
    """Accounts for emails (one `chatvault import-legacy` file at legacy, no passwords) and a bearer token each, in order."""
    with open(legacy, "w") as f:
        for i, e in enumerate(emails):
            f.write(json.dumps({"id": i + 1, "email": e, "chat_history": None}) + "\n")
    subprocess.run([cv, "import-legacy", legacy, "--db", db] + list(import_args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def token(e):
        for attempt in range(5):     # a busy database on a concurrent token insert: retry
            p = subprocess.run([cv, "token", e, "--db", db], capture_output=True, text=True)
            if p.returncode == 0 and p.stdout.strip():
                return p.stdout.strip().split()[-1]
            time.sleep(0.1 * (attempt + 1))
        raise SystemExit("chatvault token %s failed: %s" % (e, p.stderr.strip()))
    with ThreadPoolExecutor(jobs) as ex:
        return list(ex.map(token, emails))


def start_server(cv, db, work, sync, who):
    """`chatvault serve` on 127.0.0.1:0 (access log off) until it says "listening on": (server, port, err_path); exits if it does not."""
    out_path, err_path = os.path.join(work, "cv.out"), os.path.join(work, "cv.err")
    server = subprocess.Popen([cv, "serve", "--db", db, "--listen", "127.0.0.1:0", "--access-log", "off",
                               "--sync", sync], stdout=open(out_path, "w"), stderr=open(err_path, "w"))
    url = None
    for _ in range(600):
        with open(out_path) as f:
            for ln in f:
                if ln.startswith("listening on "):
                    url = ln.split()[-1]
        if url or server.poll() is not None:
            break
        time.sleep(0.05)
    if not url:
        stop_server(server)
        sys.exit("%s: chatvault did not start: " % who + open(err_path).read()[-2000:])
    return server, int(url.rsplit(":", 1)[1].strip("/")), err_path


def stop_server(server):
    """Ends server if it still runs: SIGTERM, 30 s, then SIGKILL."""
    if server is not None and server.poll() is None:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def teardown(server, work, keep, log):
    """Stops the server, then removes the scratch directory work (or, keep set, logs where it stays)."""
    stop_server(server)
    if keep:
        log("scratch kept in " + work)
    else:
        shutil.rmtree(work, ignore_errors=True)


def server_stderr_fig(fig, err_path):
    """Adds the fig server_stderr_lines=N last="..." line when the server wrote anything on stderr."""
    err = open(err_path).read()
    if err.strip():
        fig("server_stderr_lines=%d last=\"%s\"" % (len(err.splitlines()),
                                                   err.strip().splitlines()[-1][:200].replace('"', "'")))


def reset_vmhwm(pid):
    """Resets pid's VmHWM to its current RSS (clear_refs 5); False when the kernel does not let us."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False
