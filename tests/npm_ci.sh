#!/usr/bin/env bash
# npm_ci.sh DIR - installs DIR's npm packages with `npm ci` from its
# committed lockfile, and only when DIR/node_modules does not match that
# lockfile already (so a test run costs nothing after the first). Used by
# the setup.sh of tests/browser/ and tests/s3/.
set -euo pipefail
cd "$1"
if [ -f node_modules/.package-lock.json ] &&
  cmp -s <(jq -S '.packages | del(."")' package-lock.json) \
    <(jq -S '.packages' node_modules/.package-lock.json); then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error >&2
