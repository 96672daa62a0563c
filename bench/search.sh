#!/bin/bash
# bench/search.sh — issue 11's targets in one session: search at 1,000,000 messages, the LIKE
# scan beside it, index size (English-like and CJK text), append with and without the index,
# deep pages with keyset cursors. `make bench-search` builds build/chatvault and
# build/bench/search_cost first and runs this; it builds nothing itself. Loopback only; every
# load stops by itself (wrk -d).
#
#   bench/search.sh                        defaults: DURATION=10 ROUNDS=2
#   DURATION=3 ROUNDS=1 bench/search.sh    a quick trial
#   REFILL=1 bench/search.sh               fill the cached databases again
#
# Parts (each can be skipped with NAME=0):
#   SEARCH  user U: 1,000,000 messages (10,000 threads of 100), plus 50 users of 100 threads of
#           100; generated English-like text (bench/search_data.py); the rare word zyxolotl
#           in exactly 20 of U's messages and 30 of other users'. Filled through
#           POST /api/v1/chat-threads/import by JOBS parallel clients, then cached under
#           $CACHE/<key>/ (key: generator version, sizes, hash of the tokenizer src/store_fts.c and
#           schema.sql's search section)
#           so a rerun skips the fill. GET /api/v1/search?q=zyxolotl&limit=20 checked once
#           (total 20, 20 items), then wrk at 16 connections, ROUNDS x DURATION s.
#   COST    build/bench/search_cost: the server's FTS query (zSearchSql; also with the read of
#           each hit's message, zMessageSql) vs the LIKE scan over U's segments, COST_SECS (5)
#           s each, on one read-only connection, no server running; the FTS query for a common
#           word too. SIZE_VARIANTS=1 also builds the index of 100,000 of U's messages in
#           other forms (dense rowids, unicode61, detail=column) to show what its size is made of.
#   SIZE    index bytes (FTS5 shadow tables) vs indexed text bytes, on U's database and on a
#           CJK database (1,000 threads of 100 generated Japanese/Chinese messages, cached too).
#   APPEND  one database (1,000 threads of 20 messages + a hot thread) copied twice: as is, and
#           without the search triggers (nothing indexed); both served at once, wrk at 64
#           connections on the hot thread and spread over the 1,000 threads (a random one per
#           request), interleaved with/without, ROUNDS rounds.
#   PAGES   one user with 100,000 threads (cached): page 1 vs page 5,000 (cursor reached by
#           walking X-Next-Cursor 4,999 times) vs ?offset=99980, wrk at 16 connections,
#           interleaved, ROUNDS rounds; page 2 by its cursor too (what a cursor costs by itself,
#           apart from depth).
# Output: bench/results/<stamp>-search/runs.txt (every run and figure, one line each),
# summary.md (also printed; bench/search_summary.py). Ratios come from runs of this session.
#
# Env: DURATION=10 ROUNDS=2 WARMUP=2 (s, per run) THREADS=2 (wrk threads) JOBS=3 (fill clients)
#      COST_SECS=5  CACHE=/tmp/chatvault-search-cache  REFILL=0  KEEP=0 (keep the scratch dir)
#      U_THREADS=10000 OTHERS=50 OTHER_THREADS=100 MSGS=100 (the main data set; smaller for a
#      dry run)  CJK_THREADS=1000  PAGE_THREADS=100000  PAGE=5000
#      SEARCH=1 COST=1 SIZE=1 APPEND=1 PAGES=1   FILL_ONLY=1: fill the cache and stop
#      CHATVAULT=build/chatvault  SEARCH_COST=build/bench/search_cost  PEER_BENCH=../shared/peer-bench
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/bench"
PB="$(cd "${PEER_BENCH:-$ROOT/../shared/peer-bench}" && pwd)"
CV="${CHATVAULT:-$ROOT/build/chatvault}"
SC="${SEARCH_COST:-$ROOT/build/bench/search_cost}"
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
export DURATION="${DURATION:-10}" WARMUP="${WARMUP:-2}" THREADS="${THREADS:-2}" JOBS="${JOBS:-3}"
ROUNDS="${ROUNDS:-2}" COST_SECS="${COST_SECS:-5}" REFILL="${REFILL:-0}"
CACHE="${CACHE:-/tmp/chatvault-search-cache}"
U_THREADS="${U_THREADS:-10000}" OTHERS="${OTHERS:-50}" OTHER_THREADS="${OTHER_THREADS:-100}" MSGS="${MSGS:-100}"
CJK_THREADS="${CJK_THREADS:-1000}" PAGE_THREADS="${PAGE_THREADS:-100000}" PAGE="${PAGE:-5000}"
SEARCH="${SEARCH:-1}" COST="${COST:-1}" SIZE="${SIZE:-1}" APPEND="${APPEND:-1}" PAGES="${PAGES:-1}"
export LUA_DIR="$PB/lua"          # peer-bench's lua (common.lua, get.lua); ours dofile it
RARE=zyxolotl
SERVE_CAPS=(--max-body 67108864 --max-conversation-messages 100000000
            --max-conversation-bytes 1099511627776 --max-user-bytes 1099511627776)

[ -x "$CV" ] || { echo "search.sh: $CV not built (run make bench-search)" >&2; exit 1; }
[ -x "$SC" ] || { echo "search.sh: $SC not built (run make bench-search)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "search.sh: wrk missing (tools/deps.sh bench)" >&2; exit 1; }

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RES="$BENCH/results/$STAMP-search"; mkdir -p "$RES"
RUNS="$RES/runs.txt"; : >"$RUNS"
WORK="$(mktemp -d /tmp/chatvault-search.XXXXXX)"
cp "$CV" "$WORK/chatvault"; CV="$WORK/chatvault"       # snapshots: a rebuild during the run
cp "$SC" "$WORK/search_cost"; SC="$WORK/search_cost"   # changes nothing
GENVER=$(sed -n 's/^GEN_VERSION = //p' "$BENCH/search_data.py")
# what makes a cached index stale: the tokenizer, the search sections of schema.sql (6, 12, and
# 14 on) and the writer's idle merging (db.c's DB_MERGE_*) (other schema changes are migrated by
# the server at start, on the scratch copy)
HASH=$( { sed -n '/^-- version: 6/,/^-- version: 7/p;/^-- version: 12/,/^-- version: 13/p;/^-- version: 14/,$p' "$ROOT/schema.sql"; cat "$ROOT/src/store_fts.c"; grep '^#define DB_MERGE_' "$ROOT/src/db.c"; } | md5sum | cut -c1-10)
KEY="g$GENVER-u${U_THREADS}x${MSGS}-o${OTHERS}x${OTHER_THREADS}-c$CJK_THREADS-p$PAGE_THREADS-$HASH"
CDIR="$CACHE/$KEY"
declare -A CVPID CVURL
log() { echo "search: $*" >&2; }
note() { echo "note $*" | tee -a "$RUNS" >&2; }
fig() { echo "fig $*" | tee -a "$RUNS" >&2; }
load_note() { note "load before $1: $(uptime | sed 's/.*load average/load average/')"; }

stop_cv() {
  local pid=${CVPID[$1]:-} i
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  wait "$pid" 2>/dev/null || true
  unset "CVPID[$1]"
}
cleanup() {
  local n
  set +e
  for n in "${!CVPID[@]}"; do stop_cv "$n"; done
  if [ "${KEEP:-0}" = 1 ]; then log "scratch kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_cv NAME DB [serve flags...]: chatvault on 127.0.0.1, a free port, size caps lifted
start_cv() {
  local name=$1 db=$2 pid i; shift 2
  "$CV" serve --db "$db" --listen 127.0.0.1:0 --access-log off "${SERVE_CAPS[@]}" "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  pid=$!
  CVPID[$name]=$pid
  for i in $(seq 600); do
    grep -q '^listening on ' "$WORK/$name.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name.err" >&2; log "chatvault $name died"; exit 1; }
    sleep 0.05
  done
  CVURL[$name]=$(sed -n 's/^listening on //p' "$WORK/$name.out")
  [ -n "${CVURL[$name]}" ] || { log "chatvault $name did not start"; exit 1; }
  log "chatvault $name: ${CVURL[$name]} (pid $pid) on $db"
}

# measure ROUND LABEL CONNS LUA URL [env...]: one wrk run (wrk1.sh) -> one line of runs.txt
measure() {
  local round=$1 label=$2 conns=$3 lua=$4 url=$5 line la t0 t1; shift 5
  la=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(date +%s.%N)
  line=$(env "$@" "$BENCH/wrk1.sh" "${label##*/}" "$conns" "$lua" "$url" 2>>"$WORK/errors.log") \
    || line="${label##*/} FAILED"
  t1=$(date +%s.%N)
  echo "round=$round label=$label conns=$conns load1=$la t0=$t0 t1=$t1 :: $line" | tee -a "$RUNS"
}

# fill_db NAME CMD [ARGS...]: $CDIR/NAME.db (+ NAME.json) from search_data.py CMD through a
# chatvault of its own, unless cached (REFILL=1: again)
fill_db() {
  local name=$1 cmd=$2 t0 t1 out; shift 2
  if [ "$REFILL" != 1 ] && [ -f "$CDIR/$name.db" ] && [ -f "$CDIR/$name.json" ]; then
    fig "fill_$name cached=1 $(SD fillfig "$CDIR/$name.json")"
    return 0
  fi
  mkdir -p "$CDIR"
  rm -f "$CDIR/$name".db* "$CDIR/$name.json"
  load_note "fill_$name"
  rm -f "$WORK/fill-$name".db*
  start_cv "fill-$name" "$WORK/fill-$name.db"
  t0=$(date +%s.%N)
  out=$("$PY" "$BENCH/search_data.py" "$cmd" "${CVURL[fill-$name]}" "$WORK/fill-$name.json" "$@")
  t1=$(date +%s.%N)
  wait_merged "$WORK/fill-$name.db"
  stop_cv "fill-$name"
  note "$out"
  fig "fill_$name cached=0 $(SD fillfig "$WORK/fill-$name.json") file_bytes=$(stat -c %s "$WORK/fill-$name.db") idle_merge_secs=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')"
  mv "$WORK/fill-$name.db" "$CDIR/$name.db"
  [ -f "$WORK/fill-$name.db-wal" ] && mv "$WORK/fill-$name.db-wal" "$CDIR/$name.db-wal"
  rm -f "$WORK/fill-$name.db-shm"
  mv "$WORK/fill-$name.json" "$CDIR/$name.json"
}
# wait_merged DB: until the serving chatvault's idle merging of the search index is done (its
# FTS5 structure record unchanged for 3 s: the writer merges after 0.2 s without a write), so
# the cache holds the index as a file at rest has it
wait_merged() {
  local last="" same=0 cur i
  for i in $(seq 600); do
    cur=$(stat_line "$1" "SELECT hex(block) FROM search_index_data WHERE id=10")
    if [ "$cur" = "$last" ]; then same=$((same+1)); [ "$same" -ge 3 ] && return 0; else same=0; fi
    last=$cur
    sleep 1
  done
  log "WARNING: $1: the index was still merging after 600 s"
}
# use_db NAME: a scratch copy of the cached database (the cache stays as filled)
use_db() {
  cp "$CDIR/$1.db" "$WORK/$1.db"
  [ -f "$CDIR/$1.db-wal" ] && cp "$CDIR/$1.db-wal" "$WORK/$1.db-wal"
  return 0
}
SD() { "$PY" "$BENCH/search_data.py" "$@"; }
login() { SD login "$1" "$2"; }
stat_line() { "$PY" "$BENCH/fill.py" sql "$1" "$2"; }

log "results: $RES   scratch: $WORK   cache: $CDIR"
# other keys' cached databases (an older generator or schema) are dropped
if [ -d "$CACHE" ]; then
  for d in "$CACHE"/*/; do [ "${d%/}" = "$CDIR" ] || { [ -d "$d" ] && log "dropping stale cache $d" && rm -rf "$d"; }; done
fi
{
  echo "# chatvault search bench $STAMP"
  echo "# host: $(nproc) cores, $(uname -r); chatvault $("$CV" version 2>/dev/null | head -1); git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+dirty')"
  echo "# DURATION=$DURATION ROUNDS=$ROUNDS WARMUP=$WARMUP THREADS=$THREADS JOBS=$JOBS COST_SECS=$COST_SECS cache=$KEY"
} >>"$RUNS"

if [ "${FILL_ONLY:-0}" = 1 ]; then   # fill the cache (while the machine is busy), measure nothing
  fill_db main main "$U_THREADS" "$OTHERS" "$OTHER_THREADS" "$MSGS"
  fill_db cjk cjk "$CJK_THREADS" 100
  fill_db pages pages "$PAGE_THREADS"
  log "cache filled: $CDIR"
  exit 0
fi

# --- 1-3: search at 1,000,000 messages, and the LIKE scan beside it
if [ "$SEARCH" = 1 ] || [ "$COST" = 1 ] || [ "$SIZE" = 1 ]; then
  fill_db main main "$U_THREADS" "$OTHERS" "$OTHER_THREADS" "$MSGS"
  use_db main
  UEMAIL=$(SD get "$CDIR/main.json" u)
  UID_=$("$SC" user-id "$WORK/main.db" "$UEMAIL")
  note "main database: $(du -m "$WORK/main.db" | cut -f1) MiB; U = user $UID_ ($UEMAIL)"
fi
if [ "$SEARCH" = 1 ]; then
  load_note search
  start_cv search "$WORK/main.db"
  SU="${CVURL[search]}"
  TOK=$(login "$SU" "$CDIR/main.json")
  chk=$(curl -sf -H "Authorization: Bearer $TOK" "$SU/api/v1/search?q=$RARE&limit=20" | SD searchcheck)
  fig "search_check $chk expected_total=20"
  [ "$chk" = "total=20 items=20" ] || log "WARNING: search check failed: $chk"
  for round in $(seq "$ROUNDS"); do
    # the HTTP ceiling of this moment (the machine is shared), then the search
    measure "$round" search/healthz 16 "$PB/lua/hello.lua" "$SU/healthz"
    measure "$round" search/http 16 "$PB/lua/get.lua" "$SU/api/v1/search?q=$RARE&limit=20" TOKEN="$TOK"
  done
  # a common word (many hits: the ranking of every hit) for reference, one round
  measure 1 search/http_common_word 16 "$PB/lua/get.lua" "$SU/api/v1/search?q=people&limit=20" TOKEN="$TOK"
  stop_cv search
fi
if [ "$COST" = 1 ]; then
  load_note cost
  "$SC" query "$WORK/main.db" "$UID_" "$RARE" "$COST_SECS" | while read -r l; do fig "cost_$l"; done
  # the common word of the HTTP reference run, FTS query only (1 s; no LIKE): what ranking costs
  "$SC" query "$WORK/main.db" "$UID_" people 1 fts | while read -r l; do fig "cost_common_$l"; done
fi

# --- 4: index size, English-like (U's database) and CJK
if [ "$SIZE" = 1 ]; then
  load_note size
  "$SC" size "$WORK/main.db" | while read -r l; do fig "main_$l"; done
  # the same index after FTS5's optimize (one segment: what it is at rest after merging)
  "$SC" optimize "$WORK/main.db" | while read -r l; do fig "main_$l"; done
  "$SC" size "$WORK/main.db" | while read -r l; do fig "main_optimized_$l"; done
  if [ "${SIZE_VARIANTS:-0}" = 1 ]; then
    "$SC" size-variants "$WORK/main.db" "$UID_" 100000 | while read -r l; do fig "variant_$l"; done
  fi
  rm -f "$WORK/main.db"*
  fill_db cjk cjk "$CJK_THREADS" 100
  use_db cjk
  "$SC" size "$WORK/cjk.db" | while read -r l; do fig "cjk_$l"; done
  rm -f "$WORK/cjk.db"*
fi
rm -f "$WORK/main.db"*

# --- 5: append with and without the index (one template, copied twice)
if [ "$APPEND" = 1 ]; then
  load_note append
  start_cv fill-append "$WORK/append.db"
  note "$("$PY" "$BENCH/search_data.py" appendset "${CVURL[fill-append]}" "$WORK/append.json" 1000 20)"
  wait_merged "$WORK/append.db"
  stop_cv fill-append
  [ -f "$WORK/append.db-wal" ] && { log "append template: WAL left after shutdown"; }
  cp "$WORK/append.db" "$WORK/with.db"; cp "$WORK/append.db" "$WORK/without.db"
  for f in append.db-wal; do [ -f "$WORK/$f" ] && cp "$WORK/$f" "$WORK/with.db-wal" && cp "$WORK/$f" "$WORK/without.db-wal"; done
  fig "append_drop $("$SC" drop-triggers "$WORK/without.db")"
  start_cv with "$WORK/with.db"; start_cv without "$WORK/without.db"
  TW=$(login "${CVURL[with]}" "$WORK/append.json"); TN=$(login "${CVURL[without]}" "$WORK/append.json")
  IDS=$(SD get "$WORK/append.json" ids)
  HOT=$(SD get "$WORK/append.json" hot)
  d0w=$(stat_line "$WORK/with.db" "SELECT count(*) FROM search_index_data")
  d0n=$(stat_line "$WORK/without.db" "SELECT count(*) FROM search_index_data")
  for round in $(seq "$ROUNDS"); do
    for pat in hot spread; do
      ids=$IDS; [ "$pat" = hot ] && ids=$HOT
      measure "$round" "append/with_$pat" 64 "$BENCH/lua/append_random.lua" "${CVURL[with]}" TOKEN="$TW" THREAD_IDS="$ids"
      measure "$round" "append/without_$pat" 64 "$BENCH/lua/append_random.lua" "${CVURL[without]}" TOKEN="$TN" THREAD_IDS="$ids"
    done
  done
  stop_cv with; stop_cv without
  fig "append_indexed with_index_rows_before=$d0w with_index_rows_after=$(stat_line "$WORK/with.db" "SELECT count(*) FROM search_index_data") without_index_rows_before=$d0n without_index_rows_after=$(stat_line "$WORK/without.db" "SELECT count(*) FROM search_index_data") hot_messages_with=$(stat_line "$WORK/with.db" "SELECT message_count FROM chat_threads WHERE id=$HOT") hot_messages_without=$(stat_line "$WORK/without.db" "SELECT message_count FROM chat_threads WHERE id=$HOT")"
  rm -f "$WORK"/with.db* "$WORK"/without.db* "$WORK"/append.db*
fi

# --- 6: deep pages, keyset cursor vs offset
if [ "$PAGES" = 1 ]; then
  fill_db pages pages "$PAGE_THREADS"
  use_db pages
  load_note pages
  start_cv pages "$WORK/pages.db"
  PU="${CVURL[pages]}"
  TP=$(login "$PU" "$CDIR/pages.json")
  t0=$(date +%s.%N)
  CUR=$("$PY" "$BENCH/search_data.py" walk "$PU" "$TP" "$PAGE" 20)
  fig "pages_walk pages=$((PAGE - 1)) secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') cursor_len=${#CUR}"
  OFF=$(( (PAGE - 1) * 20 )); [ "$OFF" -gt $((PAGE_THREADS - 20)) ] && OFF=$((PAGE_THREADS - 20))
  n1=$(curl -sf -H "Authorization: Bearer $TP" "$PU/api/v1/chat-threads?limit=20&cursor=$CUR" | SD listcheck)
  n2=$(curl -sf -H "Authorization: Bearer $TP" "$PU/api/v1/chat-threads?limit=20&offset=$OFF" | SD listcheck)
  CUR2=$(SD walk "$PU" "$TP" 2 20 2>/dev/null)    # page 2: a cursor one page deep (the cursor's own cost)
  fig "pages_check cursor_rows_first_last=$n1 offset_${OFF}_rows_first_last=$n2"
  for round in $(seq "$ROUNDS"); do
    measure "$round" pages/page1 16 "$PB/lua/get.lua" "$PU/api/v1/chat-threads?limit=20" TOKEN="$TP"
    measure "$round" pages/cursor_page2 16 "$PB/lua/get.lua" "$PU/api/v1/chat-threads?limit=20&cursor=$CUR2" TOKEN="$TP"
    measure "$round" "pages/page$PAGE" 16 "$PB/lua/get.lua" "$PU/api/v1/chat-threads?limit=20&cursor=$CUR" TOKEN="$TP"
    measure "$round" "pages/offset$OFF" 16 "$PB/lua/get.lua" "$PU/api/v1/chat-threads?limit=20&offset=$OFF" TOKEN="$TP"
  done
  stop_cv pages
  rm -f "$WORK/pages.db"*
fi

"$PY" "$BENCH/search_summary.py" "$RUNS" >"$RES/summary.md"
cat "$RES/summary.md"
log "results: $RES"
