#!/usr/bin/env bash
# test_videos_cancel.sh - POST /api/v1/videos/{id}/cancel over real HTTP:
# a queued video is canceled at once with one refund row (balance ==
# ledger); a processing one, rendered by an exec generator that sleeps,
# ends canceled and refunded, its generator is killed within a few
# seconds, nothing is published for it, and the worker goes on to the
# next video; a second cancel is 409 conflict with the status; another
# account's video is not_found; canceled is listed, counted and deletable.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
# The generator: prompts with "slow" record their pid and sleep (as long as a
# big model would take); others make 12 frames at once.
cat >"$HH_TMP/gen.sh" <<'GEN'
#!/usr/bin/env bash
set -eu
job=$(cat)
case $job in
*slow*) echo $$ >"$HH_GEN_PIDS/$(date +%s%N)"; exec sleep 300 ;;
esac
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=640x360:rate=12 -frames:v 12 "${!#}/frame_%05d.png"
GEN
chmod +x "$HH_TMP/gen.sh"
export HH_GEN_PIDS=$HH_TMP/pids
mkdir -p "$HH_GEN_PIDS"
printf '{"plans":[{"name":"pro","maxDurationSec":12,"requestsPerMinute":1000,"jobsInFlight":5,' >"$HH_TMP/plans.json"
printf '"allow":{"1080p":true,"sourceImage":true,"lastFrame":true,"referenceVideo":true,' >>"$HH_TMP/plans.json"
printf '"referenceAudio":true},"creditsPerSecond":{"720p":10,"1080p":20},' >>"$HH_TMP/plans.json"
printf '"engine":{"name":"exec","command":["%s"],"preset":"ultrafast"}}]}\n' "$HH_TMP/gen.sh" >>"$HH_TMP/plans.json"
export HAPPYHORSE_PLANS=$HH_TMP/plans.json

hh admin user create --email a@example.com --plan pro --credits 1000 >/dev/null
hh admin user create --email b@example.com --plan pro --credits 1000 >/dev/null
A=$(hh admin key create --email a@example.com)
B=$(hh admin key create --email b@example.com)

create() { # PROMPT : a 3 s video of a (30 credits); prints its id
  req POST /api/v1/videos -H "Authorization: Bearer $A" -d "{\"prompt\":\"$1\",\"durationSec\":3}"
  assert_status 202 "$STATUS" "create"
  jq -r .id "$BODY"
}
status_of() { curl -s "$BASE/api/v1/videos/$1" -H "Authorization: Bearer $A" | jq -r .status; }
credits() { hh admin user show --email a@example.com | jq -r .credits; }
ledger() { hh admin user ledger --email a@example.com --limit 1000; }
balance_is_ledger() {
  assert_eq "$(credits)" "$(ledger | jq '[.[].amount] | add')" "balance == ledger sum ($1)"
}

# --- queued: canceled at once, refunded once ---
start_server --workers 0
Q=$(create "a quiet meadow")
assert_eq 970 "$(credits)" "charged"
req POST "/api/v1/videos/$Q/cancel" -H "Authorization: Bearer $B"
assert_status 404 "$STATUS" "another account's video"
assert_eq not_found "$(error_code)" "not_found code"
req POST /api/v1/videos/not-a-uuid/cancel -H "Authorization: Bearer $A"
assert_status 404 "$STATUS" "malformed id"
req POST "/api/v1/videos/$Q/cancel"
assert_status 401 "$STATUS" "no key"
assert_eq 970 "$(credits)" "nothing refunded by refused cancels"
req POST "/api/v1/videos/$Q/cancel" -H "Authorization: Bearer $A"
assert_status 200 "$STATUS" "cancel queued"
assert_eq canceled "$(jq -r .status "$BODY")" "the answer is the canceled video"
assert_eq 30 "$(jq -r .credits.refunded "$BODY")" "refunded in the answer"
assert_eq "" "$(header Retry-After)" "canceled is final: no Retry-After"
assert_eq canceled "$(status_of "$Q")" "GET says canceled"
assert_eq 1000 "$(credits)" "full refund"
assert_eq 1 "$(ledger | jq "[.[] | select(.ref == \"$Q\" and .kind == \"refund\")] | length")" "one refund row"
balance_is_ledger "after the queued cancel"
req POST "/api/v1/videos/$Q/cancel" -H "Authorization: Bearer $A"
assert_status 409 "$STATUS" "cancel twice"
assert_eq conflict "$(error_code)" "409 code"
assert_eq canceled "$(jq -r .error.status "$BODY")" "409 says the status"
assert_eq 1000 "$(credits)" "no second refund"
req GET "/api/v1/videos?status=canceled" -H "Authorization: Bearer $A"
assert_eq "$Q" "$(jq -r '[.data[].id] | join(",")' "$BODY")" "listed as canceled"
assert_eq 1 "$(hh admin stats | jq -r .videos.canceled)" "admin stats count canceled"
req GET /metrics
has_line 'happyhorse_videos{status="canceled"} 1' "$(cat "$BODY")" || fail "metrics: canceled videos"
stop_server

# --- processing: the generator is stopped, the video ends canceled, the worker moves on ---
start_server --workers 1
P=$(create "a slow horse")
for _ in $(seq 200); do
  [ "$(status_of "$P")" = processing ] && [ -n "$(ls "$HH_GEN_PIDS")" ] && break
  sleep 0.1
done
assert_eq processing "$(status_of "$P")" "the slow video is processing"
GEN_PID=$(cat "$HH_GEN_PIDS"/*)
kill -0 "$GEN_PID" 2>/dev/null || fail "the generator is not running"
N=$(create "a quick horse") # waits behind it for the one worker
t0=$(date +%s%N)
req POST "/api/v1/videos/$P/cancel" -H "Authorization: Bearer $A"
assert_status 200 "$STATUS" "cancel processing"
assert_eq canceled "$(jq -r .status "$BODY")" "canceled at once"
for _ in $(seq 50); do kill -0 "$GEN_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$GEN_PID" 2>/dev/null && fail "the generator still runs 5 s after the cancel"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -le 3000 ] || fail "the generator took $ms ms to stop (want within a heartbeat, < 3 s)"
for _ in $(seq 200); do [ "$(status_of "$N")" = ready ] && break; sleep 0.1; done
assert_eq ready "$(status_of "$N")" "the worker moved on to the next video"
assert_eq canceled "$(status_of "$P")" "the canceled video stays canceled"
[ ! -e "$DATA/objects/videos/outputs/$P.mp4" ] || fail "an output was published for the canceled video"
assert_eq 1 "$(ledger | jq "[.[] | select(.ref == \"$P\" and .kind == \"refund\")] | length")" \
  "the processing cancel refunded once"
assert_eq 970 "$(credits)" "only the quick video is paid for"
balance_is_ledger "after the processing cancel"
has_line canceled "$(grep -F "\"video\":\"$P\"" "$SERVER_LOG" | jq -r 'select(.msg == "job") | .outcome')" ||
  fail "the worker did not log the job as canceled"
req POST "/api/v1/videos/$N/cancel" -H "Authorization: Bearer $A"
assert_status 409 "$STATUS" "cancel a ready video"
assert_eq ready "$(jq -r .error.status "$BODY")" "409 says ready"
req DELETE "/api/v1/videos/$P" -H "Authorization: Bearer $A"
assert_status 204 "$STATUS" "a canceled video can be deleted"
stop_server
hh_done
