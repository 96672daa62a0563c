#!/usr/bin/env python3
"""bench/search_summary.py RUNS_TXT  ->  markdown summary of bench/search.sh on stdout.

Reads runs.txt: `round=R label=L conns=C load1=X t0=.. t1=.. :: NAME req/s p50 p99 non2xx k=v..`
(wrk runs), `fig NAME k=v ...` (fills, search_cost figures, checks), `note ...`, `# ...`.
Figures over rounds are medians; each ratio is computed per round from runs of the same round
of this session (then the median), never from a number written down elsewhere.
"""
import re
import shlex
import statistics
import sys

LINE = re.compile(r"round=(\S+) label=(\S+) conns=(\S+) load1=(\S+) t0=\S+ t1=\S+ :: (.*)$")
med = statistics.median


def kv(s):
    try:
        parts = shlex.split(s)          # what="several words"
    except ValueError:
        parts = s.split()
    return dict(x.split("=", 1) for x in parts if "=" in x)


def parse(path):
    runs, figs, notes, header = [], {}, [], []
    for raw in open(path, encoding="utf-8", errors="replace"):
        line = raw.rstrip("\n")
        if line.startswith("#"):
            header.append(line.lstrip("# "))
        elif line.startswith("note "):
            notes.append(line[5:])
        elif line.startswith("fig "):
            name, _, rest = line[4:].partition(" ")
            # several lines of one name (shadow tables): keep them all
            figs.setdefault(name, []).append(kv(rest))
        else:
            m = LINE.match(line)
            if not m:
                continue
            rnd, label, conns, load1, res = m.groups()
            f = res.split()
            r = dict(round=rnd, label=label, conns=conns, load1=float(load1), ok=False)
            if len(f) >= 5 and f[1] != "FAILED":
                try:
                    r.update(rps=float(f[1]), p50=float(f[2]), p99=float(f[3]), non2xx=int(f[4]), ok=True)
                except ValueError:
                    pass
                r.update(kv(" ".join(f[5:])))
            runs.append(r)
    return header, runs, figs, notes


def n(x, nd=0):
    return "–" if x is None else f"{x:,.{nd}f}"


def main():
    header, runs, figs, notes = parse(sys.argv[1])
    ok = [r for r in runs if r["ok"]]

    def by(label):
        return [r for r in ok if r["label"] == label]

    def f1(name):
        v = figs.get(name)
        return v[0] if v else {}

    def per_round_ratio(a, b, key="rps"):
        """median over rounds of a/b, both from the same round."""
        A = {r["round"]: r[key] for r in by(a)}
        B = {r["round"]: r[key] for r in by(b)}
        rs = [A[k] / B[k] for k in A if k in B and B[k]]
        return (med(rs) if rs else None), rs

    rows = []          # (figure, target, result, verdict)

    def verdict(cond):
        return "–" if cond is None else ("met" if cond else "**missed**")

    out = ["# chatvault search bench (issue 11)", ""]
    out += [f"- {h}" for h in header]
    out.append("")

    # fill
    fm = f1("fill_main")
    if fm:
        secs, msgs = float(fm["secs"]), int(fm["messages"])
        rows.append(("fill: U (10,000 threads x 100) + 50 users (100 x 100) through the import API, "
                     f"{fm.get('jobs', '?')} clients" + (" (cached: figures of the fill that made it)" if fm.get("cached") == "1" else ""),
                     "", f"{msgs:,} messages in {secs:,.1f} s ({msgs / secs:,.0f} messages/s, "
                         f"{int(fm['request_bytes']) / 1e6:,.0f} MB of requests)", ""))
    chk = f1("search_check")
    if chk:
        good = chk.get("total") == "20" and chk.get("items") == "20"
        rows.append(("`GET /api/v1/search?q=zyxolotl&limit=20` answer (20 planted in U's messages, "
                     "30 more in other users')", "total 20, 20 items",
                     f"total {chk.get('total')}, {chk.get('items')} items", verdict(good)))
    s = by("search/http")
    if s:
        p99s = [r["p99"] for r in s]
        rows.append((f"search, one rare word, 16 connections ({len(s)} rounds, median; p99 worst round)",
                     "p99 ≤ 20 ms",
                     f"{n(med([r['rps'] for r in s]))} req/s, p50 {n(med([r['p50'] for r in s]), 2)} ms, "
                     f"p99 {n(med(p99s), 2)} ms (worst {n(max(p99s), 2)}), non-2xx {sum(r['non2xx'] for r in s)}",
                     verdict(med(p99s) <= 20)))
    hz = by("search/healthz")
    if s and hz:
        ratio, rs = per_round_ratio("search/http", "search/healthz")
        rows.append(("`GET /healthz` at 16 connections just before each search run (the HTTP ceiling of that "
                     "moment: the machine is shared)", "",
                     f"{n(med([r['rps'] for r in hz]))} req/s; search = {ratio * 100:.1f} % of it "
                     f"(rounds: {', '.join(f'{x * 100:.1f} %' for x in rs)})", ""))
    s2 = by("search/http_common_word")
    if s2:
        r = s2[0]
        cf = f1("cost_common_fts")
        rows.append(("search, a common word (`people`: every hit ranked), 16 connections, reference", "",
                     f"{n(r['rps'])} req/s, p50 {n(r['p50'], 2)} ms, p99 {n(r['p99'], 2)} ms"
                     + (f"; its FTS query alone {n(float(cf['qps']), 1)} q/s (best {cf['best_ms']} ms, "
                        f"{int(cf['total']):,} hits ranked)" if cf else ""), ""))
    fts, like = f1("cost_fts"), f1("cost_like")
    if fts and like:
        qf, ql = float(fts["qps"]), float(like["qps"])
        scan = f1("cost_scan")
        http = med([r["rps"] for r in s]) if s else None
        rows.append(("the server's FTS query vs the LIKE scan (`segments.messages LIKE '%zyxolotl%'` over "
                     "U's rows), SQLite alone, one connection" +
                     (f"; the scan reads {int(scan['segments']):,} segments, {int(scan['bytes']) / 1e6:,.0f} MB" if scan else ""),
                     "FTS ≥ 100× LIKE",
                     f"FTS {n(qf)} q/s ({fts.get('rows')} rows, total {fts.get('total')}"
                     + (f"; with the read of each hit's message {n(float(f1('cost_fts_read')['qps']))} q/s" if f1("cost_fts_read") else "")
                     + f"), LIKE {n(ql, 2)} q/s "
                     f"({like.get('rows')} segments, best {like.get('best_ms')} ms): **{qf / ql:,.0f}×**"
                     + (f"; HTTP search {n(http)} req/s = {http / ql:,.0f}× the LIKE rate" if http else ""),
                     verdict(qf / ql >= 100)))
    for pre, label, target in (("main", "index size, English-like text (1,500,000 messages, all users)", "≤ 60 %"),
                               ("cjk", "index size, CJK text (the CJK cost: pairs of characters)", "")):
        z = f1(f"{pre}_size")
        if z:
            pct = float(z["pages_pct"])
            rows.append((label, target,
                         f"{int(z['index_page_bytes']) / 1e6:,.1f} MB of index pages (payload "
                         f"{int(z['index_payload_bytes']) / 1e6:,.1f} MB) for {int(z['indexed_bytes']) / 1e6:,.1f} MB "
                         f"of text ({int(z['messages']):,} messages + titles): **{pct:.1f} %** "
                         f"(payload {float(z['payload_pct']):.1f} %)",
                         verdict(pct <= 60) if target else ""))
    for pat in ("hot", "spread"):
        w, wo = by(f"append/with_{pat}"), by(f"append/without_{pat}")
        if w and wo:
            ratio, rs = per_round_ratio(f"append/with_{pat}", f"append/without_{pat}")
            what = "one hot thread" if pat == "hot" else "a random one of 1,000 threads"
            rows.append((f"append with / without the index, {what}, 64 connections",
                         "≥ 70 %",
                         f"with {n(med([r['rps'] for r in w]))} req/s (p99 {n(med([r['p99'] for r in w]), 1)} ms), "
                         f"without {n(med([r['rps'] for r in wo]))} req/s (p99 {n(med([r['p99'] for r in wo]), 1)} ms): "
                         f"**{ratio * 100:.0f} %** (rounds: {', '.join(f'{x * 100:.0f} %' for x in rs)}); "
                         f"non-2xx {sum(r['non2xx'] for r in w + wo)}",
                         verdict(ratio >= 0.7)))
    p1 = by("pages/page1")
    pd = [r for r in ok if r["label"].startswith("pages/page") and r["label"] != "pages/page1"]
    p2 = by("pages/cursor_page2")
    po = [r for r in ok if r["label"].startswith("pages/offset")]
    if p1 and pd:
        deep = pd[0]["label"]
        ratio, rs = per_round_ratio("pages/page1", deep)
        walk = f1("pages_walk")
        rows.append((f"list page 1 vs {deep.split('/page')[1]} of 100,000 threads (`?cursor=` reached by walking "
                     f"X-Next-Cursor{' in ' + walk['secs'] + ' s' if walk else ''}), 16 connections",
                     "page 1 / deep ≤ 1.2×",
                     f"page 1 {n(med([r['rps'] for r in p1]))} req/s, deep {n(med([r['rps'] for r in by(deep)]))} req/s: "
                     f"**{ratio:.2f}×** (rounds: {', '.join(f'{x:.2f}' for x in rs)})",
                     verdict(ratio <= 1.2)))
        if p2:
            r2, rs2 = per_round_ratio("pages/page1", "pages/cursor_page2")
            r3, rs3 = per_round_ratio("pages/cursor_page2", deep)
            rows.append(("page 2 by its cursor (a cursor one page deep: the cursor's own cost, apart from depth)", "",
                         f"{n(med([r['rps'] for r in p2]))} req/s: page 1 / page 2 {r2:.2f}×, page 2 / deep {r3:.2f}× "
                         f"(rounds: {', '.join(f'{x:.2f}' for x in rs2)} / {', '.join(f'{x:.2f}' for x in rs3)})", ""))
        if po:
            rows.append((f"the same page by `?offset={po[0]['label'].split('offset')[1]}` (the old way), reference", "",
                         f"{n(med([r['rps'] for r in po]))} req/s (page 1 is {med([r['rps'] for r in p1]) / med([r['rps'] for r in po]):,.0f}× faster)", ""))

    loads = [r["load1"] for r in runs]
    if loads:
        out.append(f"Machine: 2 shared cores; 1-minute load before the runs {min(loads):.1f} to {max(loads):.1f} "
                   "(other engineers' builds and tests), so absolute rates and tail latencies move with it; "
                   "ratios are per round, side by side.")
        out.append("")
    out.append("| figure | target | result | |")
    out.append("|---|---|---|---|")
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    out.append("")

    # what the index size is made of (SIZE_VARIANTS=1)
    vs = [v for v in figs.get("variant_variant", [])]
    src = f1("variant_src")
    if vs and src:
        out.append(f"## Index size by form ({int(src['messages']):,} of U's messages, "
                   f"{int(src['text_bytes']) / 1e6:,.1f} MB of text, built again in a scratch file)")
        out.append("")
        out.append("| form | bytes / text | after 'optimize' |")
        out.append("|---|---:|---:|")
        for v in vs:
            what = v.get("what", v["name"])
            out.append(f"| {v['name']}: {what} | {float(v['pct']):.1f} % | {float(v['optimized_pct']):.1f} % |")
        out.append("")

    # every wrk run
    out.append("## Runs (wrk)")
    out.append("")
    out.append("| round | run | conns | load1 before | req/s | p50 ms | p99 ms | non-2xx |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        if r["ok"]:
            out.append(f"| {r['round']} | {r['label']} | {r['conns']} | {r['load1']:.2f} | {n(r['rps'])} | "
                       f"{r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']} |")
        else:
            out.append(f"| {r['round']} | {r['label']} | {r['conns']} | {r['load1']:.2f} | FAILED | | | |")
    out.append("")
    out.append("## Figures")
    out.append("")
    for name, vs in figs.items():
        for v in vs:
            out.append(f"- {name}: " + " ".join(f"{k}={x}" for k, x in v.items()))
    if notes:
        out.append("")
        out.append("## Notes")
        out.append("")
        out += [f"- {x}" for x in notes]
    print("\n".join(out))


if __name__ == "__main__":
    main()
