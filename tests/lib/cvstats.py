"""Figures a test wants in docs/reliability.md ("how many times"): record_stat() appends one JSON
line to build/test-stats.jsonl, or -long.jsonl in a CHATVAULT_LONG=1 run (tests/run.py empties it at the start of a full run;
tests/report.py reads it)."""

import json
import os
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# tests/run.py tells its modules where (CHATVAULT_STATS); run alone, a module writes here
PATH = os.environ.get("CHATVAULT_STATS") or os.path.join(
    ROOT, "build", "test-stats%s.jsonl" % ("-long" if os.environ.get("CHATVAULT_LONG") else ""))


def record_stat(name, **figures):
    try:
        os.makedirs(os.path.dirname(PATH), exist_ok=True)
        with open(PATH, "a") as f:
            f.write(json.dumps(dict(name=name, time=time.time(), **figures)) + "\n")
    except OSError:
        pass
