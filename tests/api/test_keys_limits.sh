#!/usr/bin/env bash
# test_keys_limits.sh - API keys and request rates per account:
#  - a plan's maxApiKeys caps the live keys of a user, in the admin CLI
#    and the dashboard (a deleted key frees a place);
#  - listings page through every key: 1,005 keys made before the cap
#    existed are all listed by `admin key list` and, page by page, by the
#    dashboard (none hides past the first thousand);
#  - the plan's requests per minute hold per account: two keys of one user
#    share one bucket (N keys are not N times the rate);
#  - the dashboard's session routes are rate limited with the same budget.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
cat >"$HH_TMP/plans.json" <<'JSON'
{"plans":[{"name":"small","maxDurationSec":5,"requestsPerMinute":3,"jobsInFlight":1,"maxApiKeys":2,
 "allow":{"1080p":false,"sourceImage":true,"lastFrame":false,"referenceVideo":false,"referenceAudio":false},
 "creditsPerSecond":{"720p":10,"1080p":20}},
 {"name":"roomy","maxDurationSec":5,"requestsPerMinute":100000,"jobsInFlight":1,
 "allow":{"1080p":false,"sourceImage":true,"lastFrame":false,"referenceVideo":false,"referenceAudio":false},
 "creditsPerSecond":{"720p":10,"1080p":20}}]}
JSON
export HAPPYHORSE_PLANS=$HH_TMP/plans.json
PASS='keys-limit-password'
hh admin user create --email k@example.com --plan small --password-stdin <<<"$PASS" >/dev/null
hh admin user create --email many@example.com --plan roomy --password-stdin <<<"$PASS" >/dev/null

# --- the plan's maxApiKeys, in the admin CLI ---
K1=$(hh admin key create --email k@example.com --name one)
K2=$(hh admin key create --email k@example.com --name two)
assert_exit 1 env HAPPYHORSE_DATA="$DATA" "$HH_BIN" admin key create --email k@example.com --name three
assert_contains "$RUN_ERR" "maxApiKeys" "the refusal names the plan's limit"
assert_eq 2 "$(hh admin key list --email k@example.com | jq length)" "two live keys"

# --- 1,005 keys from before the cap: every listing pages through all of them ---
uid=$(hh admin user show --email many@example.com | jq -r .id)
if store_is_pg; then
  store_sql "INSERT INTO api_keys (id, user_id, name, hash, prefix, created_at)
    SELECT '00000000-0000-7000-8000-' || lpad(n::text, 12, '0'), '$uid', 'old ' || n,
    sha256(n::text::bytea), 'hh_live_old', n FROM generate_series(1, 1005) AS n;"
else
  store_sql "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c
    WHERE n < 1005) INSERT INTO api_keys (id, user_id, name, hash, prefix, created_at)
    SELECT printf('00000000-0000-7000-8000-%012d', n), '$uid', 'old ' || n, randomblob(32),
    'hh_live_old', n FROM c;"
fi
assert_eq 1005 "$(hh admin key list --email many@example.com | jq length)" "admin key list: all 1005"

start_server --workers 0
json_login() { # EMAIL: signs in; sets COOKIE and CSRF
  req POST /api/dashboard/login -H 'Content-Type: application/json' \
    --data-binary "$(jq -nc --arg e "$1" --arg p "$PASS" '{email:$e,password:$p}')"
  assert_eq 200 "$STATUS" "login $1"
  COOKIE=$(header Set-Cookie | sed -n 's/^hh_session=\([^;]*\);.*/\1/p')
  CSRF=$(jq -r .csrfToken "$BODY")
}
json_login many@example.com
seen=0 before="" pages=0
while :; do
  req GET "/api/dashboard/keys?limit=100${before:+&before=$before}" -H "Cookie: hh_session=$COOKIE"
  assert_eq 200 "$STATUS" "dashboard keys page $pages"
  seen=$((seen + $(jq '.keys | length' "$BODY")))
  pages=$((pages + 1))
  before=$(jq -r '.nextBefore // empty' "$BODY")
  [ -n "$before" ] || break
  [ "$pages" -le 20 ] || fail "the key pages do not end"
done
assert_eq 1005 "$seen" "the dashboard pages through all 1005 keys"
assert_eq 11 "$pages" "in pages of 100"
req GET "/api/dashboard/keys?before=nonsense" -H "Cookie: hh_session=$COOKIE"
assert_eq 400 "$STATUS" "a before that is not a key id"

# --- the plan's maxApiKeys, in the dashboard ---
json_login k@example.com
DASH=(-H "Cookie: hh_session=$COOKIE" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json')
req POST /api/dashboard/keys "${DASH[@]}" --data-binary '{"name":"third"}'
assert_eq 403 "$STATUS" "a third key in the dashboard"
assert_eq forbidden "$(error_code)" "a third key: code"
assert_eq 2 "$(jq -r .error.maxApiKeys "$BODY")" "a third key: the limit"
id=$(hh admin key list --email k@example.com | jq -r '.[0].id')
hh admin key delete --email k@example.com --id "$id"
req POST /api/dashboard/keys "${DASH[@]}" --data-binary '{"name":"third"}'
assert_eq 201 "$STATUS" "a deleted key frees a place"
K3=$(jq -r .secret "$BODY")

# --- one rate per account: two keys share the plan's 3 a minute ---
# K1 may be the deleted one: use the two live keys.
live=()
for k in "$K1" "$K2" "$K3"; do
  req GET /api/v1/account -H "Authorization: Bearer $k"
  [ "$STATUS" = 401 ] || live+=("$k")
done
assert_eq 2 "${#live[@]}" "two live keys"
# The probe took two requests of the account's three (one per live key): one is left.
req GET /api/v1/account -H "Authorization: Bearer ${live[0]}"
assert_eq 200 "$STATUS" "the account's third request"
codes=""
for k in "${live[0]}" "${live[1]}"; do
  req GET /api/v1/account -H "Authorization: Bearer $k"
  codes+="$STATUS "
done
assert_eq "429 429 " "$codes" "both keys refused once the account's three are spent"
assert_eq rate_limited "$(error_code)" "the refusal's code"
assert_match '^[0-9]+$' "$(header Retry-After)" "the refusal's Retry-After"
assert_contains "$(header RateLimit-Policy)" "q=3" "the account's policy"

# --- the dashboard's session routes draw on the plan's rate too ---
codes=""
for i in 1 2 3 4; do
  req GET /api/dashboard/me -H "Cookie: hh_session=$COOKIE"
  codes+="$STATUS "
done
assert_eq "200 429 429 429 " "$codes" "GET /me past the plan's 3 a minute (the create above took two)"
assert_eq rate_limited "$(error_code)" "the dashboard's refusal"
stop_server
hh_done
