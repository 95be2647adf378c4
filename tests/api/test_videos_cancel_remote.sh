#!/usr/bin/env bash
# test_videos_cancel_remote.sh - cancelling a video whose task is at an
# upstream provider (fal, on the stand-in of tests/standin/providers.py):
# the video is canceled and refunded at once, the driver asks the provider
# to cancel the task (its cancel call is seen, once), polls stop, and
# releasing the provider's tasks later changes nothing.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"
. "$HH_SRC/tests/api/standin.sh"

DATA=$HH_TMP/data
export HH_TEST_PROVIDER_KEY
start_standin --task-seconds 1
HH_TEST_PROVIDER_KEY=$STANDIN_KEY
cat >"$HH_TMP/plans.json" <<EOF
{"plans": [{"name":"fal","maxDurationSec":12,"requestsPerMinute":100000,"jobsInFlight":50,
 "allow":{"1080p":true,"sourceImage":true,"lastFrame":false,"referenceVideo":false,"referenceAudio":false},
 "creditsPerSecond":{"720p":10,"1080p":20},
 "engine":{"name":"fal","baseUrl":"$STANDIN/fal","model":"fal-ai/wan/t2v","imageModel":"fal-ai/wan/i2v",
  "apiKeyEnv":"HH_TEST_PROVIDER_KEY","pollIntervalSec":1,"requestTimeoutSec":3,"preset":"ultrafast"}}]}
EOF
export HAPPYHORSE_PLANS=$HH_TMP/plans.json
hh admin user create --email a@example.com --plan fal --credits 1000 >/dev/null
A=$(hh admin key create --email a@example.com)
start_server --workers 1

req POST /api/v1/videos -H "Authorization: Bearer $A" -d '{"prompt":"a horse at the provider [hold]","durationSec":3}'
assert_status 202 "$STATUS" "create"
V=$(jq -r .id "$BODY")
# Wait until the provider has the task and we have polled it once (phase wait).
for _ in $(seq 100); do
  [ "$(standin_log | jq '[.[] | select(.path | test("/status$"))] | length')" -ge 1 ] && break
  sleep 0.1
done
[ "$(standin_log | jq '[.[] | select(.path | test("/status$"))] | length')" -ge 1 ] ||
  fail "the task never reached the provider"

req POST "/api/v1/videos/$V/cancel" -H "Authorization: Bearer $A"
assert_status 200 "$STATUS" "cancel"
assert_eq canceled "$(jq -r .status "$BODY")" "canceled at once"
assert_eq 1000 "$(hh admin user show --email a@example.com | jq -r .credits)" "refunded in full"
cancels() { standin_log | jq '[.[] | select(.method == "PUT" and (.path | test("/cancel$")))] | length'; }
for _ in $(seq 100); do [ "$(cancels)" -ge 1 ] && break; sleep 0.1; done
assert_eq 1 "$(cancels)" "the provider was asked once to cancel the task"
polls=$(standin_log | jq '[.[] | select(.path | test("/status$"))] | length')
sleep 3
assert_eq "$polls" "$(standin_log | jq '[.[] | select(.path | test("/status$"))] | length')" \
  "no polls after the cancel"
standin_release
sleep 2
req GET "/api/v1/videos/$V" -H "Authorization: Bearer $A"
assert_eq canceled "$(jq -r .status "$BODY")" "still canceled"
assert_eq 1 "$(hh admin user ledger --email a@example.com | jq "[.[] | select(.kind == \"refund\" and .ref == \"$V\")] | length")" \
  "one refund"
assert_eq 1 "$(hh admin stats | jq -r '.videos.canceled')" "counted canceled"
stop_server
hh_done
