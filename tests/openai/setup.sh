#!/usr/bin/env bash
# Installs what the OpenAI client test needs: node and npm (Debian's, only when missing) and the
# official `openai` npm package at the version pinned in package-lock.json (npm ci).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing node and npm" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "setup: node $(node --version) is too old for the openai package (needs >= 20)" >&2
  exit 1
fi

cd "$here"
want="$(node -p 'require("./package-lock.json").packages["node_modules/openai"].version')"
have="$(node -p 'try { require("./node_modules/openai/package.json").version } catch (e) { "" }')"
if [ "$have" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
