#!/bin/bash
# tools/deps.sh — install the Debian packages the build needs, only when one is missing.
#   tools/deps.sh          build dependencies (compiler, static libraries, dpkg-dev, tcl for
#                          SQLite's amalgamation, autoconf/automake/libtool for dqlite and cmake
#                          for libuv)
#   tools/deps.sh test     plus what the tests need (python3, sqlite3 CLI, clang runtime for fuzzing,
#                          groff and mandoc for the man page, iproute2 for the cluster tests'
#                          network namespaces)
#   tools/deps.sh bench    plus wrk
set -euo pipefail
PKGS="gcc make libc6-dev libsodium-dev tcl libssl-dev dpkg-dev patch ca-certificates autoconf automake libtool cmake"
case "${1:-build}" in
  test)  PKGS="$PKGS python3 sqlite3 clang libclang-rt-14-dev valgrind procps groff-base mandoc iproute2" ;;
  bench) PKGS="$PKGS python3 wrk procps" ;;
esac
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
