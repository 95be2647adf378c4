#!/usr/bin/env bash
# test_auth.sh - contract section 1 over real HTTP against the built binary:
# every authentication case, the free plan's rate limit (the 31st request
# in a minute is 429 with Retry-After), the RateLimit headers, request ids,
# unknown routes and wrong methods, the system routes, last-used batching
# and a graceful stop.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
hh admin user create --email free@example.com --plan free --credits 100 >/dev/null
hh admin user create --email pro@example.com --plan pro >/dev/null
FREE_KEY=$(hh admin key create --email free@example.com --name ci)
PRO_KEY=$(hh admin key create --email pro@example.com --name ci)
GONE_KEY=$(hh admin key create --email pro@example.com --name gone)
GONE_ID=$(hh admin key list --email pro@example.com | jq -r '.[] | select(.name=="gone") | .id')
hh admin key delete --email pro@example.com --id "$GONE_ID"
start_server

expect_error() { # STATUS CODE description
  assert_eq "$1" "$STATUS" "$3: status"
  assert_eq "$2" "$(error_code)" "$3: error code"
  assert_eq string "$(jq -r '.error.message | type' "$BODY")" "$3: message"
  assert_eq "application/json" "$(header Content-Type)" "$3: content type"
}

# --- authentication, in the contract's words ---
req GET /api/v1/account
expect_error 401 missing_api_key "no Authorization header"
req GET /api/v1/account -H "Authorization: Basic dXNlcjpwYXNz"
expect_error 401 missing_api_key "Basic credentials"
req GET /api/v1/account -H "Authorization: Bearer"
expect_error 401 missing_api_key "Bearer without a token"
req GET /api/v1/account -H "Authorization: $PRO_KEY"
expect_error 401 missing_api_key "token without a scheme"
req GET /api/v1/account -H "Authorization: Bearer hh_live_short"
expect_error 401 invalid_api_key "malformed key"
req GET /api/v1/account -H "Authorization: Bearer ${PRO_KEY}x"
expect_error 401 invalid_api_key "key with a byte too many"
req GET /api/v1/account -H "Authorization: Bearer hh_live_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
expect_error 401 invalid_api_key "well-formed unknown key"
req GET /api/v1/account -H "Authorization: Bearer $GONE_KEY"
expect_error 401 invalid_api_key "deleted key"
[ -z "$(header RateLimit)" ] || fail "an unauthenticated response carries RateLimit"

req GET /api/v1/account -H "Authorization: bearer   $PRO_KEY"
assert_eq 200 "$STATUS" "working key (scheme case-insensitive)"
assert_eq pro@example.com "$(jq -r .email "$BODY")" "the key's own account"
assert_eq pro "$(jq -r .plan.name "$BODY")" "plan"
assert_eq '"default";q=300;w=60' "$(header RateLimit-Policy)" "RateLimit-Policy of pro"
assert_match '^"default";r=29[0-9];t=[0-9]+$' "$(header RateLimit)" "RateLimit header"
assert_match '^[A-Za-z0-9._-]{8,64}$' "$(header X-Request-Id)" "generated request id"

# API access switched off: the keys stop working.
hh admin user api-access --email pro@example.com --off
req GET /api/v1/account -H "Authorization: Bearer $PRO_KEY"
expect_error 401 invalid_api_key "workspace without API access"
hh admin user api-access --email pro@example.com --on

# --- rate limit: 30/min on free; 31 requests on one keep-alive connection ---
urls=()
for _ in $(seq 31); do urls+=(-o /dev/null "$BASE/api/v1/account"); done
codes=$(curl -s -w '%{http_code}\n' -H "Authorization: Bearer $FREE_KEY" "${urls[@]}")
assert_eq 200 "$(echo "$codes" | head -30 | sort -u)" "first 30 requests of the minute"
assert_eq 429 "$(echo "$codes" | tail -1)" "31st request"
req GET /api/v1/account -H "Authorization: Bearer $FREE_KEY"
expect_error 429 rate_limited "over the limit"
assert_match '^[1-9][0-9]*$' "$(header Retry-After)" "Retry-After seconds"
assert_match '^"default";r=0;t=[0-9]+$' "$(header RateLimit)" "RateLimit when exhausted"
# Another key is not affected by the first one's exhaustion.
req GET /api/v1/account -H "Authorization: Bearer $PRO_KEY"
assert_eq 200 "$STATUS" "other key still served"

# --- routing ---
req GET /api/v1/nothing-here -H "Authorization: Bearer $PRO_KEY"
expect_error 404 not_found "unknown route"
req DELETE /api/v1/account -H "Authorization: Bearer $PRO_KEY"
expect_error 405 invalid_input "wrong method"
assert_match 'GET' "$(header Allow)" "Allow lists GET"
req GET /healthz -H "X-Request-Id: trace-abc.123"
assert_eq 200 "$STATUS" "healthz"
assert_eq "trace-abc.123" "$(header X-Request-Id)" "client request id echoed"
req GET /readyz
assert_eq 200 "$STATUS" "readyz"
assert_eq ready "$(jq -r .status "$BODY")" "readyz body"
req GET /metrics
assert_eq 200 "$STATUS" "metrics"
grep -q '^happyhorse_build_info{version="' "$BODY" || fail "metrics: build_info missing"
grep -q 'happyhorse_http_requests_total{route="account.get",status="429"}' "$BODY" ||
  fail "metrics: 429s of account.get not counted"

# --- the access log never holds a secret ---
grep -q '"route":"account.get"' "$SERVER_LOG" || fail "access log lacks the route"
if grep -q -e "$PRO_KEY" -e "$FREE_KEY" "$SERVER_LOG"; then fail "a key reached the log"; fi

# --- last-used is written in batches, at the latest on a graceful stop ---
stop_server
last=$(hh admin key list --email pro@example.com | jq -r '.[] | select(.name=="ci") | .lastUsedAt')
assert_match '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T' "$last" "lastUsedAt recorded"
never=$(hh admin key list --email free@example.com | jq -r '.[0].lastUsedAt')
assert_match '^20' "$never" "free key lastUsedAt recorded"
hh_done
