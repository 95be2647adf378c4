#!/usr/bin/env bash
# test_dashboard_browser.sh - the dashboard's browser tests
# (tests/browser/dashboard.test.mjs, node's test runner driving Debian's
# chromium through playwright-core) against a real server: makes the
# accounts and fixture files, starts `happyhorse serve`, runs node --test.
# Screenshots go to $HH_SCREENSHOTS when set (e.g. docs/screenshots).
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

command -v node >/dev/null || fail "node is required (scripts/deps.sh installs nodejs)"
[ -x "${HH_CHROMIUM:-/usr/bin/chromium}" ] || fail "chromium is required (scripts/deps.sh)"
"$HH_SRC/tests/browser/setup.sh" || fail "npm ci of tests/browser failed"

DATA=$HH_TMP/data
PRO_EMAIL=pro@example.com PRO_PASSWORD='pro-user-password'
BASIC_EMAIL=basic@example.com BASIC_PASSWORD='basic-user-password'
POOR_EMAIL=poor@example.com POOR_PASSWORD='poor-user-password'
hh admin user create --email "$PRO_EMAIL" --plan pro --credits 1000 --password-stdin <<<"$PRO_PASSWORD" >/dev/null
hh admin user create --email "$BASIC_EMAIL" --plan basic --credits 200 --password-stdin <<<"$BASIC_PASSWORD" >/dev/null
hh admin user create --email "$POOR_EMAIL" --plan basic --credits 0 --password-stdin <<<"$POOR_PASSWORD" >/dev/null
MANY_EMAIL=many@example.com MANY_PASSWORD='many-user-password'
hh admin user create --email "$MANY_EMAIL" --plan max --credits 1000000 --password-stdin <<<"$MANY_PASSWORD" >/dev/null

# A gallery of 1,000 videos: made and all but the newest two canceled on a
# server with no workers (its max plan allows the 2,000 requests a minute),
# so the real server below renders only those two.
MANY_KEY=$(hh admin key create --email "$MANY_EMAIL")
hh admin plan list | jq '{plans: map(.engine = {name: .engine} |
  if .name == "max" then .requestsPerMinute = 100000 else . end)}' >"$HH_TMP/seed-plans.json"
start_server --workers 0 --plans "$HH_TMP/seed-plans.json"
seed_videos "$MANY_KEY" 1000 >"$HH_TMP/many"
assert_eq 1000 "$(sort -u "$HH_TMP/many" | grep -c .)" "1000 videos seeded"
head -n 998 "$HH_TMP/many" | sed 's|.*|/api/v1/videos/&/cancel|' | curl_each POST "$MANY_KEY" >"$HH_TMP/canceled"
assert_eq 998 "$(jq -r 'select(.status == "canceled") | .id' "$HH_TMP/canceled" | grep -c .)" "998 canceled"
stop_server

# Fixtures: a real PNG of about a megabyte (a Mandelbrot set), and a file that
# is an MP4 by its magic bytes but holds nothing a decoder can use.
ffmpeg -v error -f lavfi -i "mandelbrot=s=1600x1000:end_pts=1:inner=convergence" -frames:v 1 \
  -y "$HH_TMP/reference.png"
{ printf '\000\000\000\030ftypmp42\000\000\000\000mp42isom'; head -c 200000 /dev/urandom; } \
  >"$HH_TMP/broken.mp4"

start_server --webhook-allow-private # the webhooks page registers a loopback endpoint
shots=${HH_SCREENSHOTS:-}
[ -z "$shots" ] || shots=$(mkdir -p "$shots" && cd "$shots" && pwd)
(cd "$HH_SRC/tests/browser" &&
  HH_BASE=$BASE HH_PRO_EMAIL=$PRO_EMAIL HH_PRO_PASSWORD=$PRO_PASSWORD \
    HH_BASIC_EMAIL=$BASIC_EMAIL HH_BASIC_PASSWORD=$BASIC_PASSWORD \
    HH_POOR_EMAIL=$POOR_EMAIL HH_POOR_PASSWORD=$POOR_PASSWORD \
    HH_MANY_EMAIL=$MANY_EMAIL HH_MANY_PASSWORD=$MANY_PASSWORD \
    HH_FIXTURE_IMAGE=$HH_TMP/reference.png HH_FIXTURE_BROKEN_VIDEO=$HH_TMP/broken.mp4 \
    HH_SCREENSHOTS=$shots node --test --test-reporter=spec dashboard.test.mjs) ||
  fail "browser tests failed (server log: $(tail -5 "$SERVER_LOG"))"
HH_ASSERTS=$((HH_ASSERTS + 1))
stop_server
hh_done
