#!/usr/bin/env bash
# setup.sh - installs the browser tests' npm packages (playwright-core only)
# with `npm ci` from the committed lockfile (tests/npm_ci.sh), and only when
# node_modules does not match it already. Run by `make browser-deps` and by
# the browser test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../npm_ci.sh" "$here"
