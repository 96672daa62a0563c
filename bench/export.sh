#!/bin/bash
# bench/export.sh — issue 12's export target: exporting 1,000,000 messages at >= 100 MB/s with
# the server's resident memory <= 30 MB. `make bench-export` builds build/chatvault (the release
# binary) first and runs this; it builds nothing itself. Loopback only.
#
#   bench/export.sh                    defaults: RUNS=3
#   THREADS=1000 bench/export.sh       a quick trial (100,000 messages)
#   REFILL=1 bench/export.sh           fill the cached database again
#
# Data: one user with THREADS (10,000) threads of MSGS (100) messages of ~220 bytes (generated
# text with non-ASCII, quotes and newlines), 30 character chats, 3 personas, 2 characters
# (bench/export_data.py), filled through POST /api/v1/chat-threads/import by JOBS clients and
# cached under $CACHE/<key>/ (key: generator version and sizes) so a rerun skips the fill.
# Every run works on a scratch copy of the cached file.
#
# Measured, on a freshly started server (page cache warmed by one untimed export that is also
# parsed and checked against the fill's counts):
#   http   RUNS x `curl -s -o /dev/null -w '%{size_download} %{time_total}'` of GET /api/v1/export;
#          meanwhile the server's VmRSS sampled every 0.2 s (bench/rssmax.py); VmHWM read from
#          /proc after the runs, reset after the start (clear_refs), so it is the peak of the
#          check and the exports (the token comes from `chatvault token`: no Argon2id hash
#          runs in the server).
#   cli    RUNS x `chatvault export EMAIL FILE` (the server stopped) under /usr/bin/time: seconds
#          and maximum resident set.
# Output: bench/results/<stamp>-export/runs.txt (every run and figure, one line each) and
# summary.md (also printed).
#
# Env: RUNS=3 THREADS=10000 MSGS=100 JOBS=2 BATCH=100 CACHE=/tmp/chatvault-export-cache REFILL=0
#      KEEP=0 (keep the scratch dir)  CHATVAULT=build/chatvault
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/bench"
CV="${CHATVAULT:-$ROOT/build/chatvault}"
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
RUNS="${RUNS:-3}" THREADS="${THREADS:-10000}" MSGS="${MSGS:-100}" REFILL="${REFILL:-0}"
CACHE="${CACHE:-/tmp/chatvault-export-cache}"
export JOBS="${JOBS:-2}" BATCH="${BATCH:-100}"
SERVE_CAPS=(--max-body 67108864 --max-conversation-messages 100000000
            --max-conversation-bytes 1099511627776 --max-user-bytes 1099511627776)

[ -x "$CV" ] || { echo "export.sh: $CV not built (run make bench-export)" >&2; exit 1; }
command -v curl >/dev/null || { echo "export.sh: curl missing" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "export.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RES="$BENCH/results/$STAMP-export"; mkdir -p "$RES"
RUNSF="$RES/runs.txt"; : >"$RUNSF"
WORK="$(mktemp -d /tmp/chatvault-export.XXXXXX)"
cp "$CV" "$WORK/chatvault"; CV="$WORK/chatvault"       # a rebuild during the run changes nothing
GENVER=$(sed -n 's/^GEN_VERSION = //p' "$BENCH/export_data.py")
KEY="g$GENVER-${THREADS}x$MSGS"
CDIR="$CACHE/$KEY"
PID=""
log() { echo "export: $*" >&2; }
fig() { echo "fig $*" | tee -a "$RUNSF" >&2; }
ED() { "$PY" "$BENCH/export_data.py" "$@"; }

stop_cv() {
  local i
  [ -n "$PID" ] || return 0
  if kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID"
    for i in $(seq 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$PID" 2>/dev/null && kill -KILL "$PID"
  fi
  wait "$PID" 2>/dev/null || true
  PID=""
}
cleanup() {
  set +e
  stop_cv
  if [ "${KEEP:-0}" = 1 ]; then log "scratch kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_cv DB: chatvault on 127.0.0.1, a free port, size caps lifted; sets PID and URL
start_cv() {
  local i
  "$CV" serve --db "$1" --listen 127.0.0.1:0 --access-log off "${SERVE_CAPS[@]}" \
    >"$WORK/cv.out" 2>"$WORK/cv.err" &
  PID=$!
  for i in $(seq 600); do
    grep -q '^listening on ' "$WORK/cv.out" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/cv.err" >&2; log "chatvault died"; exit 1; }
    sleep 0.05
  done
  URL=$(sed -n 's/^listening on //p' "$WORK/cv.out")
  [ -n "$URL" ] || { log "chatvault did not start"; exit 1; }
}

{
  echo "# chatvault export bench $STAMP"
  echo "# host: $(nproc) cores, $(uname -r); chatvault $("$CV" version 2>/dev/null | head -1); git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+dirty')"
  echo "# RUNS=$RUNS THREADS=$THREADS MSGS=$MSGS cache=$KEY load: $(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$RUNSF"

# --- the data (cached)
if [ "$REFILL" = 1 ] || [ ! -f "$CDIR/main.db" ] || [ ! -f "$CDIR/main.json" ]; then
  mkdir -p "$CDIR"; rm -f "$CDIR"/main.*
  start_cv "$WORK/fill.db"
  ED fill "$URL" "$WORK/fill.json" "$THREADS" "$MSGS" | tee -a "$RUNSF" >&2
  stop_cv
  mv "$WORK/fill.db" "$CDIR/main.db"
  [ -f "$WORK/fill.db-wal" ] && mv "$WORK/fill.db-wal" "$CDIR/main.db-wal"
  rm -f "$WORK/fill.db-shm"
  mv "$WORK/fill.json" "$CDIR/main.json"
  fig "fill cached=0 secs=$(ED get "$CDIR/main.json" fill_secs)"
else
  fig "fill cached=1 secs=$(ED get "$CDIR/main.json" fill_secs)"
fi
cp "$CDIR/main.db" "$WORK/main.db"
[ -f "$CDIR/main.db-wal" ] && cp "$CDIR/main.db-wal" "$WORK/main.db-wal"
EMAIL=$(ED get "$CDIR/main.json" email)
fig "data threads=$THREADS messages=$(ED get "$CDIR/main.json" messages) content_bytes=$(ED get "$CDIR/main.json" content_bytes) db_mib=$(du -m "$WORK/main.db" | cut -f1)"

# --- over HTTP
# the token from the CLI, not a login: the server's Argon2id hash of a login would set its
# VmHWM (the peak since start) above anything the export does
TOK=$("$CV" token "$EMAIL" --db "$WORK/main.db")
start_cv "$WORK/main.db"
# the start (schema check, migrations, pools) peaks at ~65 MiB and gives it back: record that
# peak, then reset VmHWM (clear_refs 5) so the figure after the runs is the exports' own
fig "http_vmhwm_at_start_kb=$(awk '/^VmHWM/{print $2}' /proc/$PID/status) http_vmrss_at_start_kb=$(awk '/^VmRSS/{print $2}' /proc/$PID/status)"
echo 5 >"/proc/$PID/clear_refs" 2>/dev/null || log "cannot reset VmHWM (clear_refs): it includes the start"
fig "check $(ED check "$URL" "$TOK" "$CDIR/main.json")"     # also warms the page cache
fig "http_rss_after_check_kb=$(awk '/^VmRSS/{print $2}' /proc/$PID/status)"
for run in $(seq "$RUNS"); do
  "$PY" "$BENCH/rssmax.py" "$WORK/rss.$run" "server=$PID" &
  RP=$!
  sleep 0.3
  out=$(curl -s -o /dev/null -H "Authorization: Bearer $TOK" -w '%{http_code} %{size_download} %{time_total}' "$URL/api/v1/export")
  kill -TERM "$RP"; wait "$RP" 2>/dev/null || true
  read -r code size secs <<<"$out"
  rss=$(sed -n 's/.*server_rss_kb=\([0-9]*\).*/\1/p' "$WORK/rss.$run")
  fig "http run=$run status=$code bytes=$size secs=$secs mb_s=$(awk -v b="$size" -v s="$secs" 'BEGIN{printf "%.1f", b/s/1e6}') rss_max_kb=$rss load1=$(cut -d' ' -f1 /proc/loadavg)"
done
fig "http_vmhwm_kb=$(awk '/^VmHWM/{print $2}' /proc/$PID/status) http_vmrss_end_kb=$(awk '/^VmRSS/{print $2}' /proc/$PID/status)"
stop_cv

# --- the CLI (server stopped; same file)
for run in $(seq "$RUNS"); do
  /usr/bin/time -f '%e %M' -o "$WORK/time.$run" "$CV" export "$EMAIL" "$WORK/out.json" --db "$WORK/main.db" 2>"$WORK/cli.err" || { cat "$WORK/cli.err" >&2; exit 1; }
  read -r secs maxkb <"$WORK/time.$run"
  size=$(stat -c %s "$WORK/out.json")
  fig "cli run=$run bytes=$size secs=$secs mb_s=$(awk -v b="$size" -v s="$secs" 'BEGIN{printf "%.1f", b/s/1e6}') maxrss_kb=$maxkb summary=\"$(tail -1 "$WORK/cli.err")\""
  rm -f "$WORK/out.json"
done

# --- summary
"$PY" - "$RUNSF" >"$RES/summary.md" <<'EOF'
import re, sys, statistics
runs = open(sys.argv[1]).read().splitlines()
def kv(line):
    return dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
http = [kv(l) for l in runs if l.startswith("fig http run=")]
cli = [kv(l) for l in runs if l.startswith("fig cli run=")]
hwm = [kv(l) for l in runs if l.startswith("fig http_vmhwm_kb=")]
data = [kv(l) for l in runs if l.startswith("fig data ")]
print("# Export bench (issue 12 target: 1,000,000 messages at >= 100 MB/s, RSS <= 30 MB)\n")
print("\n".join(l for l in runs if l.startswith("#")) + "\n")
if data:
    d = data[0]
    print("Data: %s threads, %s messages, %s content bytes, database %s MiB.\n" % (
        d["threads"], d["messages"], d["content_bytes"], d["db_mib"]))
print("| path | run | bytes | seconds | MB/s | peak RSS (MiB) |")
print("|---|---|---|---|---|---|")
for r in http:
    print("| GET /api/v1/export | %s | %s | %s | %s | %.1f (sampled VmRSS) |" % (
        r["run"], r["bytes"], r["secs"], r["mb_s"], int(r["rss_max_kb"] or 0) / 1024))
for r in cli:
    print("| chatvault export | %s | %s | %s | %s | %.1f (max RSS) |" % (
        r["run"], r["bytes"], r["secs"], r["mb_s"], int(r["maxrss_kb"]) / 1024))
if hwm:
    print("\nServer VmHWM after all HTTP runs (peak since the reset after the start): %.1f MiB." % (
        int(hwm[0]["http_vmhwm_kb"]) / 1024))
st = [kv(l) for l in runs if l.startswith("fig http_vmhwm_at_start_kb=")]
if st:
    print("Server VmHWM at start (before the reset; not the export's): %.1f MiB." % (
        int(st[0]["http_vmhwm_at_start_kb"]) / 1024))
if http:
    print("HTTP median: %.1f MB/s; CLI median: %.1f MB/s." % (
        statistics.median(float(r["mb_s"]) for r in http),
        statistics.median(float(r["mb_s"]) for r in cli) if cli else 0))
EOF
cat "$RES/summary.md"
log "results: $RES"
