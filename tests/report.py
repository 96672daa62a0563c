#!/usr/bin/python3
"""Write docs/reliability.md from the last test run (issue 5: "updated by a script from the last
run, so that the figures in it are real").

Reads:
  build/test-results.json   every test's result, the lines it printed, each suite's time (tests/run.py)
  build/test-stats.jsonl    figures recorded by the fault/load tests (tests/lib/cvstats.py)
  build/fuzz/stats.json     fuzzing figures: runs, exec/s, corpus size (tests/fuzz/run_smoke.py)
and the test sources (each test function's docstring says what it tries).

  /usr/bin/python3 tests/run.py && /usr/bin/python3 tests/report.py     # or: make reliability-report
  /usr/bin/python3 tests/report.py --out -                              # print instead
"""

import argparse
import ast
import glob
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
RELIABILITY_MODULES = ["tests/api/test_hostile.py", "tests/api/test_hostile_tls.py",
                       "tests/api/test_access_matrix.py", "tests/api/test_limits.py",
                       "tests/fault/test_*.py", "tests/api/test_durability.py",
                       "tests/cli/test_upgrade.py"]
# and from other modules, the tests of issue 10's attacks (by name prefix)
RELIABILITY_TESTS = {
    "tests/api/test_auth.py": ("test_login_rate_limit", "test_owner_right_password",
                               "test_spray_from_one_address", "test_x_forwarded_for",
                               "test_registration_is_throttled"),
    "tests/api/test_errors.py": ("test_encoded_slash", "test_access_log_cannot_be_forged"),
    "tests/api/test_chats.py": ("test_catalog_text_goes_into_the_prompt",),
    "tests/cli/test_import_legacy.py": ("test_a_chat_dated_in_the_future",
                                        "test_write_order", "test_skipped_chats"),
    "tests/cli/test_cli.py": ("test_user_passwd_revokes", "test_token_revoke"),
    # issue 11: what is typed into search, other users' data, and acknowledged changes
    "tests/api/test_search.py": ("test_nothing_typed_is_an_error", "test_bad_parameters_422",
                                 "test_only_the_callers_data_is_found",
                                 "test_changes_are_what_the_next_search_sees",
                                 "test_retention_drop_is_not_found",
                                 "test_acknowledged_writes_are_searchable_after_kill9",
                                 "test_check_compares_the_index_with_the_data"),
    "tests/api/test_paging.py": ("test_bad_cursors_422",),
    "tests/api/test_organize.py": ("test_isolation_between_users", "test_validation_422"),
    "tests/api/test_stats.py": ("test_isolation",),
    # issue 12: untrusted files, other users' data, acknowledged imports
    "tests/api/test_import.py": ("test_bad_input_is_a_clear_4xx", "test_max_import",
                                 "test_many_conversations_in_batches_and_truncated_resend",
                                 "test_isolation_between_users", "test_import_survives_kill9",
                                 "test_imports_at_once_are_bounded"),
    "tests/api/test_cards.py": ("test_bad_cards_422", "test_too_large_413",
                                "test_picture_tokens_404_alike",
                                "test_deleting_the_user_deletes_pictures"),
    "tests/api/test_export.py": ("test_isolation_and_foreign_ids", "test_401",
                                 "test_export_is_one_snapshot"),
    # issue 16: members, the archive, kill -9 while chats move
    "tests/api/test_members.py": ("test_unknown_email_404", "test_member_gets_403",
                                  "test_stranger_answers_unchanged",
                                  "test_leaving_and_removal_make_a_stranger_again",
                                  "test_members_own_export_stats_search_tags_exclude_shared"),
    "tests/api/test_retention_archive.py": ("test_isolation_of_the_archive",
                                            "test_kill9_while_chats_move",
                                            "test_switching_between_settings"),
    # issue 13: edits, share links; issue 15: the OpenAI-compatible endpoint
    "tests/api/test_edits.py": ("test_patch_errors", "test_patch_over_the_size_cap_is_413_and_changes_nothing",
                                "test_truncate_errors", "test_regenerate_errors", "test_fork_errors",
                                "test_member_may_fork_but_never_edit",
                                "test_acknowledged_patch_survives_kill9"),
    "tests/api/test_share_links.py": ("test_unknown_expired_revoked_are_one_answer",
                                      "test_isolation_another_user_cannot_revoke",
                                      "test_member_and_stranger_cannot_share",
                                      "test_expires_in_validation",
                                      "test_database_and_log_hold_no_token_and_survive_kill9",
                                      "test_at_most_100_links_per_account",
                                      "test_copies_are_capped_at_max_user_bytes"),
    # issue 13: the change log and its event streams
    "tests/api/test_changes.py": ("test_bad_queries_are_422_and_bad_cursors_do_not_leak",
                                  "test_another_users_changes_never_appear",
                                  "test_cursors_are_opaque_and_bound_to_their_user_and_file",
                                  "test_acknowledged_change_survives_kill9_and_streams_resume_without_gap",
                                  "test_every_session_of_the_user_gets_each_change_and_others_get_none",
                                  "test_events_errors",
                                  "test_stream_ends_when_its_token_is_revoked_or_the_account_deleted"),
    "tests/api/test_openai.py": ("test_isolation_between_users", "test_401_in_openai_shape",
                                 "test_bad_bodies_are_400_and_store_nothing",
                                 "test_reply_survives_kill9",
                                 "test_upstream_forwarding_failure_and_retry"),
}


def load_json(path, default):
    try:
        with open(os.path.join(ROOT, path)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def load_stats():
    out = {}
    try:
        with open(os.path.join(ROOT, "build/test-stats.jsonl")) as f:
            for line in f:
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                out.setdefault(d.pop("name"), []).append(d)
    except OSError:
        pass
    return out


def docstrings():
    """{ 'fault.test_x.test_y': 'first sentence of its docstring' } from the sources."""
    docs, mods = {}, {}
    paths = []
    for g in RELIABILITY_MODULES:
        paths += [(p, None) for p in sorted(glob.glob(os.path.join(ROOT, g)))]
    for rel_path, prefixes in sorted(RELIABILITY_TESTS.items()):
        if os.path.exists(os.path.join(ROOT, rel_path)):
            paths.append((os.path.join(ROOT, rel_path), prefixes))
    for p, prefixes in paths:
        rel = os.path.splitext(os.path.relpath(p, os.path.join(ROOT, "tests")))[0].replace(os.sep, ".")
        tree = ast.parse(open(p, encoding="utf-8").read())
        md = ast.get_docstring(tree) or ""
        mods[rel] = md.split("\n\n")[0].replace("\n", " ")
        for node in tree.body:
            if (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
                    and (prefixes is None or node.name.startswith(prefixes))):
                d = ast.get_docstring(node)
                if d:
                    docs[rel + "." + node.name] = d.split("\n\n")[0].replace("\n", " ")
                else:
                    docs[rel + "." + node.name] = node.name[5:].replace("_", " ")
    return docs, mods


def cell(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "reliability.md"))
    a = ap.parse_args()
    res = load_json("build/test-results.json", None)
    if not res:
        print("no build/test-results.json: run tests/run.py first", file=sys.stderr)
        return 1
    stats = load_stats()
    fuzz = load_json("build/fuzz/stats.json", {})
    docs, mods = docstrings()
    L = []
    w = L.append
    w("# chatvault reliability report")
    w("")
    w("Generated by `tests/report.py` from the last run of `tests/run.py` (started %s UTC%s%s): "
      "**%d passed, %d failed** in %.0f s. Do not edit by hand: re-run the tests, then the script."
      % (res.get("started", "?"), ", long parts included (CHATVAULT_LONG=1)" if res.get("long") else
         ", normal suite (long parts skipped; `make test-long` runs them)",
         ", binary %s" % res["binary"] if res.get("binary") else "",
         res.get("passed", 0), res.get("failed", 0), res.get("seconds", 0)))
    w("")
    w("What the promises are: nothing acknowledged is lost (kill -9, disk full, locked database), no "
      "one reaches another user's data, hostile input and clients get a 4xx or a closed "
      "connection and never a crash, a hang or a 5xx (issue 5).")
    w("")
    # --- fault, hostile, access tests
    w("## Faults, hostile input, access control")
    w("")
    w("| test | what it tried | how many times / figures | result |")
    w("|---|---|---|---|")
    by_name = {}
    for t in res.get("tests", []):
        by_name[t["name"]] = t
    for name in sorted(docs):
        t = by_name.get(name)
        if t is None:
            continue
        result = {"ok": "pass", "FAIL": "**FAIL**", "skip": "skipped"}[t["status"]]
        if t["status"] != "ok" and t.get("detail"):
            result += ": " + t["detail"][:200]
        figures = "; ".join(t.get("notes") or []) or "once"
        w("| `%s` | %s | %s | %s |" % (cell(name.split(".", 1)[1]), cell(docs[name]), cell(figures), cell(result)))
    w("")
    # --- the last long run
    lres = load_json("build/test-results-long.json", None)
    if lres:
        w("## Long parts (last `CHATVAULT_LONG=1` run)")
        w("")
        w("From `build/test-results-long.json` (started %s UTC): **%d passed, %d failed** in %.0f s "
          "(tests run: %s)." % (lres.get("started", "?"), lres.get("passed", 0), lres.get("failed", 0),
                                 lres.get("seconds", 0), " ".join(lres.get("argv") or ["all"])))
        w("")
        w("| test | what it tried | how many times / figures | result |")
        w("|---|---|---|---|")
        for t in lres.get("tests", []):
            if t["status"] == "skip" or t["name"] not in docs:
                continue
            result = "pass" if t["status"] == "ok" else "**FAIL**: " + t.get("detail", "")[:200]
            w("| `%s` | %s | %s | %s |" % (cell(t["name"].split(".", 1)[1]), cell(docs[t["name"]]),
                                          cell("; ".join(t.get("notes") or []) or "once"), cell(result)))
        w("")
    vres = load_json("build/test-results-valgrind.json", None)
    if vres:
        w("## Under valgrind memcheck (`make test-valgrind`)")
        w("")
        w("Last run started %s UTC: the API and CLI suites with every chatvault process under "
          "`valgrind --leak-check=full --error-exitcode=99`: **%d passed, %d failed** in %.0f s."
          % (vres.get("started", "?"), vres.get("passed", 0), vres.get("failed", 0), vres.get("seconds", 0)))
        fails = [t for t in vres.get("tests", []) if t["status"] == "FAIL"]
        if fails:
            w("")
            for t in fails:
                w("- FAIL `%s`: %s" % (t["name"], cell(t.get("detail", "")[:300])))
        w("")
    # --- fuzzing
    w("## Fuzzing (libFuzzer + ASan + UBSan)")
    w("")
    if fuzz:
        w("| harness | what it feeds | seconds | runs | exec/s | corpus | regression inputs | result |")
        w("|---|---|---|---|---|---|---|---|")
        what = {
            "fuzz_json_body": "request bodies: val_parse_json, then every getter the handlers use; "
                              "accepted JSON reprints and re-parses; 422 lists are valid UTF-8",
            "fuzz_query_path": "raw paths and queries: percent-decoding, route lookup for every "
                               "method, path ids, query integers",
            "fuzz_iso": "ISO 8601 parse/format round trip, UTF-8 validation against a second "
                        "decoder, automatic titles",
            "fuzz_sse": "upstream bodies: chunked coding, event stream, chat chunks, JSON answers; "
                        "same result whether whole or split into reads",
            "fuzz_legacy_line": "one line of import-legacy through the importer's parse and validation",
        }
        for name in sorted(fuzz):
            st = fuzz[name]
            ok = st.get("result", "ok") == "ok" and st.get("replay", "ok") == "ok"
            w("| `%s` | %s | %s | %s | %s | %s | %s | %s |" % (
                name, what.get(name, ""), st.get("secs", ""), st.get("runs", ""),
                st.get("execs_per_sec", ""), st.get("corpus", ""), st.get("regressions", 0),
                "pass" if ok else "**FAIL** (%s)" % st.get("artifact")))
        w("")
    else:
        w("(no fuzzing figures: build/fuzz/stats.json is missing)")
        w("")
    regs = sorted(glob.glob(os.path.join(ROOT, "tests/fuzz/regressions/*/*")))
    if regs:
        w("Regression inputs replayed on every run (each one a bug the fuzzers or the tests found, "
          "fixed since):")
        w("")
        for r in regs:
            w("- `%s`" % os.path.relpath(r, ROOT))
        w("")
    # --- figures recorded
    if stats:
        w("## Figures recorded by the tests")
        w("")
        w("| recorded by | figures |")
        w("|---|---|")
        for k in sorted(stats):
            for d in stats[k]:
                d = {x: y for x, y in d.items() if x != "time"}
                w("| %s | %s |" % (k, cell(", ".join("%s=%s" % (x, y) for x, y in d.items()))))
        w("")
    timing = load_json("build/login-timing.json", None)
    if timing:
        w("Login timing (medians of %d): wrong password %.1f ms, unknown email %.1f ms."
          % (timing["n"], timing["wrong_password_ms"], timing["unknown_email_ms"]))
        w("")
    # --- every suite
    w("## Every suite of the run")
    w("")
    w("| suite | passed | failed | seconds |")
    w("|---|---|---|---|")
    for s in sorted(res.get("suites", []), key=lambda s: s["name"]):
        w("| `%s` | %d | %d | %.1f |" % (s["name"], s["passed"], s["failed"], s["seconds"]))
    w("")
    skipped = [t for t in res.get("tests", []) if t["status"] == "skip"]
    if skipped:
        w("Skipped: " + ", ".join("`%s` (%s)" % (t["name"], t["detail"][:80]) for t in skipped))
        w("")
    text = "\n".join(L) + "\n"
    if a.out == "-":
        sys.stdout.write(text)
    else:
        with open(a.out, "w") as f:
            f.write(text)
        print("wrote %s" % os.path.relpath(a.out, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
