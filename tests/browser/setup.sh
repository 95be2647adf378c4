#!/usr/bin/env bash
# setup.sh - installs the browser tests' npm packages (playwright-core only)
# with `npm ci` from the committed lockfile, and only when node_modules does
# not match it already. Run by `make browser-deps` and by the browser test.
set -euo pipefail
cd "$(dirname "$0")"
if [ -f node_modules/.package-lock.json ] &&
  cmp -s <(jq -S '.packages | del(."")' package-lock.json) \
    <(jq -S '.packages' node_modules/.package-lock.json); then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error >&2
