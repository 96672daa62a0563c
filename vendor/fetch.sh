#!/bin/bash
# vendor/fetch.sh — fetch the pinned civetweb, cJSON, SQLite, dqlite and libuv sources with
# `apt-get source`, verify every file against vendor/versions, apply Debian's patches
# (dpkg-source -x; they carry cJSON's CVE fixes), then ours (vendor/patches/<package>-*.patch,
# each explained in its own file), and unpack into vendor/src/{civetweb,cjson,sqlite3,dqlite,
# libuv1} (git-ignored). SQLite's source is the full tree: vendor/sqlite3-amalgamation.sh (run by
# the Makefile) makes sqlite3.c; dqlite and libuv are built by vendor/build-lib.sh under build/.
#
# The system's apt configuration is never changed: a private sources list (deb-src lines
# derived from the machine's configured Debian mirrors, for bookworm, trixie and sid: SQLite 3.46
# is trixie's, dqlite 1.18.7 sid's) and a private lists/state directory
# live under vendor/.apt/. Idempotent: does nothing when vendor/src/.stamp matches versions.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$HERE/src"; APTDIR="$HERE/.apt"; DL="$HERE/.dl"
STAMP="$SRC/.stamp"
want="$(cat "$HERE/versions" "$HERE"/patches/*.patch 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] &&
   [ -f "$SRC/civetweb/src/civetweb.c" ] && [ -f "$SRC/cjson/cJSON.c" ] &&
   [ -f "$SRC/sqlite3/configure" ] && [ -f "$SRC/dqlite/include/dqlite.h" ] &&
   [ -f "$SRC/libuv1/CMakeLists.txt" ]; then
  exit 0
fi
for tool in apt-get dpkg-source sha256sum; do
  command -v "$tool" >/dev/null || { echo "vendor/fetch.sh: $tool missing (apt-get install dpkg-dev)" >&2; exit 1; }
done

# 1. a private sources list: the deb-src twin of every configured Debian mirror. sid (unstable)
#    too, for dqlite only: 1.18.7 is sid's (bookworm's 1.11.1 drops UPDATE ... RETURNING writes,
#    trixie's 1.18.1 is older); apt takes from sid only what vendor/versions pins by exact
#    version, so nothing else can come from it. sid has no -updates or -security suites.
mkdir -p "$APTDIR/lists/partial" "$DL"
mirrors=$( { cat /etc/apt/sources.list 2>/dev/null; cat /etc/apt/sources.list.d/*.list 2>/dev/null; } |
             awk '$1=="deb" {u=$2; if (u ~ /^\[/) u=$3; print u}';
           cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
             awk -F': *' '$1=="URIs" {print $2}' ) || true
list="$APTDIR/sources.list"; : >"$list"
for u in $(printf '%s\n' $mirrors | sort -u); do
  case "$u" in
    *debian-security*) for d in bookworm trixie; do echo "deb-src $u $d-security main" >>"$list"; done ;;
    *debian*)          for d in bookworm trixie; do
                         echo "deb-src $u $d main" >>"$list"
                         echo "deb-src $u $d-updates main" >>"$list"
                       done
                       echo "deb-src $u sid main" >>"$list" ;;
  esac
done
[ -s "$list" ] || { for d in bookworm trixie; do
                      echo "deb-src http://deb.debian.org/debian $d main" >>"$list"
                      echo "deb-src http://deb.debian.org/debian $d-updates main" >>"$list"
                      echo "deb-src http://deb.debian.org/debian-security $d-security main" >>"$list"
                    done
                    echo "deb-src http://deb.debian.org/debian sid main" >>"$list"; }
APT=(apt-get -q -o Dir::Etc::SourceList="$list" -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists="$APTDIR/lists" -o Dir::Cache="$APTDIR/cache"
     -o APT::Sandbox::User=root)
mkdir -p "$APTDIR/cache/archives/partial"

# 2. download (skipped when every pinned file is already present and verified)
verify() {  # verify: exit 0 when every file in versions is in $DL with its sha256
  local ok=0
  while read -r pkg ver file sum; do
    case "$pkg" in ''|\#*) continue ;; esac
    if [ ! -f "$DL/$file" ] || [ "$(sha256sum "$DL/$file" | cut -d' ' -f1)" != "$sum" ]; then ok=1; fi
  done <"$HERE/versions"
  return $ok
}
if ! verify; then
  "${APT[@]}" update >/dev/null
  pkgs=$(awk '!/^#/ && NF==4 {print $1"="$2}' "$HERE/versions" | sort -u)
  (cd "$DL" && "${APT[@]}" source --download-only $pkgs >/dev/null)
fi
while read -r pkg ver file sum; do
  case "$pkg" in ''|\#*) continue ;; esac
  got="$(sha256sum "$DL/$file" | cut -d' ' -f1)"
  [ "$got" = "$sum" ] || { echo "vendor/fetch.sh: checksum mismatch for $file: $got != $sum" >&2; exit 1; }
done <"$HERE/versions"

# 3. unpack with Debian's patches applied
rm -rf "$SRC"; mkdir -p "$SRC"
for dsc in $(awk '!/^#/ && $3 ~ /\.dsc$/ {print $1":"$3}' "$HERE/versions"); do
  name=${dsc%%:*}; file=${dsc#*:}
  dpkg-source --no-check -x "$DL/$file" "$SRC/$name" >/dev/null
  for p in "$HERE"/patches/"$name"-*.patch; do
    [ -f "$p" ] || continue
    patch -s -p1 -d "$SRC/$name" <"$p" || { echo "vendor/fetch.sh: $p does not apply" >&2; exit 1; }
  done
done
echo "$want" >"$STAMP"
echo "vendor: civetweb, cJSON, SQLite, dqlite and libuv unpacked in vendor/src" >&2
