#!/bin/bash
# wrk1.sh NAME CONNS SCRIPT URL  ->  one line "NAME req/s p50_ms p99_ms non2xx key=value ..."
# A warm-up of $WARMUP s first (output discarded), then $DURATION s measured, like
# peer-bench's load.sh. SCRIPT is a wrk lua script printing a RESULT line (peer-bench's
# lua/common.lua does); its inputs come from the environment (TOKEN, LUA_DIR, ...).
set -euo pipefail
name=$1 c=$2 script=$3 url=$4
t="${THREADS:-2}"; [ "$c" -lt "$t" ] && t=$c
if [ "${WARMUP:-2}" -gt 0 ]; then
  wrk -t"$t" -c"$c" -d"${WARMUP:-2}s" --timeout 10s -s "$script" "$url" >/dev/null 2>&1 || true
fi
out=$(wrk -t"$t" -c"$c" -d"${DURATION:-10}s" --timeout 10s -s "$script" "$url" 2>&1) \
  || { echo "$name wrk-failed: $out" >&2; exit 1; }
line=$(grep '^RESULT ' <<<"$out" || true)
[ -n "$line" ] || { echo "$name: no RESULT line: $out" >&2; exit 1; }
echo "$name ${line#RESULT }"
