#!/bin/bash
# vendor/build-lib.sh — build one vendored library as a static archive with its own build
# system and flags, from the sources vendor/fetch.sh unpacked (Debian's patches applied):
#   vendor/build-lib.sh libuv  OUT   libuv 1.44.2 (vendor/src/libuv1): cmake, target uv_a,
#                                    out of tree in OUT/bld; gives OUT/libuv_a.a
#   vendor/build-lib.sh dqlite OUT   dqlite 1.18.7 with its raft (vendor/src/dqlite): autoreconf
#                                    in a copy (OUT/src), configure, `make libdqlite.la`; gives
#                                    OUT/libdqlite.a
# Run by the Makefile (OUT is build/vendor/libuv or build/vendor/dqlite), which rebuilds an
# archive only when vendor/src/.stamp, the amalgamation or this script is newer than it.
# Nothing is written under vendor/src. The log of each build is OUT/build.log.
#
# dqlite is compiled against our sqlite3.h (vendor/src/sqlite3-amalgamation) and libuv's
# headers from vendor/src/libuv1; SQLITE_CFLAGS/UV_CFLAGS given to configure override its
# pkg-config look-ups, so neither Debian's libsqlite3-dev nor libuv1-dev is used even when
# installed. No SQLite is compiled here: libdqlite.a's sqlite3_* references are resolved at
# link time by the binary's own sqlite3.o (SQ_DEFS), and its uv_* ones by libuv_a.a.
# Neither library is ever built with sanitizers: the ASan binary links these same archives.
# Needs cmake, autoconf, automake, libtool (tools/deps.sh).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
what="${1:?usage: vendor/build-lib.sh libuv|dqlite OUT}"; OUT="${2:?usage: vendor/build-lib.sh libuv|dqlite OUT}"
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
CC="${CC:-gcc}"

# The Makefile marks this recipe as recursive (+) so that the inner make joins its jobserver
# under `make -jN`; so `make -n` (-q, -t) runs it too, and it must only say what it would do.
# MAKEFLAGS' first word holds the one-letter flags, when there are any.
mflags="${MAKEFLAGS:-}"; first="${mflags%% *}"
case "$first" in -*|'') ;; *[nqt]*) echo "vendor/build-lib.sh $what $OUT"; exit 0 ;; esac
# Under a jobserver the inner make takes its job slots from it; under a plain `make`, which
# waits for this recipe anyway, it uses every core.
jobs=()
case " $mflags " in *" --jobserver-auth="*|*" --jobserver-fds="*) ;; *) jobs=(-j"$(nproc)") ;; esac

log="$OUT/build.log"
fail() { tail -30 "$log" >&2; echo "vendor/build-lib.sh $what: failed (whole log: $log)" >&2; exit 1; }
# step NAME CMD...: run CMD with its output in the log, note how long it took
times=""
step() {
  local name=$1 t=$SECONDS; shift
  echo "== $name: $*" >>"$log"
  "$@" >>"$log" 2>&1 || fail
  times="$times${times:+, }$name $((SECONDS - t)) s"
}
: >"$log"
case "$what" in
  libuv)
    SRC="$HERE/src/libuv1"
    [ -f "$SRC/CMakeLists.txt" ] || { echo "vendor/build-lib.sh: run vendor/fetch.sh first" >&2; exit 1; }
    command -v cmake >/dev/null || { echo "vendor/build-lib.sh: cmake missing (tools/deps.sh)" >&2; exit 1; }
    rm -rf "$OUT/bld" "$OUT/libuv_a.a"
    # the release objects' flags (REL_FLAGS but -std=c11: libuv picks its own dialect);
    # no build type, so no -DNDEBUG: libuv's assertions stay, as in Debian's libuv1
    step cmake  cmake -S "$SRC" -B "$OUT/bld" -DCMAKE_C_COMPILER="$CC" \
                  -DCMAKE_C_FLAGS="-O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2" \
                  -DBUILD_TESTING=OFF -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF
    step make   cmake --build "$OUT/bld" --target uv_a -- "${jobs[@]}"
    cp "$OUT/bld/libuv_a.a" "$OUT/libuv_a.a.tmp" && mv "$OUT/libuv_a.a.tmp" "$OUT/libuv_a.a"
    ;;
  dqlite)
    SRC="$HERE/src/dqlite"; SQ="$HERE/src/sqlite3-amalgamation"; UV="$HERE/src/libuv1"
    [ -f "$SRC/configure.ac" ] && [ -f "$UV/include/uv.h" ] ||
      { echo "vendor/build-lib.sh: run vendor/fetch.sh first" >&2; exit 1; }
    [ -f "$SQ/sqlite3.h" ] || { echo "vendor/build-lib.sh: run vendor/sqlite3-amalgamation.sh first" >&2; exit 1; }
    for tool in autoreconf automake libtoolize; do
      command -v "$tool" >/dev/null || { echo "vendor/build-lib.sh: $tool missing (tools/deps.sh)" >&2; exit 1; }
    done
    # what configure's pkg-config checks would have asked (they are overridden below)
    sqv=$(awk '$2=="SQLITE_VERSION_NUMBER" {print $3}' "$SQ/sqlite3.h")
    uvv=$(awk '$2=="UV_VERSION_MAJOR" {M=$3} $2=="UV_VERSION_MINOR" {m=$3} END {print M*1000+m}' "$UV/include/uv/version.h")
    [ "${sqv:-0}" -ge 3034000 ] && [ "${uvv:-0}" -ge 1034 ] ||
      { echo "vendor/build-lib.sh: dqlite needs SQLite >= 3.34 and libuv >= 1.34 (have $sqv, $uvv)" >&2; exit 1; }
    dqver=$(awk '$1=="dqlite" {print $2; exit}' "$HERE/versions")
    rm -rf "$OUT/src" "$OUT/libdqlite.a"
    # autoreconf writes into its tree: a copy, so vendor/src stays as fetched
    cp -a "$SRC" "$OUT/src"
    # SQLITE_LIBS/UV_LIBS only fill libdqlite.la's and dqlite.pc's dependency lists, which
    # nothing reads: a static archive links nothing. Paths to .a files here would make libtool
    # copy their members into libdqlite.a, hence plain -l names.
    # GIT_DIR: configure asks git for a build tag and would find chatvault's repository
    # (build/ is inside it); the tag is set to the Debian version instead (dqlite_version_string
    # reads "1.18.7@debian-1.18.7-1").
    cd "$OUT/src"
    step autoreconf autoreconf -i
    step configure  env GIT_DIR=/nonexistent ./configure --disable-shared --enable-static \
                      --without-lz4 --disable-backtrace CC="$CC" CFLAGS="-O2" CPPFLAGS="-D_FORTIFY_SOURCE=2" \
                      SQLITE_CFLAGS="-I$SQ" SQLITE_LIBS="-lsqlite3" UV_CFLAGS="-I$UV/include" UV_LIBS="-luv"
    step make       make "${jobs[@]}" libdqlite.la GIT_BUILD_TAG="debian-$dqver"
    # no second SQLite, no libuv inside the archive: those come from the binary's link line
    if nm --defined-only "$OUT/src/.libs/libdqlite.a" | grep -qE ' [TDBR] (sqlite3_|uv_)'; then
      echo "vendor/build-lib.sh: libdqlite.a defines sqlite3_*/uv_* symbols itself" >&2; exit 1
    fi
    # the archive moved out, the objects (copied into it) dropped: 30 MB each with dqlite's -g3;
    # the sources stay in OUT/src, where the debug information points
    mv "$OUT/src/.libs/libdqlite.a" "$OUT/libdqlite.a"
    find "$OUT/src" -name '*.o' -delete
    ;;
  *) echo "usage: vendor/build-lib.sh libuv|dqlite OUT" >&2; exit 2 ;;
esac
echo "vendor: $what built in $OUT ($times)" >&2
