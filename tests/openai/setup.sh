#!/usr/bin/env bash
# setup.sh - installs the official openai SDK (package.json pins it) with
# `npm ci` from the committed lockfile (tests/npm_ci.sh), and only when
# node_modules does not match it already. Run by tests/api/test_openai.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../npm_ci.sh" "$here"
