#!/bin/bash
# vendor/sqlite3-amalgamation.sh — generate SQLite's amalgamation (sqlite3.c, sqlite3.h) from
# the full source tree that vendor/fetch.sh unpacked in vendor/src/sqlite3 (Debian's patches
# applied, CVE fixes included), the way upstream and Debian make it: configure, then
# `make sqlite3.c` (builds lemon and mkkeywordhash with the host compiler, runs the tclsh
# scripts under tool/). Needs gcc, make and tclsh (Debian package tcl, in tools/deps.sh).
#
# Output: vendor/src/sqlite3-amalgamation/{sqlite3.c,sqlite3.h,.stamp} (git-ignored, under
# vendor/src so a new fetch removes it). The Makefile runs this only when vendor/src/.stamp or
# this script is newer than the output's .stamp, so it costs ~40 s once per fetch.
# Reproducible: no #line directives (--linemacros=0, Debian's choice), no build paths or
# times in the output; .stamp records the sha256 of both files (vendor/README.md has them).
# Compile options are not chosen here but where sqlite3.c is compiled (Makefile SQ_DEFS).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$HERE/src/sqlite3"; OUT="$HERE/src/sqlite3-amalgamation"
[ -f "$SRC/configure" ] || { echo "vendor/sqlite3-amalgamation.sh: run vendor/fetch.sh first" >&2; exit 1; }
command -v tclsh >/dev/null || { echo "vendor/sqlite3-amalgamation.sh: tclsh missing (apt-get install tcl)" >&2; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT/bld"
log="$OUT/build.log"
if ! ( cd "$OUT/bld" &&
       "$SRC/configure" --disable-tcl --disable-readline --disable-shared --disable-amalgamation &&
       make sqlite3.c ) >"$log" 2>&1; then
  tail -20 "$log" >&2
  echo "vendor/sqlite3-amalgamation.sh: failed (whole log: $log)" >&2
  exit 1
fi
cp "$OUT/bld/sqlite3.c" "$OUT/bld/sqlite3.h" "$OUT/"
rm -rf "$OUT/bld"
(cd "$OUT" && sha256sum sqlite3.c sqlite3.h) >"$OUT/.stamp"
echo "vendor: sqlite3.c and sqlite3.h generated in vendor/src/sqlite3-amalgamation" >&2
