#!/usr/bin/env bash
# test_cli_admin.sh - the operator's `happyhorse admin` (contract section 7)
# driven as an operator would: the real binary on a real data directory.
# Every command, its JSON on stdout, and its exit status on every kind of
# mistake (0 success, 1 runtime failure, 2 bad usage, one line on stderr).
# The operator's additions at the end: user list (pages, --plan), user
# password (stdin; the old password and sessions stop working, against a
# real server), credits adjust (both ways, never below zero, an adjustment
# row, balance == ledger sum), plan list, stats against videos created
# and failed over HTTP, and video list across users (--email, --status,
# pages) with each video's URL a full URL under the server's public base,
# fetched.
. "$(dirname "$0")/lib.sh"

unset HAPPYHORSE_DATA HAPPYHORSE_DATABASE_URL HAPPYHORSE_PLANS
. "$HH_SRC/tests/api/store.sh"
DATA="$HH_TMP/data"
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
KEY_RE='^hh_live_[A-Za-z0-9_-]{43}$'

# admin ARGS... : the command under test on this test's data directory.
admin() { "$HH_BIN" admin "$@" --data "$DATA"; }

# expect STATUS ARGS... : admin ARGS fails with STATUS, nothing on stdout,
# exactly one line on stderr naming the command.
expect() {
  local want=$1
  shift
  assert_exit "$want" admin "$@"
  assert_eq "" "$RUN_OUT" "stdout of failing 'admin $*'"
  assert_eq 1 "$(printf '%s\n' "$RUN_ERR" | wc -l)" "stderr lines of 'admin $*': $RUN_ERR"
  assert_match '^happyhorse admin' "$RUN_ERR" "stderr of 'admin $*'"
}

# ---- help and dispatch ----
assert_exit 0 "$HH_BIN" admin --help
assert_contains "$RUN_OUT" "user" "admin --help"
assert_exit 2 "$HH_BIN" admin
assert_exit 2 "$HH_BIN" admin bogus
assert_exit 2 "$HH_BIN" admin user
assert_exit 2 "$HH_BIN" admin user bogus
for cmd in "user create" "user show" "user api-access" "user ledger" "key create" "key list" \
  "key delete" "credits grant" "plan set"; do
  # shellcheck disable=SC2086
  assert_exit 0 "$HH_BIN" admin $cmd --help
  assert_match "^usage: happyhorse admin $cmd " "$RUN_OUT" "$cmd --help"
  assert_contains "$RUN_OUT" "--data DIR" "$cmd --help"
done
assert_exit 0 "$HH_BIN" admin key --help
assert_contains "$RUN_OUT" "delete" "key --help"
[ ! -e "$DATA" ] || fail "help created the data directory"

# ---- user create / show ----
assert_exit 0 admin user create --email ann@example.com --plan pro --credits 250
assert_match "$UUID_RE" "$RUN_OUT" "user create prints the id"
ANN=$RUN_OUT
assert_eq 700 "$(stat -c %a "$DATA")" "data directory mode"
[ -f "$DATA/happyhorse.db" ] || fail "no database file in $DATA"

assert_exit 0 admin user show --email ANN@Example.COM
SHOW=$RUN_OUT
assert_json "$SHOW" .id "$ANN"
assert_json "$SHOW" .email ann@example.com
assert_json "$SHOW" .plan pro
assert_json "$SHOW" .credits 250
assert_json "$SHOW" .apiAccess true
assert_match "$TIME_RE" "$(jq -r .createdAt <<<"$SHOW")" createdAt
assert_json "$SHOW" 'keys_unsorted | join(",")' "id,email,plan,credits,apiAccess,createdAt,disabled"
assert_json "$SHOW" .disabled false "a new user is not suspended"

# --credits is a grant in the ledger, not a bare balance.
assert_exit 0 admin user ledger --email ann@example.com
assert_json "$RUN_OUT" length 1
assert_json "$RUN_OUT" '.[0].kind' grant
assert_json "$RUN_OUT" '.[0].amount' 250
assert_json "$RUN_OUT" '.[0].balanceAfter' 250

# Defaults: plan free, API access on, no credits, no ledger rows.
assert_exit 0 admin user create --email bob@example.com
BOB=$RUN_OUT
assert_ne "$ANN" "$BOB" "ids differ"
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .plan free
assert_json "$RUN_OUT" .credits 0
assert_json "$RUN_OUT" .apiAccess true
assert_exit 0 admin user ledger --email bob@example.com
assert_json "$RUN_OUT" length 0
assert_exit 0 admin user create --email carol@example.com --credits 0 --no-api-access
assert_exit 0 admin user show --email carol@example.com
assert_json "$RUN_OUT" .apiAccess false
assert_json "$RUN_OUT" .credits 0

# Mistakes.
expect 1 user create --email ann@example.com
expect 1 user create --email ANN@EXAMPLE.COM --plan basic
expect 1 user show --email nobody@example.com
expect 2 user show
expect 2 user show --email
expect 2 user show --email not-an-email
expect 2 user show --email "a b@example.com"
expect 2 user show --email ann@example.com --bogus
expect 2 user show --email ann@example.com extra
expect 2 user create --email dan@example.com --plan gold
expect 2 user create --email dan@example.com --credits -1
expect 2 user create --email dan@example.com --credits 1.5
expect 2 user create --email dan@example.com --credits ten
expect 2 user create --email dan@example.com --on
assert_exit 1 admin user show --email dan@example.com

# ---- passwords ----
expect 2 user create --email dan@example.com --password-stdin <<<short
expect 2 user create --email dan@example.com --password-stdin </dev/null
expect 2 user create --email dan@example.com --password-stdin <<<"$(printf 'x%.0s' {1..1100})"
assert_exit 0 admin user create --email dan@example.com --password-stdin <<<'correct horse battery'
assert_match "$UUID_RE" "$RUN_OUT" "user create --password-stdin prints the id"
HASH=$(store_sql "SELECT password_hash FROM users WHERE email = 'dan@example.com'")
assert_match '^\$argon2id\$v=19\$m=19456,t=2,p=1\$' "$HASH" "stored password hash"
assert_not_contains "$HASH" "correct horse" "stored password hash"
NOPW=$(store_sql "SELECT count(*) FROM users WHERE password_hash IS NULL")
assert_eq 3 "$NOPW" "users without a password"

# ---- api-access ----
assert_exit 0 admin user api-access --email bob@example.com --off
assert_eq "" "$RUN_OUT" "api-access prints nothing"
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .apiAccess false
expect 1 key create --email bob@example.com
assert_exit 0 admin user api-access --email bob@example.com --on
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .apiAccess true
expect 2 user api-access --email bob@example.com
expect 2 user api-access --email bob@example.com --on --off
expect 1 user api-access --email nobody@example.com --on

# ---- keys ----
assert_exit 0 admin key create --email ann@example.com --name ci
assert_match "$KEY_RE" "$RUN_OUT" "key create prints the key alone"
assert_eq 1 "$(printf '%s\n' "$RUN_OUT" | wc -l)" "key create prints one line"
K1=$RUN_OUT
assert_exit 0 admin key create --email ann@example.com
K2=$RUN_OUT
assert_match "$KEY_RE" "$K2" "second key"
assert_ne "$K1" "$K2" "keys differ"
DUMP=$(store_dump)
assert_not_contains "$DUMP" "${K1#hh_live_}" "the database holds no secret"

assert_exit 0 admin key list --email ann@example.com
LIST=$RUN_OUT
assert_json "$LIST" length 2
assert_json "$LIST" '.[0].name' default
assert_json "$LIST" '.[1].name' ci
assert_json "$LIST" '.[1].prefix' "${K1:0:12}"
assert_json "$LIST" '.[0].prefix' "${K2:0:12}"
assert_json "$LIST" '.[0].lastUsedAt' null
assert_json "$LIST" '.[0] | keys_unsorted | join(",")' "id,name,prefix,createdAt,lastUsedAt"
assert_match "$TIME_RE" "$(jq -r '.[1].createdAt' <<<"$LIST")" "key createdAt"
ID1=$(jq -r '.[1].id' <<<"$LIST")
assert_match "$UUID_RE" "$ID1" "key id"
assert_exit 0 admin key list --email bob@example.com
assert_json "$RUN_OUT" length 0

expect 1 key delete --email bob@example.com --id "$ID1"
assert_exit 0 admin key delete --email ann@example.com --id "$ID1"
assert_eq "" "$RUN_OUT" "key delete prints nothing"
assert_exit 0 admin key list --email ann@example.com
assert_json "$RUN_OUT" length 1
assert_json "$RUN_OUT" '.[0].prefix' "${K2:0:12}"
expect 1 key delete --email ann@example.com --id "$ID1"
expect 2 key delete --email ann@example.com --id not-a-key-id
expect 2 key delete --email ann@example.com
expect 1 key delete --email nobody@example.com --id "$ID1"
expect 1 key create --email nobody@example.com
expect 1 key list --email nobody@example.com
expect 2 key create --email ann@example.com --name "$(printf 'n%.0s' {1..128})"
expect 2 key list --email ann@example.com --name x

# ---- credits ----
assert_exit 0 admin credits grant --email bob@example.com --amount 40 --note "welcome pack"
assert_json "$RUN_OUT" .credits 40
assert_json "$RUN_OUT" .granted 40
assert_json "$RUN_OUT" .email bob@example.com
assert_exit 0 admin credits grant --email bob@example.com --amount 2
assert_json "$RUN_OUT" .credits 42
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .credits 42
assert_exit 0 admin user ledger --email bob@example.com
assert_json "$RUN_OUT" length 2
assert_json "$RUN_OUT" '.[1].note' "welcome pack"
assert_json "$RUN_OUT" '.[0].note' null
assert_json "$RUN_OUT" '[.[].amount] | add' 42
for bad in 0 -5 1.5 abc "" 1e3 " 7" 0x10 9999999999999999999; do
  expect 2 credits grant --email bob@example.com --amount "$bad"
done
expect 2 credits grant --email bob@example.com
expect 2 credits grant --email bob@example.com --amount 5 --bogus
expect 2 credits grant --email bob@example.com --amount 5 --note "$(printf 'n%.0s' {1..256})"
expect 1 credits grant --email nobody@example.com --amount 5
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .credits 42 "refused grants changed nothing"

# Ledger pages.
assert_exit 0 admin user ledger --email bob@example.com --limit 1
assert_json "$RUN_OUT" length 1
assert_json "$RUN_OUT" '.[0].amount' 2
NEXT=$(jq -r '.[0].id' <<<"$RUN_OUT")
assert_exit 0 admin user ledger --email bob@example.com --limit 1 --before "$NEXT"
assert_json "$RUN_OUT" '.[0].amount' 40
expect 2 user ledger --email bob@example.com --limit 0
expect 2 user ledger --email bob@example.com --limit 1001
expect 2 user ledger --email bob@example.com --before x
expect 1 user ledger --email nobody@example.com

# ---- plans ----
assert_exit 0 admin plan set --email bob@example.com --plan max
assert_eq "" "$RUN_OUT" "plan set prints nothing"
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .plan max
expect 2 plan set --email bob@example.com --plan gold
expect 2 plan set --email bob@example.com --plan ""
expect 2 plan set --email bob@example.com
expect 1 plan set --email nobody@example.com --plan pro

# A plans file adds a plan; --plans and HAPPYHORSE_PLANS both read it.
cat >"$HH_TMP/plans.json" <<'JSON'
{"plans": [
  {"name": "free", "maxDurationSec": 5, "requestsPerMinute": 30, "jobsInFlight": 1,
   "allow": {"1080p": false, "sourceImage": true, "lastFrame": false,
             "referenceVideo": false, "referenceAudio": false},
   "creditsPerSecond": {"720p": 10, "1080p": 20}},
  {"name": "gold", "maxDurationSec": 10, "requestsPerMinute": 100, "jobsInFlight": 3,
   "allow": {"1080p": true, "sourceImage": true, "lastFrame": false,
             "referenceVideo": false, "referenceAudio": false},
   "creditsPerSecond": {"720p": 10, "1080p": 20}}
]}
JSON
assert_exit 0 admin plan set --email bob@example.com --plan gold --plans "$HH_TMP/plans.json"
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .plan gold
HAPPYHORSE_PLANS="$HH_TMP/plans.json" assert_exit 0 admin user create --email eve@example.com \
  --plan gold
HAPPYHORSE_PLANS="$HH_TMP/plans.json" assert_exit 2 admin plan set --email eve@example.com \
  --plan pro
echo '{not json' >"$HH_TMP/broken.json"
expect 1 plan set --email bob@example.com --plan pro --plans "$HH_TMP/broken.json"
expect 1 plan set --email bob@example.com --plan pro --plans "$HH_TMP/missing.json"

# ---- where the store is ----
# HAPPYHORSE_DATA when there is no --data; ./data when neither.
HAPPYHORSE_DATA="$DATA" assert_exit 0 "$HH_BIN" admin user show --email ann@example.com
assert_json "$RUN_OUT" .id "$ANN"
mkdir "$HH_TMP/cwd"
(cd "$HH_TMP/cwd" && "$HH_BIN" admin user create --email local@example.com >/dev/null) ||
  fail "user create with the default data directory"
[ -f "$HH_TMP/cwd/data/happyhorse.db" ] || fail "default data directory is not ./data"
# --data wins over HAPPYHORSE_DATA.
HAPPYHORSE_DATA="$HH_TMP/cwd/data" assert_exit 0 admin user show --email ann@example.com
# HAPPYHORSE_DATABASE_URL wins when set; PostgreSQL is refused (1), its password never printed.
HAPPYHORSE_DATABASE_URL="postgres://hh:s3cr3t@db.example/hh" assert_exit 1 admin user show \
  --email ann@example.com
assert_contains "$RUN_ERR" "PostgreSQL" "postgres refusal"
assert_not_contains "$RUN_ERR" "s3cr3t" "postgres refusal"
# A data path that cannot be a directory.
touch "$HH_TMP/file"
assert_exit 1 "$HH_BIN" admin user show --email ann@example.com --data "$HH_TMP/file"

# Everything done above left the data intact across processes.
assert_exit 0 admin user show --email ann@example.com
assert_json "$RUN_OUT" .credits 250
assert_json "$RUN_OUT" .plan pro

# ---- the operator's additions ----
for cmd in "user list" "user password" "credits adjust" "plan list" stats; do
  # shellcheck disable=SC2086
  assert_exit 0 "$HH_BIN" admin $cmd --help
  assert_match "^usage: happyhorse admin $cmd" "$RUN_OUT" "$cmd --help"
done

# user list: oldest first, by plan, a page at a time.
for i in 1 2 3 4 5; do
  admin user create --email "page$i@example.com" --plan basic >/dev/null
done
assert_exit 0 admin user list --plan basic --limit 2
assert_json "$RUN_OUT" '[.[].email] | join(",")' "page1@example.com,page2@example.com" "first page"
page=$RUN_OUT
assert_exit 0 admin user show --email page1@example.com
shown=$(jq -c 'keys_unsorted' <<<"$RUN_OUT")
assert_contains "$shown" '"apiAccess"' "user show's fields"
assert_json "$page" '[.[] | keys_unsorted] | unique | map(tojson) | join(" ")' "$shown" \
  "each user as user show prints it"
RUN_OUT=$page
after=$(jq -r '.[-1].id' <<<"$RUN_OUT")
assert_exit 0 admin user list --plan basic --limit 2 --after "$after"
assert_json "$RUN_OUT" '[.[].email] | join(",")' "page3@example.com,page4@example.com" "second page"
after=$(jq -r '.[-1].id' <<<"$RUN_OUT")
assert_exit 0 admin user list --plan basic --limit 2 --after "$after"
assert_json "$RUN_OUT" '[.[].email] | join(",")' "page5@example.com" "last page"
after=$(jq -r '.[-1].id' <<<"$RUN_OUT")
assert_exit 0 admin user list --plan basic --after "$after"
assert_eq "[]" "$RUN_OUT" "past the last page"
assert_exit 0 admin user list
all=$(jq length <<<"$RUN_OUT")
[ "$all" -ge 7 ] || fail "user list without --plan shows only $all users"
assert_json "$RUN_OUT" '[.[].plan] | unique | length > 1' true "every plan without --plan"
assert_exit 0 admin user list --plan gone-plan
assert_eq "[]" "$RUN_OUT" "a plan nobody is on"
expect 2 user list --plan 'Not A Plan'
expect 2 user list --limit 0
expect 2 user list --limit 1001
expect 2 user list --after 12
expect 2 user list --email x@example.com

# credits adjust: up and down to exactly zero, never below; an adjustment row each.
admin user create --email adj@example.com --credits 100 >/dev/null
assert_exit 0 admin credits adjust --email adj@example.com --amount 25 --note "goodwill"
assert_json "$RUN_OUT" '[.adjusted, .credits] | join(",")' "25,125" "adjust up"
assert_exit 0 admin credits adjust --email adj@example.com --amount -120 --note "mistaken grant"
assert_json "$RUN_OUT" '[.adjusted, .credits] | join(",")' "-120,5" "adjust down"
expect 1 credits adjust --email adj@example.com --amount -6
assert_contains "$RUN_ERR" "below zero" "adjusting below zero"
assert_exit 0 admin credits adjust --email adj@example.com --amount -5
assert_json "$RUN_OUT" .credits 0 "down to exactly zero"
expect 1 credits adjust --email adj@example.com --amount -1
expect 2 credits adjust --email adj@example.com --amount 0
expect 2 credits adjust --email adj@example.com --amount 1.5
expect 2 credits adjust --email adj@example.com --amount -1000000000001
expect 2 credits adjust --email adj@example.com
expect 1 credits adjust --email nobody@example.com --amount 1
assert_exit 0 admin user ledger --email adj@example.com
assert_json "$RUN_OUT" '[.[] | select(.kind == "adjustment") | .amount] | join(",")' "-5,-120,25" \
  "three adjustment rows, newest first"
assert_json "$RUN_OUT" '[.[] | select(.kind == "adjustment")][1].note' "mistaken grant" "the note"
assert_json "$RUN_OUT" '[.[].amount] | add' 0 "balance == ledger sum"

# plan list: the plans as the plans file says them.
assert_exit 0 admin plan list
assert_json "$RUN_OUT" '[.[].name] | join(",")' "free,basic,pro,max" "the built-in plans"
assert_json "$RUN_OUT" '[.[] | .watermark] | join(",")' "true,false,false,false" "watermark"
assert_json "$RUN_OUT" '[.[] | .publish] | all' true "publish"
printf '{"plans":[{"name":"solo","maxDurationSec":4,"requestsPerMinute":5,"jobsInFlight":1,%s' \
  '"allow":{"1080p":true,"sourceImage":true,"lastFrame":true,"referenceVideo":true,"referenceAudio":true},"creditsPerSecond":{"720p":3,"1080p":6},"publish":false}]}' \
  >"$HH_TMP/solo.json"
assert_exit 0 admin plan list --plans "$HH_TMP/solo.json"
assert_json "$RUN_OUT" '.[0] | [.name, .maxDurationSec, .publish, .watermark, .engine] | join(",")' \
  "solo,4,false,false,procedural" "an operator's plans file"
expect 1 plan list --plans "$HH_TMP/broken.json"

# user password and stats, against a real server.
. "$HH_SRC/tests/api/server.sh"
hh admin user create --email pw@example.com --plan pro --credits 1000 --password-stdin \
  <<<'first-password' >/dev/null
start_server --workers 0
login() { # PASSWORD -> sets STATUS, COOKIE
  req POST /api/dashboard/login -H 'Content-Type: application/json' \
    -d "$(jq -nc --arg p "$1" '{email:"pw@example.com",password:$p}')"
  COOKIE=$(header Set-Cookie | sed -n 's/^hh_session=\([^;]*\);.*/\1/p' || true)
}
login first-password
assert_status 200 "$STATUS" "login with the first password"
OLD_COOKIE=$COOKIE
expect 2 user password --email pw@example.com <<<"short"
expect 2 user password --email pw@example.com </dev/null
expect 1 user password --email nobody@example.com <<<"long-enough-password"
assert_exit 0 admin user password --email pw@example.com <<<"second-password"
assert_eq "" "$RUN_OUT" "user password prints nothing"
login first-password
assert_status 401 "$STATUS" "the old password no longer signs in"
req GET /api/dashboard/me -H "Cookie: hh_session=$OLD_COOKIE"
assert_status 401 "$STATUS" "the old session ended"
login second-password
assert_status 200 "$STATUS" "the new password signs in"
admin user create --email nopw@example.com >/dev/null
assert_exit 0 admin user password --email nopw@example.com <<<"set-for-the-first-time"

# stats: two videos charged, one failed by the operator and refunded.
KEY=$(hh admin key create --email pw@example.com)
ids=()
for d in 3 5; do
  req POST /api/v1/videos -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d "{\"prompt\":\"stats $d\",\"durationSec\":$d}"
  assert_status 202 "$STATUS" "create"
  ids+=("$(jq -r .id "$BODY")")
done
assert_exit 0 admin video fail --id "${ids[1]}"
stop_server
assert_exit 0 admin stats
S=$RUN_OUT
assert_json "$S" '.videos | [.queued, .processing, .ready, .failed] | join(",")' "1,0,0,1" "videos by status"
assert_json "$S" '.queue | [.queued, .running, .leaseExpired, .waitingUsers] | join(",")' "1,0,0,1" "the queue"
assert_match "$TIME_RE" "$(jq -r .queue.oldestQueuedAt <<<"$S")" "oldest queued job"
# Sums over the days shown (a run that spans midnight UTC has two days; all rows are this test's).
assert_json "$S" '[.credits[].day | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] | all' true "UTC days"
assert_json "$S" '[.credits[].charged] | add' 80 "credits charged (30 + 50)"
assert_json "$S" '[.credits[].refunded] | add' 50 "credits refunded (the failed video)"
assert_json "$S" '[.credits[].adjusted] | add' -100 "adjustments (+25 -120 -5)"
granted=$(store_sql "SELECT SUM(amount) FROM ledger WHERE kind = 'grant'")
assert_json "$S" '[.credits[].granted] | add' "$granted" "credits granted"
assert_exit 0 admin stats --days 1
assert_json "$RUN_OUT" '.credits | length' 1 "--days 1"
expect 2 stats --days 0
expect 2 stats --days x
expect 2 stats --email a@example.com

# video list across users: a ready video of one user (rendered by a worker) beside the two failed
# ones of pw@example.com (the queued one above failed first, so the worker renders only the new
# one); URLs under the public base, as the API's.
assert_exit 0 admin video fail --id "${ids[0]}"
admin user create --email vid@example.com --credits 100 >/dev/null
VKEY=$(hh admin key create --email vid@example.com)
start_server --workers 1
req POST /api/v1/videos -H "Authorization: Bearer $VKEY" -H 'Content-Type: application/json' \
  -d '{"prompt":"listed by the operator","durationSec":3}'
assert_status 202 "$STATUS" "create of the video to list"
READY=$(jq -r .id "$BODY")
for _ in $(seq 600); do
  req GET "/api/v1/videos/$READY" -H "Authorization: Bearer $VKEY"
  [ "$(jq -r .status "$BODY")" = ready ] && break
  sleep 0.1
done
assert_json "$(cat "$BODY")" .status ready "the video to list is ready"
API_VIDEO=$(cat "$BODY")
assert_exit 0 admin video list --public-url "$BASE/"
L=$RUN_OUT
assert_json "$L" 'length' 3 "every user's videos"
assert_json "$L" '[.[].id] | join(",")' "$READY,${ids[1]},${ids[0]}" "newest first"
assert_json "$L" '[.[].email] | join(",")' "vid@example.com,pw@example.com,pw@example.com" "each with its owner"
assert_json "$L" '.[0].userId' "$(hh admin user show --email vid@example.com | jq -r .id)" "the owner's id"
assert_json "$L" '[.[].status] | join(",")' "ready,failed,failed" "statuses"
VURL=$(jq -r '.[0].videoUrl' <<<"$L")
assert_eq "$BASE/files/videos/outputs/$READY.mp4" "$VURL" "videoUrl is a full URL"
assert_eq "$(jq -r .videoUrl <<<"$API_VIDEO")" "$VURL" "the same URL as the API's"
assert_eq "$(jq -r .thumbnailUrl <<<"$API_VIDEO")" "$(jq -r '.[0].thumbnailUrl' <<<"$L")" "thumbnailUrl as the API's"
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "$VURL")" "the URL serves the video"
assert_json "$L" '.[1].videoUrl' null "no URL for a failed video"
assert_exit 0 admin video show --id "$READY" --public-url "$BASE"
assert_json "$RUN_OUT" .videoUrl "$VURL" "video show: the same URL"
stop_server
# The base as serve makes it: HAPPYHORSE_PUBLIC_URL, else http://<HAPPYHORSE_LISTEN>.
assert_json "$(HAPPYHORSE_PUBLIC_URL=https://videos.example.com admin video list --limit 1)" \
  '.[0].videoUrl' "https://videos.example.com/files/videos/outputs/$READY.mp4" "HAPPYHORSE_PUBLIC_URL"
assert_json "$(HAPPYHORSE_LISTEN=10.0.0.5:9000 admin video list --limit 1)" \
  '.[0].videoUrl' "http://10.0.0.5:9000/files/videos/outputs/$READY.mp4" "http://<HAPPYHORSE_LISTEN>"
assert_json "$(admin video list --limit 1)" '.[0].videoUrl' \
  "http://127.0.0.1:8080/files/videos/outputs/$READY.mp4" "the default base"
# Filters and pages.
assert_exit 0 admin video list --status failed
assert_json "$RUN_OUT" '[.[].id] | join(",")' "${ids[1]},${ids[0]}" "--status failed"
assert_exit 0 admin video list --status ready --email vid@example.com
assert_json "$RUN_OUT" '[.[].id] | join(",")' "$READY" "--status and --email"
assert_exit 0 admin video list --email pw@example.com
assert_json "$RUN_OUT" '[.[].id] | join(",")' "${ids[1]},${ids[0]}" "--email: one user's"
assert_exit 0 admin video list --limit 2
assert_json "$RUN_OUT" 'length' 2 "--limit 2"
assert_exit 0 admin video list --limit 2 --before "$(jq -r '.[1].id' <<<"$RUN_OUT")"
assert_json "$RUN_OUT" '[.[].id] | join(",")' "${ids[0]}" "the next page"
assert_exit 0 admin video list --status queued
assert_eq "[]" "$RUN_OUT" "no queued video"
expect 2 video list --status done
expect 2 video list --email not-an-email
expect 2 video list --before 42
expect 2 video list --limit 0
expect 1 video list --email nobody@example.com

hh_done
