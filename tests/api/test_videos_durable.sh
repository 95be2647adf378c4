#!/usr/bin/env bash
# test_videos_durable.sh - the money and the queue under stress, against the
# real binary: 20 parallel creates with credits for exactly 5; a job whose
# engine fails ends failed with a useful message and its credits back; a
# server killed with SIGKILL while rendering loses no job and no charge and
# refunds nothing twice; one user's burst does not starve another's job.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"
. "$HH_SRC/tests/api/media_fixtures.sh"

DATA=$HH_TMP/data
PROMPT='"prompt":"a lighthouse at night in the rain"'
ledger_sum() { hh admin user ledger --email "$1" | jq '[.[].amount] | add // 0'; }
credits() { hh admin user show --email "$1" | jq -r .credits; }
wait_final() { # ID KEY -> echoes the final JSON
  local i body
  for i in $(seq 1500); do # 300 s: renders under ASan on a busy 2-core machine are slow
    body=$(curl -s "$BASE/api/v1/videos/$1" -H "Authorization: Bearer $2") || true
    case $(printf '%s' "$body" | jq -r .status) in ready | failed)
      printf '%s' "$body"
      return 0
      ;;
    esac
    sleep 0.2
  done
  fail "video $1 never finished: $body"
}

# --- 20 racing creates, credits for exactly 5 (3 s x 10 = 30 each) ---
hh admin user create --email race@example.com --plan max --credits 150 >/dev/null
RACE=$(hh admin key create --email race@example.com)
start_server --workers 0
pids=()
for i in $(seq 20); do
  curl -s -o /dev/null -w '%{http_code}\n' -X POST "$BASE/api/v1/videos" \
    -H "Authorization: Bearer $RACE" -d "{$PROMPT,\"durationSec\":3}" >"$HH_TMP/race.$i" &
  pids+=($!)
done
wait "${pids[@]}" # not a bare wait: the server is a background job too
codes=$(cat "$HH_TMP"/race.* | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
assert_eq "202x5 402x15 " "$codes" "5 accepted, 15 refused"
assert_eq 0 "$(credits race@example.com)" "balance 0"
assert_eq 0 "$(ledger_sum race@example.com)" "ledger sum equals the balance"
assert_eq 5 "$(hh admin video list --email race@example.com | jq length)" "a video per charge"
stop_server

# --- an engine failure: the upload is fine, the decode is not ---
hh admin user create --email fail@example.com --plan pro --credits 1000 >/dev/null
KEY=$(hh admin key create --email fail@example.com)
start_server --workers 1
{ printf '\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2'; head -c 20000 /dev/urandom; } >"$HH_TMP/broken.mp4"
upload BROKEN video video/mp4 "$HH_TMP/broken.mp4"
req POST /api/v1/videos -H "Authorization: Bearer $KEY" \
  -d "{$PROMPT,\"durationSec\":3,\"referenceVideoKey\":\"$BROKEN\"}"
assert_status 202 "$STATUS" "accepted: the upload itself was valid"
FID=$(jq -r .id "$BODY")
assert_eq 970 "$(credits fail@example.com)" "charged at create"
final=$(wait_final "$FID" "$KEY")
assert_json "$final" .status failed "engine failure ends failed"
assert_contains "$(printf '%s' "$final" | jq -r .errorMessage)" "reference video" "useful message"
assert_json "$final" .videoUrl null "no video"
assert_json "$final" .credits.refunded 30 "refund recorded on the video"
assert_eq 1000 "$(credits fail@example.com)" "credits back"
assert_eq 1000 "$(ledger_sum fail@example.com)" "ledger sum equals the balance"
assert_eq 1 "$(hh admin user ledger --email fail@example.com | jq '[.[] | select(.kind=="refund")] | length')" "one refund"
stop_server

# --- fairness: A's burst of 6, then B's single job; B must not wait for A's burst ---
hh admin user create --email a@example.com --plan max --credits 10000 >/dev/null
hh admin user create --email b@example.com --plan max --credits 10000 >/dev/null
AK=$(hh admin key create --email a@example.com)
BK=$(hh admin key create --email b@example.com)
start_server --workers 0
for _ in $(seq 6); do
  curl -s -o /dev/null -X POST "$BASE/api/v1/videos" -H "Authorization: Bearer $AK" -d "{$PROMPT,\"durationSec\":3}"
done
req POST /api/v1/videos -H "Authorization: Bearer $BK" -d "{$PROMPT,\"durationSec\":3}"
BID=$(jq -r .id "$BODY")
stop_server
start_server --workers 1
wait_final "$BID" "$BK" >/dev/null
# When B's job is ready, at most 2 of A's may have finished before it (one running, one next).
a_ready=$(hh admin video list --email a@example.com | jq '[.[] | select(.status=="ready")] | length')
[ "$a_ready" -le 2 ] || fail "B's job waited for $a_ready of A's burst"
HH_ASSERTS=$((HH_ASSERTS + 1))
stop_server

# --- SIGKILL while rendering, restart: every video ends ready or failed, money exact ---
hh admin user create --email crash@example.com --plan max --credits 100000 >/dev/null
CK=$(hh admin key create --email crash@example.com)
export HAPPYHORSE_JOB_LEASE_MS=1500
start_server --workers 2
export HAPPYHORSE_DATA=$DATA # for assert_exit's direct CLI calls
ids=()
for _ in $(seq 4); do
  req POST /api/v1/videos -H "Authorization: Bearer $CK" -d "{$PROMPT,\"durationSec\":4}"
  ids+=("$(jq -r .id "$BODY")")
done
for _ in $(seq 100); do # until a render is under way
  [ "$(hh admin video list --email crash@example.com | jq '[.[] | select(.status=="processing")] | length')" -gt 0 ] && break
  sleep 0.1
done
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
start_server --workers 2
for id in "${ids[@]}"; do
  st=$(wait_final "$id" "$CK" | jq -r .status)
  assert_eq ready "$st" "video $id after the crash"
done
assert_eq $((100000 - 4 * 40)) "$(credits crash@example.com)" "four charges, no refund, no double"
assert_eq "$(credits crash@example.com)" "$(ledger_sum crash@example.com)" "ledger sum equals the balance"

# --- operators: refund a ready video once; fail a stuck one (refunds); a finished one cannot ---
assert_exit 0 "$HH_BIN" admin video refund --id "${ids[0]}" --note "customer complaint"
assert_json "$RUN_OUT" .refunded 40 "operator refund amount"
assert_exit 1 "$HH_BIN" admin video refund --id "${ids[0]}"
assert_exit 2 "$HH_BIN" admin video refund --id not-an-id
assert_eq $((100000 - 3 * 40)) "$(credits crash@example.com)" "refunded once"
assert_exit 1 "$HH_BIN" admin video fail --id "${ids[1]}"
stop_server
start_server --workers 0 # nothing will take the next video: it stays queued
req POST /api/v1/videos -H "Authorization: Bearer $CK" -d "{$PROMPT,\"durationSec\":3}"
STUCK=$(jq -r .id "$BODY")
assert_exit 0 "$HH_BIN" admin video fail --id "$STUCK" --message "Cancelled: maintenance"
assert_json "$("$HH_BIN" admin video show --id "$STUCK")" .errorMessage "Cancelled: maintenance" "operator's message"
assert_eq $((100000 - 3 * 40)) "$(credits crash@example.com)" "the stuck video's charge came back"
assert_eq "$(credits crash@example.com)" "$(ledger_sum crash@example.com)" "ledger sum equals the balance"
stop_server
hh_done
