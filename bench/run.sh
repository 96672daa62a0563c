#!/bin/bash
# bench/run.sh — chatvault against the stack it replaces, in one session, interleaved.
# `make bench` builds build/chatvault first and runs this; it builds nothing itself.
#
#   bench/run.sh                         defaults: DURATION=10 ROUNDS=2 CONNS=64
#   DURATION=3 ROUNDS=1 bench/run.sh     a quick trial
#
# Each round, interleaved (A B A B), 64 connections unless CONNS says otherwise:
#   chatvault GET /healthz (the HTTP ceiling of this run) and the bare civetweb hello server,
#   then for each scenario a..e of ../shared/peer-bench/load.sh (get one thread of 20
#   messages, list 20 of 1,000 threads, create, append to one hot thread with the lost-write
#   check, 1-connection get): chatvault, then the peer (FastAPI + SQLAlchemy + PostgreSQL);
#   the peer's `PEER_APPEND=forupdate` append; in round 1 also chatvault --sync normal for
#   create and append (what FULL costs); the character-chat scenarios when POST /api/chat
#   exists (POST /api/chat with the offline responder: new chat each time / one chat;
#   GET /api/users/me with 30 chats of 20 messages); healthz again.
# Then once: cost growth (list with 10 / 1,000 / 100,000 threads and 1,000 threads of 400
# messages, append on threads of 20 and 2,000 messages) on its own chatvault, and
# `chatvault import-legacy` of 100,000 chats.
#
# Output: bench/results/<stamp>/runs.txt (every run, one line each), mon.log (CPU of other
# processes each second, peer PSS), summary.md (also printed). Ratios in the summary come
# from runs of this session only.
#
# Env: DURATION=10 ROUNDS=2 CONNS=64 THREADS=2 (wrk threads) WARMUP=2 (s, per scenario)
#      PEER=1 (0: skip the peer)  LIMIT=1  CHARS=1  GROWTH=1  IMPORT=1  (0 skips a part)
#      PEER_PORT=8001 LIMIT_PORT=8002 PGBASE=/tmp/chatvault-bench-pg PGPORT=5435
#      GROWTH_MAX=100000 (largest list size)  IMPORT_USERS=1000 IMPORT_CHATS=100
#      GATE_MAX=0  when >0, before each run wait up to GATE_MAX s for other processes to use
#                  < QUIET_PCT (10) % of the machine; other_pct is recorded either way
#      KEEP=1      keep the scratch directory (databases, logs)
#      CV_FLAGS="--threads 128"  extra serve flags for every chatvault instance
#      CHATVAULT=build/chatvault  PEER_BENCH=../shared/peer-bench
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/bench"
PB="$(cd "${PEER_BENCH:-$ROOT/../shared/peer-bench}" && pwd)"
CV="${CHATVAULT:-$ROOT/build/chatvault}"
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
export DURATION="${DURATION:-10}" CONNS="${CONNS:-64}" THREADS="${THREADS:-2}" WARMUP="${WARMUP:-2}"
ROUNDS="${ROUNDS:-2}"
PEER="${PEER:-1}" LIMIT="${LIMIT:-1}" CHARS="${CHARS:-1}" GROWTH="${GROWTH:-1}" IMPORT="${IMPORT:-1}"
PEER_PORT="${PEER_PORT:-8001}" LIMIT_PORT="${LIMIT_PORT:-8002}"
export PGBASE="${PGBASE:-/tmp/chatvault-bench-pg}" PGPORT="${PGPORT:-5435}"
GROWTH_MAX="${GROWTH_MAX:-100000}"
IMPORT_USERS="${IMPORT_USERS:-1000}" IMPORT_CHATS="${IMPORT_CHATS:-100}"
GATE_MAX="${GATE_MAX:-0}" QUIET_PCT="${QUIET_PCT:-10}"
export LUA_DIR="$PB/lua"          # peer-bench's lua (common.lua, get.lua, ...); ours dofile it

[ -x "$CV" ] || { echo "bench: $CV not built (run make bench)" >&2; exit 1; }
command -v wrk >/dev/null || {
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk; }

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RES="$BENCH/results/$STAMP"; mkdir -p "$RES"
RUNS="$RES/runs.txt"; MON="$RES/mon.log"; : >"$RUNS"
WORK="$(mktemp -d /tmp/chatvault-bench.XXXXXX)"
cp "$CV" "$WORK/chatvault"; CV="$WORK/chatvault"   # a snapshot: a rebuild during the run changes nothing
PEER_URL="http://127.0.0.1:$PEER_PORT"; HELLO_URL="http://127.0.0.1:$LIMIT_PORT/hello"
PEER_PIDFILE="/tmp/bench-peer-$PEER_PORT.pid"; LIMIT_PIDFILE="/tmp/bench-limit-$LIMIT_PORT.pid"
declare -A CVPID CVURL
MONPID=""; STARTED_PEER=0; STARTED_LIMIT=0
log() { echo "bench: $*" >&2; }
note() { echo "note $*" | tee -a "$RUNS" >&2; }

cleanup() {
  local n
  set +e
  [ -n "$MONPID" ] && kill "$MONPID" 2>/dev/null
  for n in "${!CVPID[@]}"; do stop_cv "$n"; done
  [ "$STARTED_PEER" = 1 ] && PORT=$PEER_PORT "$PB/peer/stop.sh" >&2
  [ "$STARTED_LIMIT" = 1 ] && PORT=$LIMIT_PORT "$PB/limit/stop.sh" >&2
  if [ "${KEEP:-0}" = 1 ]; then log "scratch kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- chatvault instances: start_cv NAME DB [serve flags...]  (pid in $WORK/NAME.pid)
start_cv() {
  local name=$1 db=$2 pid i; shift 2
  # the hot-thread append puts ~150,000 messages (~30 MB) into one thread per round, past the
  # default caps of 100,000 messages and 64 MiB per conversation after a round or two (the
  # rest would be fast 413s): the bench lifts the size caps
  "$CV" serve --db "$db" --listen 127.0.0.1:0 --access-log off \
    --max-conversation-messages 100000000 --max-conversation-bytes 1099511627776 \
    --max-user-bytes 1099511627776 ${CV_FLAGS:-} "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  pid=$!
  echo "$pid" >"$WORK/$name.pid"
  CVPID[$name]=$pid
  for i in $(seq 200); do
    grep -q '^listening on ' "$WORK/$name.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name.err" >&2; log "chatvault $name died"; exit 1; }
    sleep 0.05
  done
  CVURL[$name]=$(sed -n 's/^listening on //p' "$WORK/$name.out")
  [ -n "${CVURL[$name]}" ] || { log "chatvault $name did not start"; exit 1; }
  log "chatvault $name: ${CVURL[$name]} (pid $pid) $*"
}
stop_cv() {
  local pid=${CVPID[$1]:-} i
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  wait "$pid" 2>/dev/null || true
  unset "CVPID[$1]"
}

# --- the other processes' share of the machine, from procmon's mon.log
other_avg() {
  awk -v a="$1" -v b="$2" '$1>=a && $1<=b {s+=$3; n++} END {printf "%.1f", n ? s/n : 0}' "$MON"
}
gate() {
  [ "$GATE_MAX" -gt 0 ] || return 0
  local t0 now o; t0=$(date +%s)
  while :; do
    sleep 3; now=$(date +%s.%N)
    o=$(other_avg "$(awk -v n="$now" 'BEGIN{printf "%.1f", n - 3.5}')" "$now")
    awk -v o="$o" -v q="$QUIET_PCT" 'BEGIN{exit !(o < q)}' && return 0
    [ $(( $(date +%s) - t0 )) -ge "$GATE_MAX" ] && { log "gate: still busy (other=$o%), running anyway"; return 0; }
  done
}

# measure LABEL RSS_GROUPS CMD...   one measured run -> one line of runs.txt
#   LABEL = server/scenario; RSS_GROUPS = "name=pid_or_pidfile ..." for rssmax.py (VmRSS peak)
measure() {
  local label=$1 groups=$2 line t0 t1 o mem pss rpid; shift 2
  gate
  rm -f "$WORK/rss.out"
  # shellcheck disable=SC2086
  "$PY" "$BENCH/rssmax.py" "$WORK/rss.out" $groups & rpid=$!
  t0=$(date +%s.%N)
  line=$("$@" 2>>"$WORK/errors.log") || line="${label#*/} FAILED"
  t1=$(date +%s.%N)
  kill -TERM "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null || true
  mem=$(cat "$WORK/rss.out" 2>/dev/null || true)
  o=$(other_avg "$t0" "$t1")
  pss=""
  case $label in peer*)   # PSS of the peer (shared pages counted once) from procmon
    pss=$(awk -v a="$t0" -v b="$t1" '$1>=a && $1<=b { s=0; for (i=4;i<=NF;i++) { split($i,f,":"); if (f[1]=="app"||f[1]=="pg") s+=f[3] } if (s>m) m=s }
              END { if (m) printf " peer_pss_kb=%d", m }' "$MON") ;;
  esac
  [ -z "$line" ] && line="${label#*/} FAILED"
  echo "round=$round label=$label other_pct=$o t0=$t0 t1=$t1 :: $line :: $mem$pss" | tee -a "$RUNS"
}

load() {  # load.sh against chatvault instance $1, scenario $2
  env SCENARIOS="$2" STATE="$WORK/state-$1.json" "$PB/load.sh" "${CVURL[$1]}" "$DURATION"
}
peer_load() { env SCENARIOS="$1" STATE="$WORK/state-peer.json" "$PB/load.sh" "$PEER_URL" "$DURATION"; }
peer_mode() {  # restart the peer app (not postgres) with PEER_APPEND=$1
  PORT=$PEER_PORT "$PB/peer/stop.sh" --app >/dev/null
  PORT=$PEER_PORT PEER_APPEND=$1 "$PB/peer/start.sh" >&2
}

log "results: $RES   scratch: $WORK"
{
  echo "# chatvault bench $STAMP"
  echo "# host: $(nproc) cores, $(uname -r); chatvault $("$CV" version 2>/dev/null | head -1); git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+dirty')"
  echo "# DURATION=$DURATION ROUNDS=$ROUNDS CONNS=$CONNS THREADS=$THREADS WARMUP=$WARMUP"
} >>"$RUNS"

# --- servers: the peer (fresh database), the limit server, chatvault (fresh databases)
if [ "$PEER" = 1 ]; then
  if [ -f "$PEER_PIDFILE" ] && kill -0 "$(cat "$PEER_PIDFILE")" 2>/dev/null; then
    log "a peer already runs on port $PEER_PORT (pid $(cat "$PEER_PIDFILE")), not ours: set PEER_PORT"; exit 1
  fi
  if curl -s -o /dev/null "$PEER_URL/"; then log "port $PEER_PORT is in use: set PEER_PORT"; exit 1; fi
  STARTED_PEER=1
  RESET=1 PORT=$PEER_PORT PEER_APPEND=rmw "$PB/peer/start.sh" >&2
fi
if [ "$LIMIT" = 1 ]; then
  if [ -f "$LIMIT_PIDFILE" ] && kill -0 "$(cat "$LIMIT_PIDFILE")" 2>/dev/null; then
    log "a limit server already runs on port $LIMIT_PORT, not ours: set LIMIT_PORT"; exit 1
  fi
  STARTED_LIMIT=1
  PORT=$LIMIT_PORT "$PB/limit/start.sh" >&2
fi
start_cv main "$WORK/main.db"
start_cv normal "$WORK/normal.db" --sync normal
MINE_ROOT=$$ "$PY" "$PB/procmon.py" "$MON" app="$PEER_PIDFILE" pg="$PGBASE/data/postmaster.pid" \
  limit="$LIMIT_PIDFILE" cv="$WORK/main.pid" &
MONPID=$!

# data set up before any measurement (load.sh reuses it while it still works)
"$PY" "$PB/setup.py" init "${CVURL[main]}" "$WORK/state-main.json"
"$PY" "$PB/setup.py" init "${CVURL[normal]}" "$WORK/state-normal.json"
if [ "$PEER" = 1 ]; then "$PY" "$PB/setup.py" init "$PEER_URL" "$WORK/state-peer.json"; fi

HAS_CHAT=0
if [ "$CHARS" = 1 ]; then
  if "$PY" "$BENCH/fill.py" has-chat "${CVURL[main]}"; then
    HAS_CHAT=1
    CTOK=$("$PY" "$BENCH/fill.py" account "${CVURL[main]}" chars)
    CHAR_ID=$("$PY" "$BENCH/fill.py" character "${CVURL[main]}" "$CTOK")
    # a user with 30 chats of 20 messages (~200 chars each), through the legacy importer
    "$PY" "$BENCH/fill.py" legacy "$WORK/me.jsonl" 1 30 20 200 "me-$STAMP"
    "$CV" import-legacy "$WORK/me.jsonl" --db "$WORK/main.db" >"$WORK/me-import.log" 2>&1 \
      || { cat "$WORK/me-import.log" >&2; log "import-legacy for users/me failed"; exit 1; }
    METOK=$("$CV" token "me-$STAMP-0@bench.test" --db "$WORK/main.db")
    # CHAT_USERS users (no chats yet) for the new-chat scenario: retention keeps 30 chats
    # per user, so one user creating chats on 64 connections would evict its own new chats
    "$PY" "$BENCH/fill.py" legacy "$WORK/chatusers.jsonl" "${CHAT_USERS:-64}" 0 0 0 "chatuser-$STAMP"
    "$CV" import-legacy "$WORK/chatusers.jsonl" --db "$WORK/main.db" >>"$WORK/me-import.log" 2>&1
    CTOKS=$(for i in $(seq 0 $(( ${CHAT_USERS:-64} - 1 ))); do "$CV" token "chatuser-$STAMP-$i@bench.test" --db "$WORK/main.db"; done | paste -sd,)
  else
    note "character chats: POST /api/chat answers 404/405 on this build: scenarios f,g skipped"
  fi
fi
sleep 2   # procmon's first samples

CVG="cv=$WORK/main.pid"
PEERG="peer=$PEER_PIDFILE"   # uvicorn supervisor + workers; postgres below
PGG="pg=$PGBASE/data/postmaster.pid"
for round in $(seq "$ROUNDS"); do
  log "round $round of $ROUNDS"
  measure chatvault/healthz "$CVG" "$PB/load.sh" --hello "${CVURL[main]}/healthz" "$DURATION"
  if [ "$LIMIT" = 1 ]; then
    measure limit/hello "limit=$LIMIT_PIDFILE" "$PB/load.sh" --hello "$HELLO_URL" "$DURATION"
  fi
  for s in a b c d e; do
    measure "chatvault/$s" "$CVG" load main "$s"
    if [ "$round" = 1 ] && { [ "$s" = c ] || [ "$s" = d ]; }; then
      measure "chatvault-normal/$s" "cv=$WORK/normal.pid" load normal "$s"
    fi
    if [ "$PEER" = 1 ]; then measure "peer/$s" "$PEERG $PGG" peer_load "$s"; fi
  done
  if [ "$PEER" = 1 ]; then
    peer_mode forupdate
    measure "peer-forupdate/d" "$PEERG $PGG" peer_load d
    peer_mode rmw
  fi
  if [ "$HAS_CHAT" = 1 ]; then
    chat_id=$("$PY" "$BENCH/fill.py" chat "${CVURL[main]}" "$CTOK" "$CHAR_ID")
    measure chatvault/f_chat_new "$CVG" env TOKEN="$CTOK" TOKENS="$CTOKS" CHARACTER_ID="$CHAR_ID" CHAT_ID= \
      "$BENCH/wrk1.sh" f_chat_new "$CONNS" "$BENCH/lua/chat.lua" "${CVURL[main]}/api/chat"
    measure chatvault/f_chat_one "$CVG" env TOKEN="$CTOK" CHARACTER_ID="$CHAR_ID" CHAT_ID="$chat_id" \
      "$BENCH/wrk1.sh" f_chat_one "$CONNS" "$BENCH/lua/chat.lua" "${CVURL[main]}/api/chat"
    note "round $round f_chat_one: the one chat holds $("$PY" "$BENCH/fill.py" sql "$WORK/main.db" "SELECT c.message_count || ' messages, ' || (SELECT sum(length(CAST(s.messages AS BLOB))) FROM segments s WHERE s.conv_id=c.id) || ' bytes in ' || (SELECT count(*) FROM segments s WHERE s.conv_id=c.id) || ' segments' FROM chat_histories c WHERE c.chat_id='$chat_id'" 2>/dev/null || echo '?') after the run (warm-up included)"
    measure chatvault/g_users_me "$CVG" env TOKEN="$METOK" \
      "$BENCH/wrk1.sh" g_users_me "$CONNS" "$PB/lua/get.lua" "${CVURL[main]}/api/users/me"
  fi
  measure chatvault/healthz "$CVG" "$PB/load.sh" --hello "${CVURL[main]}/healthz" "$DURATION"
done

# --- cost growth, on a chatvault of its own (not interleaved with the peer)
if [ "$GROWTH" = 1 ]; then
  round=growth
  start_cv growth "$WORK/growth.db" --max-body 33554432
  export MAX_BODY=33554432      # fill.py: a 20,000-message thread goes in one import request
  GU="${CVURL[growth]}"; GG="cv=$WORK/growth.pid"
  for n in 10 1000 "$GROWTH_MAX"; do
    tok=$("$PY" "$BENCH/fill.py" account "$GU" "list$n")
    t0=$(date +%s.%N)
    "$PY" "$BENCH/fill.py" threads "$GU" "$tok" "$n" 2 100 1000 >/dev/null
    note "fill list_$n: $n threads (2 messages of 100 chars) via import in batches of 1000:" \
         "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f s", b-a}')"
    measure "growth/list_$n" "$GG" env TOKEN="$tok" \
      "$BENCH/wrk1.sh" "list_$n" "$CONNS" "$PB/lua/get.lua" "$GU/api/v1/chat-threads?limit=20"
    if [ "$n" = "$GROWTH_MAX" ]; then
      measure "growth/list_${n}_offset_$((n / 2))" "$GG" env TOKEN="$tok" \
        "$BENCH/wrk1.sh" "list_${n}_offset_$((n / 2))" "$CONNS" "$PB/lua/get.lua" "$GU/api/v1/chat-threads?limit=20&offset=$((n / 2))"
    fi
  done
  # list of big threads: 1,000 threads of 400 messages (~100 KB each, mostly in overflow pages)
  tok=$("$PY" "$BENCH/fill.py" account "$GU" "listbig")
  "$PY" "$BENCH/fill.py" threads "$GU" "$tok" 1000 400 230 8 >/dev/null
  measure "growth/list_1000_of_400_msgs" "$GG" env TOKEN="$tok" \
    "$BENCH/wrk1.sh" "list_1000_of_400_msgs" "$CONNS" "$PB/lua/get.lua" "$GU/api/v1/chat-threads?limit=20"
  # append rate by thread size: appends spread over K threads so each stays near its size
  for spec in 20:1000:200 2000:64:2 20000:16:1; do
    IFS=: read -r msgs k batch <<<"$spec"
    tok=$("$PY" "$BENCH/fill.py" account "$GU" "append$msgs")
    ids=$("$PY" "$BENCH/fill.py" threads "$GU" "$tok" "$k" "$msgs" 200 "$batch")
    measure "growth/append_$msgs" "$GG" env TOKEN="$tok" THREAD_IDS="$ids" \
      "$BENCH/wrk1.sh" "append_$msgs" "$CONNS" "$BENCH/lua/append_many.lua" "$GU"
    note "append_$msgs: spread over $k threads of $msgs messages; sizes after the run:" \
         "$("$PY" "$BENCH/fill.py" sizes "$GU" "$tok")"
  done
  note "growth database: $(du -h "$WORK/growth.db" | cut -f1) (+ WAL $(du -h "$WORK/growth.db-wal" 2>/dev/null | cut -f1))"
  stop_cv growth
fi

# --- one append through the store, no HTTP: WAL bytes and rate on threads of 20 and 20,000
if [ "$GROWTH" = 1 ] && [ -x "$ROOT/build/bench/append_cost" ]; then
  "$ROOT/build/bench/append_cost" "$WORK" 500 | while read -r l; do note "$l"; done
fi

# --- legacy import: IMPORT_USERS x IMPORT_CHATS chats into a fresh database
if [ "$IMPORT" = 1 ]; then
  total=$((IMPORT_USERS * IMPORT_CHATS))
  "$PY" "$BENCH/fill.py" legacy "$WORK/legacy.jsonl" "$IMPORT_USERS" "$IMPORT_CHATS" 4 150 legacy
  for pass in 1 2; do
    t0=$(date +%s.%N)
    out=$("$CV" import-legacy "$WORK/legacy.jsonl" --db "$WORK/legacy.db" 2>&1) || { echo "$out" >&2; log "import-legacy failed"; }
    t1=$(date +%s.%N)
    kept=$("$PY" "$BENCH/fill.py" sql "$WORK/legacy.db" 'SELECT count(*) FROM chat_histories' 2>/dev/null || echo '?')
    echo "import pass=$pass users=$IMPORT_USERS chats=$total secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')" \
         "chats_per_s=$(awk -v a="$t0" -v b="$t1" -v n="$total" 'BEGIN{printf "%.0f", n/(b-a)}')" \
         "kept_rows=$kept :: $(grep -i 'import-legacy:' <<<"$out" | tail -1)" | tee -a "$RUNS"
  done
fi

"$PY" "$BENCH/summarize.py" "$RUNS" >"$RES/summary.md"
cat "$RES/summary.md"
log "results: $RES"
