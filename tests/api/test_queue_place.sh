#!/usr/bin/env bash
# test_queue_place.sh - a queued video says where it waits ("queue" on
# GET /api/v1/videos/{id}, an addition to the contract): the account's own
# videos ahead of it, the other accounts waiting, and the reason — the
# first free render worker, the account's older videos, or the plan's
# videos at once all rendering. No render workers, so nothing moves on its own.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
hh admin user create --email a@example.com --plan free --credits 1000 >/dev/null
hh admin user create --email b@example.com --plan basic --credits 1000 >/dev/null
A=$(hh admin key create --email a@example.com)
B=$(hh admin key create --email b@example.com)
start_server --workers 0

create() { # KEY: a queued video's id
  req POST /api/v1/videos -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
    --data-binary '{"prompt":"A lighthouse at dusk","durationSec":5}'
  assert_status 202 "$STATUS" "create"
  jq -r .id "$BODY"
}
queue() { # KEY ID: the video's queue object, compact
  req GET "/api/v1/videos/$2" -H "Authorization: Bearer $1"
  assert_status 200 "$STATUS" "poll"
  jq -c .queue "$BODY"
}

a1=$(create "$A")
assert_eq '{"yoursAhead":0,"othersWaiting":0,"running":0,"runningLimit":1,"reason":"worker"}' \
  "$(queue "$A" "$a1")" "alone in the queue: next for a worker"
a2=$(create "$A")
a3=$(create "$A")
b1=$(create "$B")
assert_eq '{"yoursAhead":0,"othersWaiting":1,"running":0,"runningLimit":1,"reason":"worker"}' \
  "$(queue "$A" "$a1")" "the oldest: next for a worker, one other account waiting"
assert_eq '{"yoursAhead":2,"othersWaiting":1,"running":0,"runningLimit":1,"reason":"own_queue"}' \
  "$(queue "$A" "$a3")" "the newest: two of the account's own go first"
assert_eq '{"yoursAhead":0,"othersWaiting":1,"running":0,"runningLimit":2,"reason":"worker"}' \
  "$(queue "$B" "$b1")" "the other account's: its own plan's limit"

# A worker claims a1, as store_job_claim would (state and lease), from outside the server:
# the status cache notices within its one-second time to live.
store_sql "UPDATE jobs SET state = 'running', lease_expires_at = 9999999999999 WHERE video_id = '$a1';
   UPDATE videos SET status = 'processing' WHERE id = '$a1';"
sleep 1.2
assert_eq '{"yoursAhead":0,"othersWaiting":1,"running":1,"runningLimit":1,"reason":"plan_limit"}' \
  "$(queue "$A" "$a2")" "the free plan renders one at a time: a2 waits for a1"
assert_eq null "$(queue "$A" "$a1")" "a rendering video has no queue place"
assert_eq '{"yoursAhead":0,"othersWaiting":1,"running":0,"runningLimit":2,"reason":"worker"}' \
  "$(queue "$B" "$b1")" "another account's limit is its own"
echo "ok"
