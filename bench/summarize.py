#!/usr/bin/env python3
"""bench/summarize.py RUNS_TXT  ->  markdown summary on stdout (python3 stdlib only).

Reads the run lines bench/run.sh wrote:
  round=R label=SERVER/SCEN other_pct=O t0=.. t1=.. :: NAME req/s p50 p99 non2xx [k=v ...] :: [k=v ...]
plus `note ...`, `import ...` and `# ...` lines. Figures are medians over the rounds; every
ratio is computed per round from runs of the same session (then the median is taken),
never from a number written down elsewhere.
"""
import re
import statistics
import sys
from collections import OrderedDict

LINE = re.compile(r"round=(\S+) label=(\S+) other_pct=([\d.]+) t0=(\S+) t1=(\S+) :: (.*?) :: ?(.*)$")
med = statistics.median


def parse(path):
    runs, notes, imports, header = [], [], [], []
    for raw in open(path, encoding="utf-8", errors="replace"):
        line = raw.rstrip("\n")
        if line.startswith("#"):
            header.append(line.lstrip("# "))
            continue
        if line.startswith("note "):
            notes.append(line[5:])
            continue
        if line.startswith("import "):
            imports.append(line[7:])
            continue
        m = LINE.match(line)
        if not m:
            continue
        rnd, label, other, t0, t1, res, mem = m.groups()
        f = res.split()
        r = dict(round=rnd, label=label, other=float(other), name=f[0] if f else "?", ok=False)
        if len(f) >= 5 and f[1] != "FAILED":
            try:
                r.update(rps=float(f[1]), p50=float(f[2]), p99=float(f[3]), non2xx=int(f[4]), ok=True)
            except ValueError:
                pass
            r.update(dict(x.split("=", 1) for x in f[5:] if "=" in x))
        for x in mem.split():
            if "=" in x:
                k, v = x.split("=", 1)
                r[k] = v
        runs.append(r)
    return header, runs, notes, imports


def by_label(runs):
    out = OrderedDict()
    for r in runs:
        if r["ok"]:
            out.setdefault(r["label"], []).append(r)
    return out


def fmt(x, nd=0):
    if x is None:
        return "–"
    return f"{x:,.{nd}f}"


def rss_mb(r, prefix):
    """Peak VmRSS (MiB) of the groups rssmax.py reported under keys starting with prefix."""
    tot = sum(int(v) for k, v in r.items() if k.endswith("_rss_kb") and k.startswith(prefix))
    return tot / 1024 if tot else None


def main():
    header, runs, notes, imports = parse(sys.argv[1])
    L = by_label(runs)
    m = re.search(r"CONNS=(\d+)", " ".join(header))
    conns = m.group(1) if m else "?"
    rounds = sorted({r["round"] for r in runs if r["round"].isdigit()}, key=int)

    def rs(label):
        return L.get(label, [])

    def medof(label, key):
        v = [r[key] for r in rs(label) if key in r]
        return med(v) if v else None

    ceiling = {}   # round -> mean healthz req/s of that round
    for rnd in rounds:
        v = [r["rps"] for r in rs("chatvault/healthz") if r["round"] == rnd]
        if v:
            ceiling[rnd] = sum(v) / len(v)

    def ratio_rounds(a, b):
        """per-round a/b of req/s (b a label or 'ceiling'), for the rounds that have both."""
        out = []
        for ra in rs(a):
            if b == "ceiling":
                d = ceiling.get(ra["round"])
            else:
                d = next((rb["rps"] for rb in rs(b) if rb["round"] == ra["round"]), None)
            if d:
                out.append(ra["rps"] / d)
        return out

    def ratio(a, b):
        v = ratio_rounds(a, b)
        return med(v) if v else None

    def lost(label):
        v = [int(r["lost"]) for r in rs(label) if "lost" in r]
        return sum(v) if v else None

    def peak(label, prefix):
        v = [rss_mb(r, prefix) for r in rs(label)]
        v = [x for x in v if x]
        return max(v) if v else None

    print("# chatvault benchmark summary\n")
    for h in header:
        print(f"- {h}")
    print(f"- rounds: {len(rounds)}; figures are medians over rounds; ratios are per-round ratios of "
          "runs in this session (median); ceiling = chatvault `GET /healthz` in the same round.\n")

    # ---- main table
    print("| scenario | chatvault req/s | p50 ms | p99 ms | peer req/s | p50 ms | p99 ms | "
          "chatvault/peer | chatvault/healthz | lost appends (cv / peer) | peak MiB: cv VmRSS / peer PSS (VmRSS sum) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    names = OrderedDict([("a", "a GET one thread (20 msgs)"), ("b", "b list 20 of 1,000"),
                         ("c", "c create"), ("d", "d append, hot thread"),
                         ("d-fu", "d append, hot thread (peer SELECT … FOR UPDATE)"),
                         ("e", "e GET one thread, 1 connection"),
                         ("f_chat_new", "f POST /api/chat, new chat each"),
                         ("f_chat_one", "f POST /api/chat, one chat"),
                         ("g_users_me", "g GET /api/users/me (30 chats × 20 msgs)")])
    for key, title in names.items():
        cv = "chatvault/" + ("d" if key == "d-fu" else key)
        peer = "peer-forupdate/d" if key == "d-fu" else "peer/" + key
        if not rs(cv) and not rs(peer) or (key == "d-fu" and not rs(peer)):
            continue
        lc, lp = lost(cv), lost(peer)
        lost_s = "" if lc is None and lp is None else f"{fmt(lc)} / {fmt(lp)}"
        pk = peak(cv, "cv")
        pp = peak(peer, "peer")
        pg = peak(peer, "pg")
        pss = [int(r["peer_pss_kb"]) / 1024 for r in rs(peer) if "peer_pss_kb" in r]
        peer_mem = "" if pp is None else (f"PSS {max(pss):.0f} (RSS sum {(pp or 0) + (pg or 0):.0f})" if pss
                                          else f"RSS sum {(pp or 0) + (pg or 0):.0f}")
        print(f"| {title} | {fmt(medof(cv, 'rps'))} | {fmt(medof(cv, 'p50'), 2)} | {fmt(medof(cv, 'p99'), 2)} | "
              f"{fmt(medof(peer, 'rps'))} | {fmt(medof(peer, 'p50'), 2)} | {fmt(medof(peer, 'p99'), 2)} | "
              f"{fmt(ratio(cv, peer), 1) + '×' if ratio(cv, peer) else '–'} | "
              f"{fmt(100 * ratio(cv, 'ceiling'), 1) + ' %' if ratio(cv, 'ceiling') else '–'} | "
              f"{lost_s} | {fmt(pk, 1)} / {peer_mem or '–'} |")
    hz = "chatvault/healthz"
    print(f"| ceiling: chatvault GET /healthz | {fmt(medof(hz, 'rps'))} | {fmt(medof(hz, 'p50'), 2)} | "
          f"{fmt(medof(hz, 'p99'), 2)} | | | | | 100 % | | {fmt(peak(hz, 'cv'), 1)} / |")
    if rs("limit/hello"):
        lh = "limit/hello"
        print(f"| reference: bare civetweb hello | {fmt(medof(lh, 'rps'))} | {fmt(medof(lh, 'p50'), 2)} | "
              f"{fmt(medof(lh, 'p99'), 2)} | | | | | "
              f"{fmt(100 * ratio(lh, 'ceiling'), 0) + ' %' if ratio(lh, 'ceiling') else '–'} | | "
              f"{fmt(peak(lh, 'limit'), 1)} (hello) |")
    print()
    print("Per round (req/s): " + "; ".join(
        f"{lab} " + " / ".join(fmt(r["rps"]) for r in rr) for lab, rr in L.items()
        if not lab.startswith("growth/")))
    print()

    # ---- durability
    if rs("chatvault-normal/c") or rs("chatvault-normal/d"):
        print("## What `--sync full` (default) costs: the same run, round 1\n")
        print("| scenario | FULL req/s | p50 | p99 | NORMAL req/s | p50 | p99 | FULL/NORMAL | lost (full / normal) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for s, t in (("c", "c create"), ("d", "d append, hot thread")):
            f = [r for r in rs("chatvault/" + s) if r["round"] == "1"]
            n = rs("chatvault-normal/" + s)
            if not f or not n:
                continue
            f, n = f[0], n[0]
            print(f"| {t} | {fmt(f['rps'])} | {f['p50']:.2f} | {f['p99']:.2f} | {fmt(n['rps'])} | "
                  f"{n['p50']:.2f} | {n['p99']:.2f} | {100 * f['rps'] / n['rps']:.0f} % | "
                  f"{f.get('lost', '–')} / {n.get('lost', '–')} |")
        print()

    # ---- growth
    g = [(lab, rr) for lab, rr in L.items() if lab.startswith("growth/")]
    if g:
        print("## How costs grow (own chatvault instance, 64 connections)\n")
        print("| run | req/s | p50 ms | p99 ms | non2xx | peak RSS MiB |")
        print("|---|---:|---:|---:|---:|---:|")
        for lab, rr in g:
            r = rr[0]
            print(f"| {lab[7:]} | {fmt(r['rps'])} | {r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']} | "
                  f"{fmt(rss_mb(r, 'cv'), 1)} |")
        print()

    # ---- import
    if imports:
        print("## `chatvault import-legacy`\n")
        for i in imports:
            print(f"- {i}")
        print("- retention keeps only the 30 newest chats per user, so most imported rows are removed "
              "again by the trigger (kept_rows above).\n")

    # ---- targets
    print("## Targets (issue 2)\n")

    def target(desc, val, ok, shown):
        state = "n/a (not measured)" if val is None else ("met" if ok else "NOT met")
        print(f"- {desc}: {shown} — **{state}**")

    for s, t, need in (("a", "GET one thread", 0.5), ("b", "list", 0.5), ("c", "create", 0.25),
                       ("d", "append (hot thread)", 0.25)):
        v = ratio("chatvault/" + s, "ceiling")
        target(f"{t} ≥ {need * 100:.0f} % of healthz", v, v is not None and v >= need,
               "–" if v is None else f"{100 * v:.1f} % (rounds: " +
               ", ".join(f"{100 * x:.1f} %" for x in ratio_rounds("chatvault/" + s, "ceiling")) + ")")
    for s, t in (("a", "GET one thread"), ("b", "list")):
        v = medof("chatvault/" + s, "p99")
        worst = max((r["p99"] for r in rs("chatvault/" + s)), default=None)
        target(f"p99 < 10 ms at {conns} connections, {t}", v, v is not None and v < 10,
               "–" if v is None else f"median {v:.2f} ms (worst round {worst:.2f} ms)")
    load_labels = [f"chatvault/{s}" for s in "abcde"]
    pk = [x for x in (peak(lab, "cv") for lab in load_labels) if x]
    v = max(pk) if pk else None
    target("chatvault resident memory < 30 MB under load (VmRSS peak over runs a–e)", v,
           v is not None and v < 30 * 1e6 / 2**20, "–" if v is None else f"{v:.1f} MiB ({v * 2**20 / 1e6:.1f} MB)")
    for s, t, need in (("a", "GET one thread", 30), ("b", "list", 30), ("d", "append vs the peer's ORM append", 10)):
        v = ratio("chatvault/" + s, "peer/" + s)
        target(f"{t}: ≥ {need}× the peer's req/s", v, v is not None and v >= need,
               "–" if v is None else f"{v:.1f}×")
    v = ratio("chatvault/d", "peer-forupdate/d")
    if v is not None:
        print(f"- (for reference) append vs the peer's `FOR UPDATE` append, which loses nothing: {v:.1f}×")
    lc = [lost(x) for x in ("chatvault/d", "chatvault-normal/d")]
    lc = [x for x in lc if x is not None]
    lp = lost("peer/d")
    target("zero lost appends (chatvault, all rounds, FULL and NORMAL)", lc or None, lc and sum(lc) == 0,
           f"chatvault lost {sum(lc) if lc else '–'}; the peer's ORM append lost {fmt(lp)} "
           f"(of {sum(int(r.get('ok2xx', 0)) for r in rs('peer/d'))} acknowledged)")
    print()

    # ---- warnings and notes
    warn = []
    for r in runs:
        if not r["ok"]:
            warn.append(f"{r['label']} round {r['round']}: FAILED (see the scratch errors.log)")
            continue
        if r.get("non2xx", 0):
            warn.append(f"{r['label']} round {r['round']}: {r['non2xx']} responses ≥ 400")
        se = r.get("sockerr", "0/0/0/0")
        if se != "0/0/0/0":
            warn.append(f"{r['label']} round {r['round']}: socket errors connect/read/write/timeout {se}")
        if r["other"] >= 10:
            warn.append(f"{r['label']} round {r['round']}: other processes used {r['other']:.0f} % of the machine")
    if warn:
        print("## Warnings\n")
        for w in warn:
            print(f"- {w}")
        print()
    if notes:
        print("## Notes\n")
        for n in notes:
            print(f"- {n}")
        print()


if __name__ == "__main__":
    main()
