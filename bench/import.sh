#!/bin/bash
# bench/import.sh — issue 12's import target: a synthetic 200 MB ChatGPT conversations.json
# (bench/import_data.py, shaped after the real sample in ../shared/formats) imported at
# >= 20,000 conversations/s with resident memory <= 64 MB. `make bench-import` builds
# build/chatvault (release) first and runs this; it builds nothing itself. Loopback only.
#
#   bench/import.sh                 defaults: MB=200 RUNS=2
#   MB=20 RUNS=1 bench/import.sh    a quick trial
#
# Measured, each run on a fresh database:
#   http  POST /api/v1/import of the file with curl (--data-binary from disk, Content-Length):
#         seconds, conversations/s, MB/s; the server's peak resident memory (VmHWM, reset by
#         clear_refs after start) and the sampled VmRSS (bench/rssmax.py);
#   cli   `chatvault import EMAIL FILE` under /usr/bin/time: seconds and maximum resident set.
#   again the same file a second time over HTTP (everything already there: the idempotency
#         check's cost).
# Output: bench/results/<stamp>-import/runs.txt and summary.md (also printed).
#
# Env: MB=200 RUNS=2 CACHE=/tmp/chatvault-import-cache (the generated file) KEEP=0
#      CHATVAULT=build/chatvault  SAMPLE=../shared/formats/chatgpt/openwebui-importer_gpt_example.json
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/bench"
CV="${CHATVAULT:-$ROOT/build/chatvault}"
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
MB="${MB:-200}" RUNS="${RUNS:-2}" CACHE="${CACHE:-/tmp/chatvault-import-cache}"
SAMPLE="${SAMPLE:-$ROOT/../shared/formats/chatgpt/openwebui-importer_gpt_example.json}"
[ -x "$CV" ] || { echo "import.sh: $CV not built (run make bench-import)" >&2; exit 1; }
[ -f "$SAMPLE" ] || { echo "import.sh: the real sample $SAMPLE is missing" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "import.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RES="$BENCH/results/$STAMP-import"; mkdir -p "$RES"
RUNSF="$RES/runs.txt"; : >"$RUNSF"
WORK="$(mktemp -d /tmp/chatvault-import.XXXXXX)"
cp "$CV" "$WORK/chatvault"; CV="$WORK/chatvault"
PID=""
log() { echo "import: $*" >&2; }
fig() { echo "fig $*" | tee -a "$RUNSF" >&2; }
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$CACHE"
FILE="$CACHE/chatgpt-${MB}mb-v1.json"
if [ ! -s "$FILE" ]; then
  log "generating $FILE from $SAMPLE"
  "$PY" "$BENCH/import_data.py" "$SAMPLE" "$FILE.tmp" "$MB" >"$FILE.count"
  mv "$FILE.tmp" "$FILE"
fi
NCONV=$(sed -n 's/^conversations=\([0-9]*\).*/\1/p' "$FILE.count")
BYTES=$(stat -c %s "$FILE")
fig "file bytes=$BYTES conversations=$NCONV avg_conv_bytes=$((BYTES / NCONV))"

PORT=$((20000 + RANDOM % 20000))
start_cv() {  # $1: db
  "$CV" serve --db "$1" --listen "127.0.0.1:$PORT" --max-import 1073741824 --access-log off \
    >"$WORK/serve.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  echo 5 >"/proc/$PID/clear_refs" 2>/dev/null || true
}
stop_cv() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

for r in $(seq "$RUNS"); do
  DB="$WORK/db$r"; rm -f "$DB"*
  echo "bench-password-1" | "$CV" user add bench@example.test --db "$DB" >/dev/null
  TOK=$("$CV" token bench@example.test --db "$DB" | tail -1 | awk '{print $NF}')
  start_cv "$DB"
  "$PY" "$BENCH/rssmax.py" "$WORK/rss$r" "server=$PID" & RSSPID=$!
  OUT=$(curl -s -o "$WORK/answer$r.json" -w '%{http_code} %{time_total}' -X POST \
        -H "Authorization: Bearer $TOK" --data-binary @"$FILE" \
        "http://127.0.0.1:$PORT/api/v1/import")
  kill "$RSSPID"; wait "$RSSPID" 2>/dev/null || true
  HWM=$(awk '/VmHWM/{print $2}' "/proc/$PID/status")
  read -r CODE SECS <<<"$OUT"
  IMPORTED=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["imported"])' "$WORK/answer$r.json")
  [ "$CODE" = 200 ] && [ "$IMPORTED" = "$NCONV" ] || { log "run $r: HTTP $CODE, imported $IMPORTED of $NCONV"; exit 1; }
  fig "http run=$r seconds=$SECS conv_per_s=$("$PY" -c "print(round($NCONV/$SECS))") mb_per_s=$("$PY" -c "print(round($BYTES/1e6/$SECS,1))") vmhwm_kb=$HWM $(cat "$WORK/rss$r")"
  OUT=$(curl -s -o "$WORK/again$r.json" -w '%{http_code} %{time_total}' -X POST \
        -H "Authorization: Bearer $TOK" --data-binary @"$FILE" \
        "http://127.0.0.1:$PORT/api/v1/import")
  read -r CODE SECS <<<"$OUT"
  fig "again run=$r seconds=$SECS conv_per_s=$("$PY" -c "print(round($NCONV/$SECS))")"
  stop_cv
  DB2="$WORK/cli$r"; rm -f "$DB2"*
  echo "bench-password-1" | "$CV" user add bench@example.test --db "$DB2" >/dev/null
  /usr/bin/time -f "%e %M" -o "$WORK/time$r" "$CV" import bench@example.test "$FILE" --db "$DB2" \
    >"$WORK/cli$r.out" 2>/dev/null || true
  read -r CSECS CMAX < <(tail -1 "$WORK/time$r")
  fig "cli run=$r seconds=$CSECS conv_per_s=$("$PY" -c "print(round($NCONV/$CSECS))") maxrss_kb=$CMAX $(head -1 "$WORK/cli$r.out")"
  rm -f "$DB"* "$DB2"*
done
{
  echo "# import bench $STAMP"
  echo
  echo "File: $BYTES bytes, $NCONV ChatGPT conversations (avg $((BYTES / NCONV)) bytes), from $(basename "$SAMPLE")'s shapes."
  echo
  grep '^fig' "$RUNSF" | sed 's/^fig /- /'
} | tee "$RES/summary.md"
