#!/usr/bin/env bash
# Installs the pinned OpenAPI validator (package-lock.json) for tests/api/test_openapi.py.
# Needs node >= 20 and npm (tests/web/setup.sh installs them from Debian when missing).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: node and npm are needed (tests/web/setup.sh installs them)" >&2
  exit 1
fi
cd "$here"
if [ ! -f node_modules/@seriousme/openapi-schema-validator/package.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
