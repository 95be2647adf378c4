#!/usr/bin/env bash
# test_account_limits.sh - the operator's account limits
# (docs/security-and-limits.md), over real HTTP against the built binary:
#  - authorization is checked again in the transaction that charges: a key
#    deleted, API access switched off, the account suspended or a dashboard
#    session ended after the headers (the guard passed: 100 Continue) but
#    before the body creates and charges nothing;
#  - suspending an account stops its keys and sessions at once, refuses its
#    sign-in, fails and refunds its queued videos (money exact: balance ==
#    ledger sum); reinstating it lets its keys work again;
#  - a plan's maxQueuedJobs: a create beyond it is rate_limited 429 with
#    Retry-After, also when eight race for the last places;
#  - a plan's maxCreditsPerDay: net of refunds, 429 until the UTC day ends;
#  - the prompt blocklist: case-, width- and space-insensitive, also in
#    Chinese, on the API and the dashboard; SIGHUP reloads it; a bad file
#    stops the start with its line;
#  - the audit log records each admin action that changed something.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
cat >"$HH_TMP/plans.json" <<'JSON'
{"plans":[
 {"name":"capped","maxDurationSec":12,"requestsPerMinute":100000,"jobsInFlight":1,
  "maxQueuedJobs":3,"maxCreditsPerDay":100,
  "allow":{"1080p":true,"sourceImage":true,"lastFrame":true,"referenceVideo":true,"referenceAudio":true},
  "creditsPerSecond":{"720p":10,"1080p":20}},
 {"name":"open","maxDurationSec":12,"requestsPerMinute":100000,"jobsInFlight":1,
  "allow":{"1080p":true,"sourceImage":true,"lastFrame":true,"referenceVideo":true,"referenceAudio":true},
  "creditsPerSecond":{"720p":10,"1080p":20}}]}
JSON
export HAPPYHORSE_PLANS=$HH_TMP/plans.json
PASS='account-limits-password'
mk_user() { # EMAIL PLAN CREDITS: creates a user with a password; prints a new key
  hh admin user create --email "$1" --plan "$2" --credits "$3" --password-stdin <<<"$PASS" >/dev/null
  hh admin key create --email "$1"
}
balance() { hh admin user show --email "$1" | jq -r .credits; }
ledger_sum() { hh admin user ledger --email "$1" --limit 1000 | jq '[.[].amount] | add'; }
create() { # KEY [DURATION [PROMPT]]: POST /api/v1/videos; sets STATUS, BODY
  req POST /api/v1/videos -H "Authorization: Bearer $1" -H "Content-Type: application/json" \
    -d "$(jq -nc --arg p "${3:-a horse in the rain}" --argjson d "${2:-3}" '{prompt:$p,durationSec:$d}')"
}
login() { # EMAIL: sets COOKIE and CSRF
  req POST /api/dashboard/login -H 'Content-Type: application/json' \
    --data-binary "$(jq -nc --arg e "$1" --arg p "$PASS" '{email:$e,password:$p}')"
  assert_eq 200 "$STATUS" "login $1"
  COOKIE=$(header Set-Cookie | sed -n 's/^hh_session=\([^;]*\);.*/\1/p')
  CSRF=$(jq -r .csrfToken "$BODY")
}

printf '# words we do not render\nBad Word\n\xe7\xa6\x81\xe6\xad\xa2\xe8\xaf\x8d\n\xef\xbc\xb8\xef\xbc\xb9\xef\xbc\xba\n' \
  >"$HH_TMP/blocklist.txt" # Bad Word, 禁止词, ＸＹＺ

KREV=$(mk_user revoke@example.com open 1000)
KSUS=$(mk_user suspend@example.com open 1000)
KCAP=$(mk_user cap@example.com capped 100000)
KRACE=$(mk_user race@example.com capped 100000)
KDAY=$(mk_user day@example.com capped 100000)
KWORD=$(mk_user words@example.com open 1000)
start_server --workers 0 --blocklist "$HH_TMP/blocklist.txt"
PORT=${BASE##*:}

# --- authorization again in the charging transaction ---
# late_body KEY ACTION...: sends a create's headers with Expect: 100-continue, waits for the 100
# (the guard has passed), runs ACTION, then sends the body; prints the status.
late_body() {
  local key=$1
  shift
  late_request /api/v1/videos "Authorization: Bearer $key" "$@"
}
# late_request PATH HEADERS ACTION...: the same for any create route; HEADERS are the
# credentials' header lines, separated by "|".
late_request() {
  local path=$1 headers=$2
  shift 2
  python3 - "$PORT" "$path" "$headers" "$HH_TMP/late.fifo" <<'PY' &
import os, socket, sys
port, path, headers, fifo = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
body = b'{"prompt":"a horse in the rain","durationSec":3}'
s = socket.create_connection(("127.0.0.1", port), timeout=30)
creds = "".join(h + "\r\n" for h in headers.split("|"))
s.sendall((f"POST {path} HTTP/1.1\r\nHost: x\r\n{creds}"
           f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
           "Expect: 100-continue\r\n\r\n").encode())
got = b""
while b"\r\n\r\n" not in got:
    got += s.recv(4096)
assert got.startswith(b"HTTP/1.1 100"), got
with open(fifo, "w") as f:
    f.write("continued\n")
with open(fifo) as f:
    f.read()                      # the action has run
s.sendall(body)
got = b""
while b"\r\n\r\n" not in got:
    got += s.recv(4096)
print(got.split(b" ", 2)[1].decode())
PY
  local pid=$!
  read -r _ <"$HH_TMP/late.fifo"
  "$@" >/dev/null
  echo done >"$HH_TMP/late.fifo"
  wait "$pid"
}
mkfifo "$HH_TMP/late.fifo"
before=$(balance revoke@example.com)
id=$(hh admin key list --email revoke@example.com | jq -r '.[0].id')
assert_eq 401 "$(late_body "$KREV" hh admin key delete --email revoke@example.com --id "$id" | tail -1)" \
  "a key deleted between the headers and the body"
K2=$(hh admin key create --email revoke@example.com)
assert_eq 401 "$(late_body "$K2" hh admin user api-access --email revoke@example.com --off | tail -1)" \
  "API access switched off between the headers and the body"
hh admin user api-access --email revoke@example.com --on
K3=$(hh admin key create --email revoke@example.com)
assert_eq 401 "$(late_body "$K3" hh admin user disable --email revoke@example.com | tail -1)" \
  "the account suspended between the headers and the body"
assert_eq "$before" "$(balance revoke@example.com)" "nothing was charged"
assert_eq 0 "$(hh admin video list --email revoke@example.com | jq length)" "no video was made"
hh admin user enable --email revoke@example.com >/dev/null
login revoke@example.com
assert_eq 401 "$(late_request /api/dashboard/videos "Cookie: hh_session=$COOKIE|X-CSRF-Token: $CSRF" \
  curl -s -o /dev/null -X POST "$BASE/api/dashboard/logout" -H "Cookie: hh_session=$COOKIE" \
  -H "X-CSRF-Token: $CSRF" | tail -1)" "a dashboard session ended between the headers and the body"
assert_eq "$before" "$(balance revoke@example.com)" "the ended session charged nothing"
assert_eq 0 "$(hh admin video list --email revoke@example.com | jq length)" "and made no video"
create "$K3"
assert_eq 202 "$STATUS" "the reinstated account creates again"

# --- suspension: keys and sessions stop, queued videos refunded ---
create "$KSUS"
v1=$(jq -r .id "$BODY")
create "$KSUS" 5
v2=$(jq -r .id "$BODY")
assert_eq 920 "$(balance suspend@example.com)" "two videos charged (30 + 50)"
login suspend@example.com
req GET /api/dashboard/me -H "Cookie: hh_session=$COOKIE"
assert_eq 200 "$STATUS" "the session works before"
hh_run env HAPPYHORSE_DATA="$DATA" "$HH_BIN" admin user disable --email suspend@example.com \
  --message "Suspended for abuse."
assert_eq 0 "$RUN_RC" "admin user disable: $RUN_ERR"
assert_json "$RUN_OUT" .videosCanceled 2 "two queued videos canceled"
assert_json "$RUN_OUT" .creditsRefunded 80 "their 80 credits refunded"
assert_json "$RUN_OUT" .sessionsEnded 1 "one session ended"
assert_exit 1 env HAPPYHORSE_DATA="$DATA" "$HH_BIN" admin user disable --email suspend@example.com
assert_contains "$RUN_ERR" "already" "suspending twice"
assert_eq true "$(hh admin user show --email suspend@example.com | jq -r .disabled)" "user show says so"
create "$KSUS"
assert_eq 401 "$STATUS" "the key of a suspended account"
assert_eq invalid_api_key "$(error_code)" "its code"
assert_contains "$(jq -r .error.message "$BODY")" "suspended" "its message"
req GET /api/dashboard/me -H "Cookie: hh_session=$COOKIE"
assert_eq 401 "$STATUS" "the session of a suspended account"
req POST /api/dashboard/login -H 'Content-Type: application/json' \
  --data-binary "$(jq -nc --arg p "$PASS" '{email:"suspend@example.com",password:$p}')"
assert_eq 403 "$STATUS" "a suspended account's sign-in, right password"
assert_eq forbidden "$(error_code)" "its code"
for v in "$v1" "$v2"; do
  j=$(hh admin video show --id "$v")
  assert_json "$j" .status failed "video $v failed"
  assert_json "$j" .errorMessage "Suspended for abuse." "video $v's message"
done
assert_eq 1000 "$(balance suspend@example.com)" "the balance is whole again"
assert_eq 1000 "$(ledger_sum suspend@example.com)" "and equals the ledger's sum"
hh admin user enable --email suspend@example.com >/dev/null
assert_eq false "$(hh admin user show --email suspend@example.com | jq -r .disabled)" "reinstated"
create "$KSUS"
assert_eq 202 "$STATUS" "the key works again"

# --- maxQueuedJobs ---
for i in 1 2 3; do
  create "$KCAP"
  assert_eq 202 "$STATUS" "queued video $i of 3"
done
b=$(balance cap@example.com)
create "$KCAP"
assert_eq 429 "$STATUS" "a fourth queued video"
assert_eq rate_limited "$(error_code)" "its code"
assert_eq 3 "$(jq -r .error.maxQueuedJobs "$BODY")" "it names the cap"
assert_match '^[0-9]+$' "$(header Retry-After)" "it says when to retry"
assert_eq "$b" "$(balance cap@example.com)" "the refusal charged nothing"
id=$(hh admin video list --email cap@example.com | jq -r '.[0].id')
hh admin video fail --id "$id" >/dev/null
create "$KCAP"
assert_eq 202 "$STATUS" "a place freed, a create goes in"
# Eight at once for three places: exactly three get in.
for i in 1 2 3 4 5 6 7 8; do
  curl -s -o /dev/null -w '%{http_code}\n' -X POST "$BASE/api/v1/videos" \
    -H "Authorization: Bearer $KRACE" -H "Content-Type: application/json" \
    -d '{"prompt":"a horse in the rain","durationSec":3}' >"$HH_TMP/race.$i" &
done
wait_jobs=$(jobs -p | grep -vx "$SERVER_PID" || true)
[ -z "$wait_jobs" ] || wait $wait_jobs
assert_eq "3 5" "$(grep -c '^202$' "$HH_TMP"/race.* | awk -F: '{s+=$2} END {print s}') $(grep -c '^429$' "$HH_TMP"/race.* | awk -F: '{s+=$2} END {print s}')" \
  "eight racing creates for three places: three in, five refused"
assert_eq 3 "$(hh admin video list --email race@example.com | jq length)" "three videos made"
assert_eq "$(balance race@example.com)" "$(ledger_sum race@example.com)" "balance == ledger sum"

# --- maxCreditsPerDay (100: two 5 s videos at 10 credits a second) ---
create "$KDAY" 5
assert_eq 202 "$STATUS" "50 credits today"
create "$KDAY" 5
assert_eq 202 "$STATUS" "100 credits today"
create "$KDAY" 3
assert_eq 429 "$STATUS" "past the daily cap"
assert_eq rate_limited "$(error_code)" "its code"
assert_eq 100 "$(jq -r .error.spentToday "$BODY")" "it says what was spent"
assert_eq 100 "$(jq -r .error.maxCreditsPerDay "$BODY")" "and the cap"
ra=$(header Retry-After)
[ "$ra" -ge 1 ] && [ "$ra" -le 86400 ] || fail "Retry-After $ra is not the rest of the UTC day"
HH_ASSERTS=$((HH_ASSERTS + 1))
id=$(hh admin video list --email day@example.com | jq -r '.[0].id')
hh admin video fail --id "$id" >/dev/null # a refund takes its credits off today's spend
create "$KDAY" 5
assert_eq 202 "$STATUS" "refunded credits can be spent again"

# --- the prompt blocklist ---
blocked() { # PROMPT WHAT
  create "$KWORD" 3 "$1"
  assert_eq 400 "$STATUS" "$2"
  assert_eq invalid_input "$(error_code)" "$2: code"
  assert_eq prompt "$(jq -r .error.field "$BODY")" "$2: field"
}
blocked "a BAD    word in the rain" "case and spaces"
blocked "$(printf '\xef\xbc\xa2\xef\xbc\xa1\xef\xbc\xa4\xe3\x80\x80\xef\xbd\x97\xef\xbd\x8f\xef\xbd\x92\xef\xbd\x84 here')" \
  "full width and the ideographic space"
blocked "$(printf '\xe8\xbf\x99\xe6\x98\xaf\xe7\xa6\x81\xe6\xad\xa2\xe8\xaf\x8d\xe7\x9a\x84\xe4\xbe\x8b\xe5\xad\x90')" \
  "a Chinese phrase inside Chinese text"
blocked "abc xyz def" "a full-width phrase met in ASCII"
create "$KWORD" 3 "a badword, a horse"
assert_eq 202 "$STATUS" "a clean prompt"
login words@example.com
req POST /api/dashboard/videos -H "Cookie: hh_session=$COOKIE" -H "X-CSRF-Token: $CSRF" \
  -H 'Content-Type: application/json' -d '{"prompt":"some BAD WORD","durationSec":3}'
assert_eq 400 "$STATUS" "the dashboard's create too"
assert_eq prompt "$(jq -r .error.field "$BODY")" "the dashboard's field"
create "$KWORD" 3 "a horse in the rain"
assert_eq 202 "$STATUS" "horse is fine, before the reload"
echo "Horse" >>"$HH_TMP/blocklist.txt"
kill -HUP "$SERVER_PID"
for _ in $(seq 1 100); do
  [ "$(grep -c '"msg":"prompt blocklist loaded"' "$SERVER_LOG")" -ge 2 ] && break
  sleep 0.1
done
blocked "a horse in the rain" "a phrase added, SIGHUP"
printf 'ok\n\xff\n' >"$HH_TMP/blocklist.txt"
kill -HUP "$SERVER_PID"
for _ in $(seq 1 100); do
  grep -q 'blocklist not reloaded' "$SERVER_LOG" && break
  sleep 0.1
done
grep -q 'blocklist not reloaded.*line 2: not valid UTF-8' "$SERVER_LOG" || fail "a bad reload is not logged"
HH_ASSERTS=$((HH_ASSERTS + 1))
blocked "a horse in the rain" "a bad reload keeps the old list"
stop_server
assert_exit 2 env HAPPYHORSE_DATA="$DATA" "$HH_BIN" serve --listen 127.0.0.1:0 --blocklist "$HH_TMP/blocklist.txt"
assert_contains "$RUN_ERR" "line 2: not valid UTF-8" "a bad blocklist at start names its line"

# --- the audit log ---
hh admin credits grant --email cap@example.com --amount 7 --note "goodwill" >/dev/null
hh admin user show --email cap@example.com >/dev/null # a read: not recorded
log=$(hh admin audit list --limit 1000)
assert_json "$log" '.[0].action' "credits grant" "the newest entry"
assert_json "$log" '.[0].target' "cap@example.com" "its target"
assert_json "$log" '.[0].options["--amount"]' 7 "its options"
assert_json "$log" '.[0].actor' "$(id -un)" "its actor"
assert_json "$log" '[.[] | select(.action == "user disable" and .target == "suspend@example.com")] | .[0].options["--message"]' \
  "Suspended for abuse." "the suspension is recorded"
assert_json "$log" '[.[] | select(.action == "user show")] | length' 0 "reads are not recorded"
assert_json "$log" '[.[] | select(.action == "user create")] | length' 6 "the six users made"
first=$(printf '%s' "$log" | jq -r '.[0].id')
assert_json "$(hh admin audit list --limit 1 --before "$first")" '.[0].id' "$((first - 1))" "paging"
hh_done
