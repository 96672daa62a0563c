#!/usr/bin/python3
"""Fuzz suite for tests/run.py (prints `N passed, N failed`).

For each harness build/fuzz/fuzz_<name> (built by `make fuzz-build`, tests/fuzz/fuzz.mk):
  1. replay   every input under tests/fuzz/regressions/<name>/ and the seed corpus
              tests/fuzz/corpus/<name>/ once (a regression that crashes again fails);
  2. fuzz     for FUZZ_SECS seconds (default 15) on one core, from the seed corpus, in a
              scratch corpus (FUZZ_KEEP_CORPUS=1: build/fuzz/corpus/<name>, kept and grown).
A crash, leak, timeout or failed property is a failure; its input is copied to
build/fuzz/artifacts/<name>/ and the libFuzzer report tail is printed: add the input to
tests/fuzz/regressions/<name>/ once fixed. Figures (execs/s, corpus size, runs) go to
build/fuzz/stats.json for tests/report.py.

  tests/fuzz/run_smoke.py                # all harnesses, 15 s each
  FUZZ_SECS=600 tests/fuzz/run_smoke.py fuzz_sse
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FZ = os.path.join(ROOT, "build", "fuzz")
SECS = int(os.environ.get("FUZZ_SECS", "15"))
KEEP = bool(os.environ.get("FUZZ_KEEP_CORPUS"))


def build():
    """Build the harnesses if clang is there (cheap when up to date)."""
    if not shutil.which("clang"):
        return "clang not installed (apt-get install clang libclang-rt-14-dev)"
    mk = open(os.path.join(ROOT, "Makefile")).read()
    argv = ["make", "-s", "fuzz-build"] if "tests/fuzz/fuzz.mk" in mk else \
           ["make", "-s", "-f", "Makefile", "-f", "tests/fuzz/fuzz.mk", "fuzz-build"]
    p = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        return "fuzz-build failed:\n" + p.stdout.decode("utf-8", "replace")[-3000:]
    return None


def tail(text, n=2500):
    lines = [l for l in text.splitlines() if not l.startswith("#") and "INFO:" not in l]
    return "\n".join(lines)[-n:]


def main():
    names = sys.argv[1:]
    err = build()
    passed = failed = 0
    if err:
        print("FAIL fuzz.build: %s" % err)
        print("0 passed, 1 failed")
        return 1
    bins = sorted(glob.glob(os.path.join(FZ, "fuzz_*")))
    bins = [b for b in bins if os.access(b, os.X_OK) and os.path.isfile(b)
            and (not names or os.path.basename(b) in names)]
    stats = {}
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:allocator_may_return_null=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    for b in bins:
        name = os.path.basename(b)
        st = stats[name] = {"secs": SECS}
        # 1. replay regressions and seeds
        inputs = sorted(glob.glob(os.path.join(ROOT, "tests/fuzz/regressions", name, "*")))
        seeds = sorted(glob.glob(os.path.join(ROOT, "tests/fuzz/corpus", name, "*")))
        st["regressions"] = len(inputs)
        st["seeds"] = len(seeds)
        if inputs + seeds:
            p = subprocess.run([b, "-runs=1", "-timeout=20"] + inputs + seeds, cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
            out = p.stdout.decode("utf-8", "replace")
            if p.returncode != 0:
                failed += 1
                st["replay"] = "FAIL"
                print("FAIL fuzz.%s.replay: %d regression + %d seed inputs; exit %d:\n%s"
                      % (name, len(inputs), len(seeds), p.returncode, tail(out)), flush=True)
            else:
                passed += 1
                st["replay"] = "ok"
                print("ok fuzz.%s.replay (%d regression inputs, %d seeds)" % (name, len(inputs), len(seeds)),
                      flush=True)
        # 2. fuzz
        if SECS <= 0:
            continue
        if KEEP:
            corpus = os.path.join(FZ, "corpus", name)
            os.makedirs(corpus, exist_ok=True)
        else:
            corpus = tempfile.mkdtemp(prefix="cv-fuzz-%s-" % name)
        for s in seeds:
            shutil.copy(s, corpus)
        art = os.path.join(FZ, "artifacts", name) + "/"
        os.makedirs(art, exist_ok=True)
        argv = [b, corpus, "-max_total_time=%d" % SECS, "-timeout=10", "-rss_limit_mb=2048",
                "-max_len=65536", "-print_final_stats=1", "-artifact_prefix=" + art]
        dict_path = os.path.join(ROOT, "tests/fuzz", name + ".dict")
        if os.path.exists(dict_path):
            argv.append("-dict=" + dict_path)
        try:
            p = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=SECS + 300)
            out, rc = p.stdout.decode("utf-8", "replace"), p.returncode
        except subprocess.TimeoutExpired as e:
            out, rc = (e.stdout or b"").decode("utf-8", "replace"), -9
        m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
        st["runs"] = int(m.group(1)) if m else None
        m = re.search(r"stat::average_exec_per_sec:\s*(\d+)", out)
        st["execs_per_sec"] = int(m.group(1)) if m else None
        st["corpus"] = len(os.listdir(corpus))
        m = re.findall(r"cov: (\d+) ft: (\d+)", out)
        st["cov"] = int(m[-1][0]) if m else None
        if not KEEP:
            shutil.rmtree(corpus, ignore_errors=True)
        if rc != 0:
            failed += 1
            st["result"] = "FAIL"
            arts = re.findall(r"Test unit written to (\S+)", out)
            st["artifact"] = arts[-1] if arts else None
            print("FAIL fuzz.%s: exit %d after %s runs; input %s:\n%s"
                  % (name, rc, st["runs"], st.get("artifact"), tail(out)), flush=True)
        else:
            passed += 1
            st["result"] = "ok"
            print("ok fuzz.%s (%ss: %s runs, %s exec/s, corpus %d, cov %s)"
                  % (name, SECS, st["runs"], st["execs_per_sec"], st["corpus"], st["cov"]), flush=True)
    try:
        with open(os.path.join(FZ, "stats.json"), "w") as f:
            json.dump(stats, f, indent=1)
    except OSError:
        pass
    if not bins:
        print("FAIL fuzz: no harness built under build/fuzz/")
        failed += 1
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
