#!/usr/bin/env bash
# Browser tests: sets up (when needed) and runs every test in tests/web/specs/ against the
# real binary ($CHATVAULT_BIN, default build/chatvault). Prints `N passed, N failed` last.
#   tests/web/run.sh                 # everything
#   tests/web/run.sh stream xss      # only tests whose name contains one of the words
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -x /usr/bin/chromium ] || [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
  bash "$here/setup.sh"
fi
exec node "$here/run.mjs" "$@"
