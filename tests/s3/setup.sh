#!/usr/bin/env bash
# setup.sh - installs the S3 tests' npm packages (package.json says which and
# why) with `npm ci` from the committed lockfile (tests/npm_ci.sh), and only
# when node_modules does not match it already. Run by tests/api/test_s3.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../npm_ci.sh" "$here"
