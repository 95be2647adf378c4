#!/usr/bin/env bash
# test_webhooks.sh - webhooks (Standard Webhooks) against the real binary and
# a real receiver on loopback (webhook_receiver.py, started once) that
# verifies every signature and keeps the webhook-ids it processed: the
# endpoint routes and their limits; a 127.0.0.1 URL (and the other private
# forms) refused without --webhook-allow-private; video.ready and
# video.failed delivered and signed; retries after 500s with the same
# webhook-id; 410 disables the endpoint; a kill -9 of the server while an
# attempt is in flight, and the event still arrives after the restart; no
# webhook-id ever processed twice; the dashboard's session routes; an endpoint
# registered while private targets were allowed is refused at connect once they are not.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
RX=$HH_TMP/rx
mkdir -p "$RX"
echo '{}' >"$RX/secrets.json"
python3 "$HH_SRC/tests/api/webhook_receiver.py" "$RX" &
RX_PID=$!
hh_on_exit "kill $RX_PID"
for _ in $(seq 100); do [ -s "$RX/port" ] && break; sleep 0.05; done
[ -s "$RX/port" ] || fail "the receiver did not start"
RXURL=http://127.0.0.1:$(cat "$RX/port")

PASS='correct horse battery staple'
hh admin user create --email a@example.com --plan pro --credits 1000 --password-stdin <<<"$PASS" >/dev/null
hh admin user create --email b@example.com --plan pro --credits 1000 >/dev/null
KEY=$(hh admin key create --email a@example.com)
BKEY=$(hh admin key create --email b@example.com)
AUTH=(-H "Authorization: Bearer $KEY")
PROMPT='"prompt":"a lighthouse at night in the rain","durationSec":3'

hook() { req POST /api/v1/webhooks "${AUTH[@]}" --data-binary "$1"; }
expect_invalid() { # FIELD description
  assert_status 400 "$STATUS" "$2: status"
  assert_eq invalid_input "$(error_code)" "$2: code"
  assert_eq "$1" "$(jq -r .error.field "$BODY")" "$2: field"
}
# register PATH [EVENTS-JSON]: an endpoint at the receiver's PATH; sets HOOK_ID; the secret goes to the receiver.
register() {
  local events=${2:+,\"events\":$2}
  hook "{\"url\":\"$RXURL$1\"$events}"
  assert_status 201 "$STATUS" "register $1"
  HOOK_ID=$(jq -r .id "$BODY")
  local secret
  secret=$(jq -r .secret "$BODY")
  assert_match '^whsec_[A-Za-z0-9+/]{43}=$' "$secret" "a Standard Webhooks secret"
  jq --arg p "$1" --arg s "$secret" '.[$p] = $s' "$RX/secrets.json" >"$RX/secrets.new"
  mv "$RX/secrets.new" "$RX/secrets.json"
}
# lines JQ-SELECT: how many receiver log lines match.
lines() { [ -s "$RX/log.jsonl" ] && jq -s "[.[] | select($1)] | length" "$RX/log.jsonl" || echo 0; }
# wait_lines JQ-SELECT N WHAT: until at least N lines match (120 s ceiling).
wait_lines() {
  local i
  for i in $(seq 600); do
    [ "$(lines "$1")" -ge "$2" ] && return 0
    sleep 0.2
  done
  fail "$3: fewer than $2 receiver lines match $1 after 120 s"
}
wait_status() { # ID STATUS
  local i s=""
  for i in $(seq 1500); do
    s=$(hh admin video show --id "$1" | jq -r .status)
    [ "$s" = "$2" ] && return 0
    sleep 0.2
  done
  fail "video $1 is $s, not $2"
}
new_video() {
  req POST /api/v1/videos "${AUTH[@]}" -d "{$PROMPT}"
  assert_status 202 "$STATUS" "video accepted"
  VID=$(jq -r .id "$BODY")
}

# --- without --webhook-allow-private: private targets are refused at registration ---
start_server --workers 0
port=$(cat "$RX/port")
for url in "$RXURL/ok" "http://localhost:$port/ok" "http://[::1]:$port/ok" \
  "http://[::ffff:127.0.0.1]:$port/ok" "http://10.1.2.3/x" "http://169.254.169.254/latest" \
  "http://[fd00:ec2::254]/x" "http://[fe80::1]/x" "http://0.0.0.0:$port/" "http://2130706433/"; do
  hook "{\"url\":\"$url\"}"
  expect_invalid url "private target $url"
done
assert_contains "$(jq -r .error.message "$BODY")" "private" "the message says why"
for url in "ftp://example.com/x" "file:///etc/passwd" "not a url" "" "/relative"; do
  hook "{\"url\":\"$url\"}"
  expect_invalid url "bad url '$url'"
done
req GET /api/v1/webhooks "${AUTH[@]}"
assert_json "$(cat "$BODY")" '.data | length' 0 "nothing was registered"
stop_server

# --- allowed: the routes and their limits ---
export HAPPYHORSE_WEBHOOK_RETRY_SCALE=0.001 # retries after 5 ms, 300 ms, 1.8 s, ...
start_server --workers 1 --webhook-allow-private
hook '{"url":"'"$RXURL"'/ok","extra":1}'
expect_invalid extra "an unknown field"
hook '{}'
expect_invalid url "no url"
for ev in '[]' '["video.ready","video.ready"]' '["video.started"]' '"video.ready"' '[1]'; do
  hook "{\"url\":\"$RXURL/ok\",\"events\":$ev}"
  expect_invalid events "events $ev"
done
# URL length: 2048 bytes pass, 2049 do not.
base="$RXURL/ok?pad="
pad=$(printf 'a%.0s' $(seq $((2048 - ${#base}))))
hook "{\"url\":\"$base$pad\"}"
assert_status 201 "$STATUS" "a 2048-byte url"
LONG=$(jq -r .id "$BODY")
hook "{\"url\":\"${base}a$pad\"}"
expect_invalid url "a 2049-byte url"
req DELETE "/api/v1/webhooks/$LONG" "${AUTH[@]}"
assert_status 204 "$STATUS" "delete"
req DELETE "/api/v1/webhooks/$LONG" "${AUTH[@]}"
assert_status 404 "$STATUS" "deleted twice"
# Ten endpoints per account: the 11th is refused; another account's do not count.
ids=()
for i in $(seq 10); do
  hook "{\"url\":\"$RXURL/ok/cap$i\",\"events\":[\"video.canceled\"]}"
  assert_status 201 "$STATUS" "endpoint $i of 10"
  ids+=("$(jq -r .id "$BODY")")
done
hook "{\"url\":\"$RXURL/ok/cap11\"}"
assert_status 403 "$STATUS" "the 11th endpoint"
assert_json "$(cat "$BODY")" .error.maxWebhooks 10 "the cap is named"
req POST /api/v1/webhooks -H "Authorization: Bearer $BKEY" --data-binary "{\"url\":\"$RXURL/ok/b\"}"
assert_status 201 "$STATUS" "another account has its own ten"
req DELETE "/api/v1/webhooks/${ids[0]}" -H "Authorization: Bearer $BKEY"
assert_status 404 "$STATUS" "another account's endpoint is not found"
req GET /api/v1/webhooks "${AUTH[@]}"
assert_json "$(cat "$BODY")" '.data | length' 10 "ten listed"
assert_json "$(cat "$BODY")" '[.data[] | has("secret")] | any' false "the list never shows a secret"
assert_json "$(cat "$BODY")" '.data[0].events | join(",")' video.canceled "events as given"
for id in "${ids[@]}"; do req DELETE "/api/v1/webhooks/$id" "${AUTH[@]}"; done
assert_status 204 "$STATUS" "the ten deleted"

# --- deliveries: signed, retried after 500s, 410 disables ---
register /ok/a
OK_ID=$HOOK_ID
register /flaky/a '["video.ready"]'
FLAKY_ID=$HOOK_ID
register /gone/a
GONE_ID=$HOOK_ID
register /ok/failed-only '["video.failed"]'
new_video
V1=$VID
wait_status "$V1" ready
wait_lines ".path == \"/ok/a\" and .videoId == \"$V1\"" 1 "video.ready at /ok/a"
wait_lines ".path == \"/flaky/a\" and .answer == 200" 1 "the flaky endpoint, in the end"
wait_lines ".path == \"/gone/a\"" 1 "the gone endpoint"
ready=$(jq -sc "[.[] | select(.path == \"/ok/a\")][0]" "$RX/log.jsonl")
assert_json "$ready" .type video.ready "the event type"
assert_json "$ready" .status ready "data is the video object"
assert_json "$ready" .sigOk true "signature verified"
assert_match '^msg_' "$(printf '%s' "$ready" | jq -r .id)" "a webhook-id"
assert_match '^20[0-9-]+T[0-9:.]+Z$' "$(printf '%s' "$ready" | jq -r .timestamp)" "timestamp"
MSG=$(printf '%s' "$ready" | jq -r .id)
assert_eq 3 "$(lines ".path == \"/flaky/a\" and .id == \"$MSG\"")" "500, 500, then 200: three attempts"
assert_eq "$MSG" "$(jq -sr '[.[] | select(.path == "/flaky/a")] | map(.id) | unique | join(",")' "$RX/log.jsonl")" \
  "the same webhook-id on every retry"
assert_eq 0 "$(lines '.path == "/ok/failed-only"')" "an endpoint without video.ready gets none"
req GET "/api/v1/webhooks/$FLAKY_ID/deliveries" "${AUTH[@]}"
assert_status 200 "$STATUS" "the delivery log"
log=$(cat "$BODY")
assert_json "$log" '[.data[] | .outcome] | join(",")' delivered,retrying,retrying "newest first"
assert_json "$log" '[.data[] | .statusCode] | join(",")' 200,500,500 "status codes"
assert_json "$log" '[.data[] | .attempt] | join(",")' 3,2,1 "attempt numbers"
assert_json "$log" ".data[0].id" "$MSG" "the webhook-id in the log"
req GET "/api/v1/webhooks/$FLAKY_ID/deliveries?limit=1" "${AUTH[@]}"
assert_json "$(cat "$BODY")" '.data | length' 1 "limit 1"
req GET "/api/v1/webhooks/$FLAKY_ID/deliveries?limit=101" "${AUTH[@]}"
expect_invalid limit "limit 101"
req GET "/api/v1/webhooks/$FLAKY_ID/deliveries" -H "Authorization: Bearer $BKEY"
assert_status 404 "$STATUS" "another account's log"
req GET /api/v1/webhooks "${AUTH[@]}"
assert_json "$(cat "$BODY")" ".data[] | select(.id == \"$GONE_ID\") | .status" disabled "410 disables"
req GET "/api/v1/webhooks/$GONE_ID/deliveries" "${AUTH[@]}"
assert_json "$(cat "$BODY")" '.data[0].outcome' disabled "the log says so"
assert_eq 1 "$(lines '.path == "/gone/a"')" "one attempt at a 410"
# video.failed, by an operator's order.
stop_server
start_server --workers 0 --webhook-allow-private
new_video
V2=$VID
hh admin video fail --id "$V2" >/dev/null
wait_lines ".path == \"/ok/failed-only\" and .videoId == \"$V2\"" 1 "video.failed"
assert_json "$(jq -sc '[.[] | select(.path == "/ok/failed-only")][0]' "$RX/log.jsonl")" .type video.failed "type"
wait_lines ".path == \"/ok/a\" and .videoId == \"$V2\"" 1 "video.failed at the all-events endpoint"
assert_eq 0 "$(lines ".path == \"/gone/a\" and .videoId == \"$V2\"")" "a disabled endpoint gets nothing"
assert_eq 0 "$(lines ".path == \"/flaky/a\" and .videoId == \"$V2\"")" "video.ready only"
# video.canceled, by the customer's cancel of a queued video (no workers: it is still queued).
new_video
V3=$VID
req POST "/api/v1/videos/$V3/cancel" "${AUTH[@]}"
assert_status 200 "$STATUS" "cancel a queued video"
wait_lines ".path == \"/ok/a\" and .videoId == \"$V3\"" 1 "video.canceled at the all-events endpoint"
canceled=$(jq -sc "[.[] | select(.path == \"/ok/a\" and .videoId == \"$V3\")][0]" "$RX/log.jsonl")
assert_json "$canceled" .type video.canceled "the cancel's event type"
assert_json "$canceled" .status canceled "its data is the canceled video"
assert_json "$canceled" .sigOk true "signed"
assert_eq 0 "$(lines ".path == \"/ok/failed-only\" and .videoId == \"$V3\"")" "video.failed only"
stop_server

# --- kill -9 while an attempt is in flight: the event still arrives, once ---
start_server --workers 1 --webhook-allow-private
for id in "$OK_ID" "$FLAKY_ID" "$GONE_ID"; do
  req DELETE "/api/v1/webhooks/$id" "${AUTH[@]}"
  assert_status 204 "$STATUS" "endpoint $id deleted"
done
register /hold/a '["video.ready"]'
new_video
V3=$VID
for _ in $(seq 600); do [ -s "$RX/holding" ] && break; sleep 0.2; done
[ -s "$RX/holding" ] || fail "no attempt reached the holding endpoint"
HELD=$(cat "$RX/holding")
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
assert_eq 0 "$(lines ".path == \"/hold/a\" and .answer == 200")" "not processed before the crash"
start_server --workers 1 --webhook-allow-private # the claim lapses, the attempt is made again
wait_lines ".path == \"/hold/a\" and .answer == 200" 1 "the held event after the restart"
assert_eq "$HELD" "$(jq -sr '[.[] | select(.path == "/hold/a" and .answer == 200)][0].id' "$RX/log.jsonl")" \
  "the same webhook-id after the crash"
assert_eq "$V3" "$(jq -sr '[.[] | select(.path == "/hold/a" and .answer == 200)][0].videoId' "$RX/log.jsonl")" \
  "the video"

# --- the dashboard's session routes: the same handlers ---
req POST /api/dashboard/login -H 'Content-Type: application/json' \
  --data-binary "{\"email\":\"a@example.com\",\"password\":\"$PASS\"}"
assert_status 200 "$STATUS" "login"
COOKIE=$(header Set-Cookie | sed -n 's/^hh_session=\([^;]*\);.*/\1/p')
CSRF=$(jq -r .csrfToken "$BODY")
SESS=(-H "Cookie: hh_session=$COOKIE")
req POST /api/dashboard/webhooks "${SESS[@]}" --data-binary "{\"url\":\"$RXURL/ok/dash\"}"
assert_status 403 "$STATUS" "a change without the CSRF token"
req POST /api/dashboard/webhooks "${SESS[@]}" -H "X-CSRF-Token: $CSRF" \
  --data-binary "{\"url\":\"$RXURL/ok/dash\"}"
assert_status 201 "$STATUS" "created from the dashboard"
DASH_ID=$(jq -r .id "$BODY")
assert_match '^whsec_' "$(jq -r .secret "$BODY")" "the secret, shown once"
req GET /api/dashboard/webhooks "${SESS[@]}"
assert_json "$(cat "$BODY")" "[.data[] | select(.id == \"$DASH_ID\")] | length" 1 "listed"
req GET "/api/dashboard/webhooks/$DASH_ID/deliveries" "${SESS[@]}"
assert_status 200 "$STATUS" "its log"
req DELETE "/api/dashboard/webhooks/$DASH_ID" "${SESS[@]}" -H "X-CSRF-Token: $CSRF"
assert_status 204 "$STATUS" "deleted from the dashboard"
# An endpoint registered while private targets were allowed...
register /ok/ssrf '["video.ready"]'
SSRF_ID=$HOOK_ID
stop_server

# --- ... is refused again on the address actually connected to, once they are not ---
start_server --workers 1
new_video
wait_status "$VID" ready
for _ in $(seq 300); do
  req GET "/api/v1/webhooks/$SSRF_ID/deliveries" "${AUTH[@]}"
  [ "$(jq '.data | length' "$BODY")" -ge 1 ] && break
  sleep 0.2
done
attempt=$(jq -c '.data[-1]' "$BODY")
assert_json "$attempt" .attempt 1 "an attempt was made"
assert_json "$attempt" .statusCode null "no answer"
assert_contains "$(printf '%s' "$attempt" | jq -r .error)" "not public" "refused at connect"
assert_json "$attempt" .outcome retrying "to be retried"
assert_eq 0 "$(lines '.path == "/ok/ssrf"')" "nothing reached the loopback receiver"
stop_server

# --- over the whole run: every signature verified, no webhook-id processed twice ---
assert_eq 0 "$(lines '.sigOk != true')" "every request carried a valid signature"
assert_eq 0 "$(lines '.duplicate == true')" "no webhook-id processed twice"
assert_eq 0 "$(jq -s '[.[] | select(.answer == 200)] | group_by(.path + .id) | map(select(length > 1)) | length' "$RX/log.jsonl")" \
  "each (endpoint, webhook-id) answered 2xx once"
hh_done
