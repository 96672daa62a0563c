#!/usr/bin/python3
"""chatvault's test runner: runs every suite and prints the closing line `N passed, N failed`.

Suites:
- Python modules tests/api/, tests/cli/, tests/fault/ and tests/cluster/test_*.py. A test is a module-level function
  named test_*; a module may define setup_module()/teardown_module() (e.g. to share one server),
  after_test(name) (after each test that passed; lines printed with a two-space indent become
  the test's figures in build/test-results.json, read by tests/report.py),
  TEST_TIMEOUT (seconds per test, default 120; a test's own `timeout` attribute wins) and SERIAL = True (run it while nothing else runs).
  Each module runs in its own child process (`run.py --module FILE`), two at a time.
- C unit tests: every executable build/asan/tests/test_* (built by `make asan`).
- EXTRA_SUITES below: any command that prints a `N passed, N failed` line.

Every test prints `ok NAME` or `FAIL NAME: reason` (`skip NAME: reason` is not counted: a test
raising cv.Skip("why") is skipped, e.g. one that needs root). A
suite that exits non-zero without reporting a failure, or prints no summary, counts as one
failure. Exit code: 0 only when nothing failed and something ran.

  /usr/bin/python3 tests/run.py                 # everything
  /usr/bin/python3 tests/run.py -k auth         # tests whose name contains "auth"
  /usr/bin/python3 tests/run.py --list          # list the tests
  /usr/bin/python3 tests/run.py tests/api/test_threads.py -v
  CHATVAULT_BIN=build/chatvault tests/run.py    # against the release binary
  CHATVAULT_LONG=1 tests/run.py                 # also the tests marked long
  CHATVAULT_LONG=1 CHATVAULT_LONG_ONLY=1 tests/run.py --no-unit   # only the long tests (CI)
  CHATVAULT_SKIP=name1,name2 tests/run.py       # skip tests whose name contains one of these
"""

import argparse
import glob
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

sys.dont_write_bytecode = True   # no __pycache__ in the work tree
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

PY_GLOBS = ["tests/api/test_*.py", "tests/cli/test_*.py", "tests/fault/test_*.py",
            "tests/cluster/test_*.py"]
UNIT_GLOB = "build/asan/tests/test_*"

# Extra suites: (name, argv relative to the repo root, timeout seconds). Each must print a line
# `N passed, N failed`; its other output is shown as is. Add e.g. the browser tests here:
#   ("web", ["node", "tests/web/run.mjs"], 600),
EXTRA_SUITES = [
    ("web", ["bash", "tests/web/run.sh"], 900),
    # libFuzzer harnesses (tests/fuzz/): regressions replayed, then ~20 s of fuzzing each
    ("tests/fuzz", [sys.executable, "tests/fuzz/run_smoke.py"], 900),
]

SUMMARY_RE = re.compile(r"^\s*(\d+) passed, (\d+) failed\s*$")
RESULT_RE = re.compile(r"^(ok|FAIL|skip) (\S+?)(?::| \(|$)(.*)$")
# Machine-readable results, read by tests/report.py: build/test-results.json for a whole run,
# build/test-results-long.json for a whole CHATVAULT_LONG=1 run, build/test-results-partial.json
# when only some modules or tests ran (so that those do not replace a whole run's figures);
# $CHATVAULT_RESULTS names another file. Figures recorded by tests (tests/lib/cvstats.py) go to the
# matching build/test-stats*.jsonl, which the run empties first.
_SUFFIX = "-long" if os.environ.get("CHATVAULT_LONG") else ""
RESULTS_PATH = os.path.join(ROOT, "build", "test-results%s.json" % _SUFFIX)
STATS_PATH = os.path.join(ROOT, "build", "test-stats%s.jsonl" % _SUFFIX)
JOBS = 2                    # 2 shared cores: two suites at a time
MODULE_TIMEOUT = 900        # a whole module (child process), seconds
DEFAULT_TEST_TIMEOUT = 120  # one test, seconds (SIGALRM in the child)


# ---------------------------------------------------------------------------------------------
# child: run one Python module
# ---------------------------------------------------------------------------------------------

def load_module(path):
    name = os.path.splitext(os.path.relpath(path, os.path.join(ROOT, "tests")))[0].replace(os.sep, ".")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return name, mod


def module_tests(mod):
    tests = [(getattr(f, "__code__", None) and f.__code__.co_firstlineno or 0, n, f)
             for n, f in vars(mod).items()
             if n.startswith("test_") and callable(f) and getattr(f, "__module__", None) == mod.__name__]
    return [(n, f) for _, n, f in sorted(tests, key=lambda t: t[0])]


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test did not finish within its time limit (hang?)")


def reason_of(exc, path):
    """One-line reason: the exception and the line of the test file where it surfaced."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = ""
    for fr in reversed(tb):
        if os.path.abspath(fr.filename) == os.path.abspath(path):
            where = "%s:%d: " % (os.path.basename(path), fr.lineno)
            break
    msg = str(exc) or repr(exc)
    if not isinstance(exc, AssertionError):
        msg = "%s: %s" % (type(exc).__name__, msg)
    msg = " | ".join(l for l in msg.splitlines() if l.strip())
    if len(msg) > 1500:
        msg = msg[:1500] + "..."
    return where + msg


def run_module(path, kfilter, verbose):
    path = os.path.abspath(path)
    passed = failed = 0
    try:
        name, mod = load_module(path)
    except Exception as e:
        print("FAIL %s: import: %s" % (os.path.relpath(path, ROOT), reason_of(e, path)), flush=True)
        print("0 passed, 1 failed", flush=True)
        return 1
    tests = [(n, f) for n, f in module_tests(mod) if not kfilter or kfilter in "%s.%s" % (name, n)]
    if not tests:
        print("0 passed, 0 failed", flush=True)
        return 0
    signal.signal(signal.SIGALRM, _alarm)
    limit = int(getattr(mod, "TEST_TIMEOUT", DEFAULT_TEST_TIMEOUT))
    setup_err = None
    if hasattr(mod, "setup_module"):
        signal.alarm(limit)
        try:
            mod.setup_module()
        except Exception as e:
            setup_err = e
            if verbose:
                traceback.print_exc()
        finally:
            signal.alarm(0)
    for n, f in tests:
        full = "%s.%s" % (name, n)
        if setup_err is not None:
            print("FAIL %s: setup_module: %s" % (full, reason_of(setup_err, path)), flush=True)
            failed += 1
            continue
        skips = [x for x in os.environ.get("CHATVAULT_SKIP", "").split(",") if x]
        if any(x in full for x in skips):
            print("skip %s: named in CHATVAULT_SKIP" % full, flush=True)
            continue
        if getattr(f, "long_test", False) and not os.environ.get("CHATVAULT_LONG"):
            print("skip %s: long test (set CHATVAULT_LONG=1)" % full, flush=True)
            continue
        if os.environ.get("CHATVAULT_LONG_ONLY") and not (getattr(f, "long_test", False)
                                                          or getattr(mod, "LONG_AWARE", False)):
            continue   # CI's second pass: only long tests and modules that grow under LONG
        t0 = time.monotonic()
        signal.alarm(int(getattr(f, "timeout", limit)))
        try:
            f()
            if hasattr(mod, "after_test"):
                mod.after_test(n)   # e.g. prints "  N requests": the test's figures in the results
        except Exception as e:
            signal.alarm(0)
            if type(e).__name__ == "Skip":   # cv.Skip: the test cannot run here (not counted)
                print("skip %s: %s" % (full, e), flush=True)
                continue
            failed += 1
            print("FAIL %s: %s" % (full, reason_of(e, path)), flush=True)
            if verbose:
                traceback.print_exc(file=sys.stdout)
        else:
            signal.alarm(0)
            passed += 1
            print("ok %s%s" % (full, " (%.1fs)" % (time.monotonic() - t0) if verbose else ""),
                  flush=True)
    if hasattr(mod, "teardown_module"):
        signal.alarm(limit)
        try:
            mod.teardown_module()
        except Exception as e:
            failed += 1
            print("FAIL %s.teardown_module: %s" % (name, reason_of(e, path)), flush=True)
        finally:
            signal.alarm(0)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


# ---------------------------------------------------------------------------------------------
# parent: run every suite, sum the counts
# ---------------------------------------------------------------------------------------------

class Suite:
    def __init__(self, name, argv, timeout, serial=False):
        self.name, self.argv, self.timeout, self.serial = name, argv, timeout, serial


def summarize(output, rc, name):
    """(passed, failed, extra_line) from a suite's output and exit code."""
    passed = failed = None
    for line in output.splitlines():
        m = SUMMARY_RE.match(line)
        if m:
            passed, failed = int(m.group(1)), int(m.group(2))
    if passed is None:
        return 0, 1, "FAIL %s: no `N passed, N failed` line (exit code %s)" % (name, rc)
    if rc != 0 and failed == 0:
        return passed, 1, "FAIL %s: exit code %s although it reported no failure" % (name, rc)
    return passed, failed, None


def run_suite(s):
    t0 = time.monotonic()
    try:
        p = subprocess.run(s.argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=s.timeout, stdin=subprocess.DEVNULL)
        out, rc = p.stdout.decode("utf-8", "replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        out += "\nFAIL %s: suite killed after %ds\n" % (s.name, s.timeout)
        rc = -9
        passed, failed, _ = summarize(out, rc, s.name)
        return s, out, passed, failed + 1, None, time.monotonic() - t0
    except OSError as e:
        return s, "", 0, 1, "FAIL %s: cannot run %s: %s" % (s.name, s.argv, e), time.monotonic() - t0
    passed, failed, extra = summarize(out, rc, s.name)
    return s, out, passed, failed, extra, time.monotonic() - t0


def discover(paths, kfilter, with_units):
    py = []
    if paths:
        py = [os.path.abspath(p) for p in paths]
    else:
        for g in PY_GLOBS:
            py += sorted(glob.glob(os.path.join(ROOT, g)))
    suites = []
    for p in py:
        src = open(p, encoding="utf-8").read()
        serial = bool(re.search(r"^SERIAL\s*=\s*True", src, re.M))
        argv = [sys.executable, os.path.abspath(__file__), "--module", p]
        if kfilter:
            argv += ["-k", kfilter]
        suites.append(Suite(os.path.relpath(p, ROOT), argv, MODULE_TIMEOUT, serial))
    if with_units and not paths:
        for b in sorted(glob.glob(os.path.join(ROOT, UNIT_GLOB))):
            name = os.path.relpath(b, ROOT)
            if os.access(b, os.X_OK) and os.path.isfile(b) and (not kfilter or kfilter in name):
                suites.append(Suite(name, [b], MODULE_TIMEOUT))
        for name, argv, timeout in EXTRA_SUITES:
            if not kfilter or kfilter in name:
                suites.append(Suite(name, list(argv), timeout))
    return suites


def list_tests(paths, kfilter):
    for s in discover(paths, kfilter, True):
        if "--module" in s.argv:
            path = s.argv[s.argv.index("--module") + 1]
            name, mod = load_module(path)
            for n, _ in module_tests(mod):
                full = "%s.%s" % (name, n)
                if not kfilter or kfilter in full:
                    print(full)
        else:
            print("%s (suite)" % s.name)


def main():
    ap = argparse.ArgumentParser(description="run chatvault's tests")
    ap.add_argument("paths", nargs="*", help="only these Python test modules")
    ap.add_argument("-k", dest="k", default=None, help="only tests whose name contains this")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    ap.add_argument("-v", action="store_true", help="tracebacks and timings")
    ap.add_argument("-j", type=int, default=JOBS, help="suites at a time (default %d)" % JOBS)
    ap.add_argument("--no-unit", action="store_true", help="skip C unit tests and extra suites")
    ap.add_argument("--module", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.module:
        sys.exit(run_module(a.module, a.k, a.v))
    if a.list:
        list_tests(a.paths, a.k)
        return
    suites = discover(a.paths, a.k, not a.no_unit)
    if a.v:
        for s in suites:
            if "--module" in s.argv:
                s.argv.append("-v")
    lock = threading.Lock()
    totals = [0, 0]
    fails = []   # every FAIL line, printed again at the end (a CI log may show only its tail)
    t0 = time.monotonic()
    global RESULTS_PATH, STATS_PATH
    if a.paths or a.k or a.no_unit:
        RESULTS_PATH = RESULTS_PATH.replace(".json", "-partial.json")
        STATS_PATH = STATS_PATH.replace(".jsonl", "-partial.jsonl")
    RESULTS_PATH = os.environ.get("CHATVAULT_RESULTS") or RESULTS_PATH
    os.environ["CHATVAULT_STATS"] = STATS_PATH   # the test modules' cvstats writes there
    results = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "long": bool(os.environ.get("CHATVAULT_LONG")), "binary": os.environ.get("CHATVAULT_BIN"),
               "argv": sys.argv[1:], "suites": [], "tests": []}
    try:
        os.makedirs(os.path.dirname(STATS_PATH), exist_ok=True)
        open(STATS_PATH, "w").close()
    except OSError:
        pass

    def report(res):
        s, out, passed, failed, extra, secs = res
        with lock:
            for line in out.splitlines():
                if not SUMMARY_RE.match(line):
                    print(line)
                if line.startswith("FAIL "):
                    fails.append("%s: %s" % (s.name, line[5:400]))
            if extra:
                print(extra)
                fails.append(extra[5:400])
            print("# %s: %d passed, %d failed (%.1fs)" % (s.name, passed, failed, secs), flush=True)
            totals[0] += passed
            totals[1] += failed
            results["suites"].append({"name": s.name, "passed": passed, "failed": failed,
                                      "seconds": round(secs, 1)})
            notes = []   # indented lines a test printed before its result line
            for line in out.splitlines() + ([extra] if extra else []):
                m = RESULT_RE.match(line)
                if m:
                    results["tests"].append({"suite": s.name, "status": m.group(1), "name": m.group(2),
                                             "detail": m.group(3).strip(" :")[:300],
                                             "notes": notes})
                    notes = []
                elif line.startswith("  ") and line.strip() and not line.startswith("   "):
                    notes.append(line.strip()[:500])

    parallel = [s for s in suites if not s.serial]
    serial = [s for s in suites if s.serial]
    with ThreadPoolExecutor(max_workers=max(1, a.j)) as ex:
        for fut in [ex.submit(run_suite, s) for s in parallel]:
            report(fut.result())
    for s in serial:
        report(run_suite(s))
    print("# total time %.1fs" % (time.monotonic() - t0))
    for line in fails:
        print("# failed in " + line)
    results.update(passed=totals[0], failed=totals[1], seconds=round(time.monotonic() - t0, 1))
    try:
        with open(RESULTS_PATH, "w") as f:
            json.dump(results, f, indent=1)
    except OSError as e:
        print("# cannot write %s: %s" % (RESULTS_PATH, e))
    print("%d passed, %d failed" % (totals[0], totals[1]), flush=True)
    sys.exit(1 if totals[1] or not totals[0] else 0)


if __name__ == "__main__":
    main()
