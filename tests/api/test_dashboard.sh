#!/usr/bin/env bash
# test_dashboard.sh - the dashboard's JSON API (docs/dashboard-api.md) and
# static files over real HTTP against the built binary: no session → 401,
# a missing or wrong CSRF token → 403, sessions stored only as hashes,
# cookie attributes (Secure behind https), expiry and logout, API keys made
# in the dashboard working (and then refused) on the Customer API, another
# user's objects unreachable, a workspace without API access, ledger
# pagination, the login limits (per account: slowed down, never locked out;
# per address: no spraying; X-Forwarded-For believed only from a trusted
# proxy), sign-up on and off, and the web app's files with their security
# headers.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
PASS_A='correct horse battery staple'
PASS_B='another-good-password'
hh admin user create --email a@example.com --plan pro --credits 500 --password-stdin <<<"$PASS_A" >/dev/null
hh admin user create --email b@example.com --plan basic --credits 100 --password-stdin <<<"$PASS_B" >/dev/null
hh admin user create --email nokeys@example.com --plan free --password-stdin <<<"$PASS_B" >/dev/null
hh admin user api-access --email nokeys@example.com --off
hh admin user create --email rl@example.com --password-stdin <<<"$PASS_B" >/dev/null
for i in 1 2 3 4; do hh admin credits grant --email a@example.com --amount "$i" --note "grant $i" >/dev/null; done
start_server

expect_error() { # STATUS CODE description
  assert_eq "$1" "$STATUS" "$3: status"
  assert_eq "$2" "$(error_code)" "$3: error code"
  assert_eq "application/json" "$(header Content-Type)" "$3: content type"
}
json_post() { # PATH JSON [curl args...]
  local path=$1 body=$2; shift 2
  req POST "$path" -H 'Content-Type: application/json' --data-binary "$body" "$@"
}
# login EMAIL PASSWORD: signs in; sets COOKIE (the hh_session value) and CSRF.
login() {
  json_post /api/dashboard/login "$(jq -nc --arg e "$1" --arg p "$2" '{email:$e,password:$p}')"
  assert_eq 200 "$STATUS" "login $1"
  COOKIE=$(header Set-Cookie | sed -n 's/^hh_session=\([^;]*\);.*/\1/p')
  CSRF=$(jq -r .csrfToken "$BODY")
}

# --- no session: 401 on every session route, before anything else ---
for route in "GET /api/dashboard/me" "GET /api/dashboard/plans" "GET /api/dashboard/keys" \
  "GET /api/dashboard/ledger" "POST /api/dashboard/logout" "POST /api/dashboard/keys" \
  "DELETE /api/dashboard/keys/x"; do
  req ${route% *} "${route#* }"
  expect_error 401 unauthenticated "$route without a session"
done
req GET /api/dashboard/me -H "Cookie: hh_session=$(printf 'A%.0s' $(seq 43))"
expect_error 401 unauthenticated "unknown session"
req GET /api/dashboard/me -H "Cookie: hh_session=short"
expect_error 401 unauthenticated "malformed session"

# --- login ---
req POST /api/dashboard/login -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-binary "email=a@example.com&password=x"
expect_error 400 invalid_input "login from a form post (no CSRF-free form logins)"
json_post /api/dashboard/login '{"email":"a@example.com","password":"wrong password"}'
expect_error 401 unauthenticated "wrong password"
wrong_msg=$(jq -r .error.message "$BODY")
json_post /api/dashboard/login '{"email":"nobody@example.com","password":"whatever pass"}'
expect_error 401 unauthenticated "unknown email"
assert_eq "$wrong_msg" "$(jq -r .error.message "$BODY")" "unknown email and wrong password look alike"
json_post /api/dashboard/login '{"email":"a@example.com","password":"x","remember":true}'
expect_error 400 invalid_input "unknown field"
assert_eq remember "$(jq -r .error.field "$BODY")" "unknown field named"

login a@example.com "$PASS_A"
set_cookie=$(header Set-Cookie)
assert_match '^hh_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax$' \
  "$set_cookie" "session cookie attributes (no Secure over http)"
assert_eq a@example.com "$(jq -r .user.email "$BODY")" "login answers the user"
assert_match '^[A-Za-z0-9_-]{43}$' "$CSRF" "CSRF token"
# The store keeps only the SHA-256 of the cookie's secret.
want=$(printf '%s' "$COOKIE" | tr '_-' '/+' | sed 's/$/=/' | base64 -d | sha256sum | cut -c1-64)
hex_of='lower(hex(id_hash))'
store_is_pg && hex_of="encode(id_hash, 'hex')"
got=$(store_sql "SELECT $hex_of FROM sessions")
assert_eq "$want" "$got" "stored session id is the SHA-256 of the secret"
assert_not_contains "$(store_dump)" "$COOKIE" "the database dump (the session secret must not be in it)"
if grep -q -e "$COOKIE" -e "$PASS_A" "$SERVER_LOG"; then fail "a secret reached the log"; fi
A=(-H "Cookie: hh_session=$COOKIE")
A_CSRF=$CSRF

req GET /api/dashboard/me "${A[@]}"
assert_eq 200 "$STATUS" "me"
assert_eq "$A_CSRF" "$(jq -r .csrfToken "$BODY")" "me repeats the CSRF token"
assert_eq pro "$(jq -r .plan.name "$BODY")" "me: plan"
assert_eq true "$(jq -r .plan.allow.referenceAudio "$BODY")" "me: plan gates"
assert_eq 510 "$(jq -r .user.credits "$BODY")" "me: balance"
assert_eq no-store "$(header Cache-Control)" "me is not cached"

# The sign-in page learns whether a session is live from config, which never answers 401.
req GET /api/dashboard/config "${A[@]}"
assert_eq true "$(jq -r .signedIn "$BODY")" "config: the cookie is a live session"
req GET /api/dashboard/config -H "Cookie: hh_session=${COOKIE%?}x"
assert_eq "200 false" "$STATUS $(jq -r .signedIn "$BODY")" "config: a wrong cookie is no session, and no 401"
req GET /api/dashboard/config
assert_eq false "$(jq -r .signedIn "$BODY")" "config: no cookie, no session"

req GET /api/dashboard/plans "${A[@]}"
assert_eq "free basic pro max" "$(jq -r '[.plans[].name] | join(" ")' "$BODY")" "plans, cheapest first"

# --- CSRF: every state-changing request needs the session's token ---
json_post /api/dashboard/keys '{"name":"ci"}' "${A[@]}"
expect_error 403 forbidden "create key without CSRF token"
json_post /api/dashboard/keys '{"name":"ci"}' "${A[@]}" -H "X-CSRF-Token: ${A_CSRF%?}x"
expect_error 403 forbidden "create key with a wrong CSRF token"
req GET /api/dashboard/keys "${A[@]}"
assert_eq 0 "$(jq '.keys | length' "$BODY")" "nothing was created without CSRF"

# --- API keys made in the dashboard work on the Customer API ---
json_post /api/dashboard/keys '{"name":"  ci server  "}' "${A[@]}" -H "X-CSRF-Token: $A_CSRF"
assert_eq 201 "$STATUS" "create key"
SECRET=$(jq -r .secret "$BODY")
KEY_ID=$(jq -r .key.id "$BODY")
assert_match '^hh_live_[A-Za-z0-9_-]{43}$' "$SECRET" "full secret shown once"
assert_eq "ci server" "$(jq -r .key.name "$BODY")" "name trimmed"
assert_eq "${SECRET:0:12}" "$(jq -r .key.prefix "$BODY")" "display prefix"
req GET /api/v1/account -H "Authorization: Bearer $SECRET"
assert_eq 200 "$STATUS" "the new key works on the Customer API"
assert_eq a@example.com "$(jq -r .email "$BODY")" "as its own workspace"
req GET /api/dashboard/keys "${A[@]}"
assert_eq 1 "$(jq '.keys | length' "$BODY")" "listed"
assert_not_contains "$(cat "$BODY")" "$SECRET" "the list never shows the secret"
assert_eq "$KEY_ID" "$(jq -r '.keys[0].id' "$BODY")" "list: id"
for bad in '{"name":""}' '{"name":"   "}' '{}' '{"name":"x","scope":"all"}' '{"name":5}' \
  "{\"name\":\"$(printf 'n%.0s' $(seq 101))\"}" '{"name":"tab\u0001"}' \
  "{\"name\":\"$(printf 'é%.0s' $(seq 64))\"}"; do
  json_post /api/dashboard/keys "$bad" "${A[@]}" -H "X-CSRF-Token: $A_CSRF"
  expect_error 400 invalid_input "key name $bad"
done
json_post /api/dashboard/keys "{\"name\":\"$(printf 'n%.0s' $(seq 100))\"}" "${A[@]}" -H "X-CSRF-Token: $A_CSRF"
assert_eq 201 "$STATUS" "a name of 100 characters"
json_post /api/dashboard/keys "{\"name\":\"$(printf 'é%.0s' $(seq 63))\"}" "${A[@]}" -H "X-CSRF-Token: $A_CSRF"
assert_eq 201 "$STATUS" "a name of 126 bytes"



# --- another user's objects are unreachable ---
login b@example.com "$PASS_B"
B=(-H "Cookie: hh_session=$COOKIE")
B_CSRF=$CSRF
req GET /api/dashboard/keys "${B[@]}"
assert_eq 0 "$(jq '.keys | length' "$BODY")" "B does not see A's keys"
req DELETE "/api/dashboard/keys/$KEY_ID" "${B[@]}" -H "X-CSRF-Token: $B_CSRF"
expect_error 404 not_found "B deleting A's key"
req DELETE "/api/dashboard/keys/$KEY_ID" "${B[@]}" -H "X-CSRF-Token: $A_CSRF"
expect_error 403 forbidden "A's CSRF token with B's session"
req GET /api/dashboard/ledger "${B[@]}"
assert_eq 100 "$(jq -r .balance "$BODY")" "B's balance"
assert_eq 1 "$(jq '.entries | length' "$BODY")" "B sees only its own ledger"
req GET /api/v1/account -H "Authorization: Bearer $SECRET"
assert_eq 200 "$STATUS" "A's key survived B's attempt"

# --- deleting a key: CSRF first, then the key stops working ---
req DELETE "/api/dashboard/keys/$KEY_ID" "${A[@]}"
expect_error 403 forbidden "delete without CSRF token"
req DELETE "/api/dashboard/keys/$KEY_ID" "${A[@]}" -H "X-CSRF-Token: $A_CSRF"
assert_eq 204 "$STATUS" "delete key"
req GET /api/v1/account -H "Authorization: Bearer $SECRET"
expect_error 401 invalid_api_key "a deleted key is refused"
req DELETE "/api/dashboard/keys/$KEY_ID" "${A[@]}" -H "X-CSRF-Token: $A_CSRF"
expect_error 404 not_found "second delete"

# --- a workspace without API access has no key page ---
login nokeys@example.com "$PASS_B"
N=(-H "Cookie: hh_session=$COOKIE" -H "X-CSRF-Token: $CSRF")
req GET /api/dashboard/keys "${N[@]}"
expect_error 403 forbidden "list keys without API access"
json_post /api/dashboard/keys '{"name":"x"}' "${N[@]}"
expect_error 403 forbidden "create key without API access"
req GET /api/dashboard/me "${N[@]}"
assert_eq false "$(jq -r .user.apiAccess "$BODY")" "me says so"

# --- ledger pagination: 5 entries, pages of 2 ---
req GET '/api/dashboard/ledger?limit=2' "${A[@]}"
assert_eq 200 "$STATUS" "ledger page 1"
assert_eq "4 3" "$(jq -r '[.entries[].amount] | join(" ")' "$BODY")" "page 1, newest first"
assert_eq "grant 4" "$(jq -r '.entries[0].note' "$BODY")" "entry note"
assert_eq 510 "$(jq -r '.entries[0].balanceAfter' "$BODY")" "balanceAfter"
next=$(jq -r .nextBefore "$BODY")
req GET "/api/dashboard/ledger?limit=2&before=$next" "${A[@]}"
assert_eq "2 1" "$(jq -r '[.entries[].amount] | join(" ")' "$BODY")" "page 2"
next=$(jq -r .nextBefore "$BODY")
req GET "/api/dashboard/ledger?limit=2&before=$next" "${A[@]}"
assert_eq "500" "$(jq -r '[.entries[].amount] | join(" ")' "$BODY")" "last page"
assert_eq null "$(jq -r .nextBefore "$BODY")" "no page after the last"
for q in limit=0 limit=101 limit=x limit=-1 before=-5 'before=1e3' 'limit=%2B5'; do
  req GET "/api/dashboard/ledger?$q" "${A[@]}"
  expect_error 400 invalid_input "ledger ?$q"
done

# --- presign through the dashboard: the Customer API's table and errors ---
PRESIGN='{"kind":"image","contentType":"image/png","sizeBytes":1000}'
json_post /api/dashboard/uploads/presign "$PRESIGN" "${A[@]}"
expect_error 403 forbidden "presign without CSRF token"
json_post /api/dashboard/uploads/presign "$PRESIGN" "${A[@]}" -H "X-CSRF-Token: $A_CSRF"
assert_eq 200 "$STATUS" "presign"
A_ID=$(store_sql "SELECT id FROM users WHERE email = 'a@example.com'")
assert_match "^videos/inputs/$A_ID/[0-9a-f-]+\.png$" "$(jq -r .key "$BODY")" "key under the user's folder"
json_post /api/dashboard/uploads/presign '{"kind":"audio","contentType":"audio/mp4","sizeBytes":10}' "${A[@]}" -H "X-CSRF-Token: $A_CSRF"
expect_error 400 upload_type_not_supported "audio/mp4"
json_post /api/dashboard/uploads/presign '{"kind":"image","contentType":"image/png","sizeBytes":10485761}' "${A[@]}" -H "X-CSRF-Token: $A_CSRF"
expect_error 413 upload_file_too_large "10 MB + 1"

# --- videos through the dashboard: the Customer API's rules, CSRF, isolation ---
VID='{"prompt":"A quiet lake at dawn","durationSec":3}'
json_post /api/dashboard/videos "$VID" "${A[@]}"
expect_error 403 forbidden "create video without CSRF token"
json_post /api/dashboard/videos '{"prompt":"A quiet lake","durationSec":3,"model":"x"}' "${A[@]}" -H "X-CSRF-Token: $A_CSRF"
expect_error 400 invalid_input "unknown field, as on the Customer API"
assert_eq model "$(jq -r .error.field "$BODY")" "field named"
json_post /api/dashboard/videos '{"prompt":"A quiet lake","durationSec":9,"resolution":"1080p"}' "${B[@]}" -H "X-CSRF-Token: $B_CSRF"
expect_error 403 plan_gate_exceeded "basic plan, 9 s"
assert_eq "durationSec pro basic" "$(jq -r '.error | "\(.field) \(.requiredPlan) \(.currentPlan)"' "$BODY")" "gate fields"
json_post /api/dashboard/videos '{"prompt":"A quiet lake","durationSec":8,"resolution":"1080p"}' "${B[@]}" -H "X-CSRF-Token: $B_CSRF"
expect_error 402 insufficient_credits "160 credits with 100"
assert_eq "160 100" "$(jq -r '.error | "\(.required) \(.balance)"' "$BODY")" "credit fields"
json_post /api/dashboard/videos "$VID" "${A[@]}" -H "X-CSRF-Token: $A_CSRF" -H "Idempotency-Key: dash-1"
assert_eq 202 "$STATUS" "create video"
VIDEO_ID=$(jq -r .id "$BODY")
json_post /api/dashboard/videos "$VID" "${A[@]}" -H "X-CSRF-Token: $A_CSRF" -H "Idempotency-Key: dash-1"
assert_eq "$VIDEO_ID" "$(jq -r .id "$BODY")" "idempotent replay"
req GET "/api/dashboard/videos/$VIDEO_ID" "${A[@]}"
assert_eq 200 "$STATUS" "get own video"
assert_eq 30 "$(jq -r .credits.charged "$BODY")" "charged once, the plan's price"
req GET "/api/dashboard/videos/$VIDEO_ID" "${B[@]}"
expect_error 404 not_found "another user's video"
req GET /api/dashboard/videos "${B[@]}"
assert_eq 0 "$(jq '.videos | length' "$BODY")" "B's gallery is empty"
req GET /api/dashboard/ledger?limit=1 "${A[@]}"
assert_eq "charge -30 $VIDEO_ID" "$(jq -r '.entries[0] | "\(.kind) \(.amount) \(.ref)"' "$BODY")" "the charge in A's ledger"
for i in 2 3; do
  json_post /api/dashboard/videos "$VID" "${A[@]}" -H "X-CSRF-Token: $A_CSRF"
  assert_eq 202 "$STATUS" "create video $i"
done
req GET '/api/dashboard/videos?limit=2' "${A[@]}"
assert_eq 2 "$(jq '.videos | length' "$BODY")" "gallery page 1"
next=$(jq -r .nextBefore "$BODY")
req GET "/api/dashboard/videos?limit=2&before=$next" "${A[@]}"
assert_eq "$VIDEO_ID" "$(jq -r '[.videos[].id] | join(" ")' "$BODY")" "gallery page 2: the oldest"
assert_eq null "$(jq -r .nextBefore "$BODY")" "gallery ends"
req GET '/api/dashboard/videos?before=not-an-id' "${A[@]}"
expect_error 400 invalid_input "gallery with a bad cursor"

# --- expiry and logout ---
store_sql "UPDATE sessions SET expires_at = 1 WHERE user_id =
  (SELECT id FROM users WHERE email = 'nokeys@example.com')"
req GET /api/dashboard/me "${N[@]}"
expect_error 401 unauthenticated "expired session"
assert_match '^hh_session=; Path=/; Max-Age=0' "$(header Set-Cookie)" "expired session cookie cleared"
req POST /api/dashboard/logout "${A[@]}"
expect_error 403 forbidden "logout without CSRF token"
req POST /api/dashboard/logout "${A[@]}" -H "X-CSRF-Token: $A_CSRF"
assert_eq 204 "$STATUS" "logout"
assert_match '^hh_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax$' "$(header Set-Cookie)" \
  "logout clears the cookie"
req GET /api/dashboard/me "${A[@]}"
expect_error 401 unauthenticated "session after logout"
req GET /api/dashboard/me "${B[@]}"
assert_eq 200 "$STATUS" "another user's session lives on"

# --- login limits (docs/security-and-limits.md) ---
# Per account, whoever asks: five checks at once, then one every 2 s. Eight wrong passwords
# together (the email's case changed in half): five or six are checked, the rest answered 429
# with a Retry-After of a second or two; then the owner's right password works: slowed down,
# never locked out.
for i in 1 2 3 4 5 6 7 8; do
  email=rl@example.com
  [ $((i % 2)) = 0 ] && email=RL@Example.com
  curl -s -o "$HH_TMP/rl.$i.body" -D "$HH_TMP/rl.$i.head" -w '%{http_code}\n' -X POST \
    "$BASE/api/dashboard/login" -H 'Content-Type: application/json' \
    --data-binary "{\"email\":\"$email\",\"password\":\"guess guess\"}" >"$HH_TMP/rl.$i.code" &
done
wait_jobs=$(jobs -p | grep -vx "$SERVER_PID" || true)
[ -z "$wait_jobs" ] || wait $wait_jobs
checked=$(cat "$HH_TMP"/rl.*.code | grep -c '^401$' || true)
limited=$(cat "$HH_TMP"/rl.*.code | grep -c '^429$' || true)
assert_eq 8 "$((checked + limited))" "eight answers, each 401 or 429"
[ "$checked" -ge 5 ] && [ "$checked" -le 7 ] || fail "$checked of eight attempts checked, want 5 to 7"
HH_ASSERTS=$((HH_ASSERTS + 1))
wait_s=0
for f in $(grep -l '^429$' "$HH_TMP"/rl.*.code); do
  head=${f%code}head
  ra=$(grep -i '^Retry-After:' "$head" | cut -d: -f2 | tr -d ' \r')
  assert_match '^[12]$' "$ra" "Retry-After of an account's 429: a second or two"
  assert_eq rate_limited "$(jq -r .error.code "${f%code}body")" "the 429's envelope"
  [ "$ra" -gt "$wait_s" ] && wait_s=$ra
done
sleep "$wait_s"
login rl@example.com "$PASS_B" # the owner's right password, a couple of seconds later
login a@example.com "$PASS_A"  # another account is not affected

# --- sign-up is off by default ---
json_post /api/dashboard/signup '{"email":"new@example.com","password":"long enough pw"}'
expect_error 404 not_found "signup when off"
req GET /api/dashboard/config
assert_eq false "$(jq -r .signupAllowed "$BODY")" "config says sign-up is off"

# --- the web app's files ---
req GET /
assert_eq 200 "$STATUS" "sign-in page"
assert_eq "text/html; charset=utf-8" "$(header Content-Type)" "html type"
csp=$(header Content-Security-Policy)
assert_contains "$csp" "script-src 'self';" "CSP: scripts only from the origin"
assert_not_contains "$csp" "unsafe-inline" "CSP: nothing inline"
assert_contains "$csp" "frame-ancestors 'none'" "CSP: no framing"
assert_eq nosniff "$(header X-Content-Type-Options)" "nosniff"
assert_eq no-cache "$(header Cache-Control)" "HTML revalidated"
grep -q 'id="auth-form"' "$BODY" || fail "/ is not the sign-in page"
for p in /app /app/ /app/keys /app/credits; do
  req GET "$p"
  assert_eq 200 "$STATUS" "$p"
  grep -q 'id="page-workbench"' "$BODY" || fail "$p is not the app shell"
done
req GET /assets/app.js
assert_eq "text/javascript; charset=utf-8" "$(header Content-Type)" "js type"
assert_eq "public, max-age=300" "$(header Cache-Control)" "assets cached briefly"
etag=$(header ETag)
req GET /assets/app.js -H "If-None-Match: $etag"
assert_eq 304 "$STATUS" "revalidation"
head_status=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' -I "$BASE/assets/style.css")
assert_eq "200 0" "$head_status" "HEAD: headers only"
for p in /assets/../index.html /assets/.hidden /assets/nope.js /assets/x.sh /app.html /index.html \
  /assets/%2e%2e/app.html; do
  req GET "$p" --path-as-is
  assert_eq 404 "$STATUS" "$p is not served"
done
# No inline script or style anywhere in web/, so the CSP above holds.
if grep -rnE '<script(>| [^>]*>[^<])|<script>|[[:space:]]style=|[[:space:]]on[a-z]+="' "$HH_SRC"/web/*.html; then
  fail "inline code in web/"
fi
stop_server

# --- behind https: Secure cookies; sign-up when the operator allows it ---
start_server --public-url https://video.example.test --allow-signup
req GET /api/dashboard/config
assert_eq true "$(jq -r .signupAllowed "$BODY")" "config says sign-up is on"
json_post /api/dashboard/signup '{"email":"new@example.com","password":"short"}'
expect_error 400 invalid_input "password too short"
assert_eq password "$(jq -r .error.field "$BODY")" "field of a short password"
json_post /api/dashboard/signup '{"email":"a@example.com","password":"long enough pw"}'
expect_error 400 invalid_input "email taken"
json_post /api/dashboard/signup '{"email":"new@example.com","password":"long enough pw"}'
assert_eq 201 "$STATUS" "signup"
assert_match '; HttpOnly; SameSite=Lax; Secure$' "$(header Set-Cookie)" "Secure over https"
assert_eq free "$(jq -r .user.plan "$BODY")" "new accounts start on the cheapest plan"
assert_eq false "$(jq -r .user.apiAccess "$BODY")" "and without API access"
assert_eq 0 "$(jq -r .user.credits "$BODY")" "and no credits"
req GET /
assert_contains "$(header Content-Security-Policy)" "media-src 'self' blob: https://video.example.test;" \
  "CSP lets the page play assets from the public URL"
stop_server

# --- login limits per address: spraying stops; behind a trusted proxy, per client ---
# spray N [XFF]: N sign-ins at once with random emails, with X-Forwarded-For XFF (a printf
# format of the attempt's number, or none); prints the count of 401s, then of the 429s that name
# the address, then of the 503s (the work pool shedding what waited 10 s for a thread).
spray() {
  local n=$1 xff=${2:-} i
  rm -f "$HH_TMP"/sp.*
  for i in $(seq 1 "$n"); do
    # shellcheck disable=SC2059
    curl -s -o "$HH_TMP/sp.$i.body" -w '%{http_code}\n' -X POST "$BASE/api/dashboard/login" \
      -H 'Content-Type: application/json' ${xff:+-H "X-Forwarded-For: $(printf "$xff" "$i")"} \
      --data-binary "{\"email\":\"spray$i.$RANDOM@example.com\",\"password\":\"guess guess\"}" \
      >"$HH_TMP/sp.$i.code" &
  done
  wait_jobs=$(jobs -p | grep -vx "$SERVER_PID" || true)
  [ -z "$wait_jobs" ] || wait $wait_jobs
  echo "$(cat "$HH_TMP"/sp.*.code | grep -c '^401$' || true) $(grep -l 'your address' "$HH_TMP"/sp.*.body 2>/dev/null | wc -l) $(cat "$HH_TMP"/sp.*.code | grep -c '^503$' || true)"
}
start_server --trusted-proxy 127.0.0.1
# 60 at once. Their password checks (Argon2, under ASan on two loaded cores) can hold the work
# pool for many seconds while the budget refills one every 2 s; what waits 10 s for a pool thread
# is shed with a 503 before its budget is even asked. Either way most are never checked, and
# each of the others is refused, by the budget or by the shed.
read -r checked limited shed < <(spray 60 198.51.100.7)
[ "$checked" -lt 60 ] && [ $((checked + limited + shed)) = 60 ] && [ $((limited + shed)) -ge 1 ] ||
  fail "60 sign-ins with random emails from one address: $checked checked, $limited refused, $shed shed"
HH_ASSERTS=$((HH_ASSERTS + 1))
read -r checked limited shed < <(spray 3 203.0.113.5)
assert_eq "3 0" "$checked $limited" "another client behind the same proxy has its own budget"
# Wrong passwords from five addresses drain the account's burst; the owner, from a sixth,
# waits a second or two (Retry-After), not a minute.
for i in 1 2 3 4 5; do
  json_post /api/dashboard/login '{"email":"b@example.com","password":"wrong password"}' \
    -H "X-Forwarded-For: 192.0.2.$i"
  expect_error 401 unauthenticated "wrong password $i from 192.0.2.$i"
done
json_post /api/dashboard/login "$(jq -nc --arg p "$PASS_B" '{email:"b@example.com",password:$p}')" \
  -H "X-Forwarded-For: 192.0.2.99"
if [ "$STATUS" = 429 ]; then
  assert_match '^[12]$' "$(header Retry-After)" "the owner waits a second or two"
  sleep "$(header Retry-After)"
  json_post /api/dashboard/login "$(jq -nc --arg p "$PASS_B" '{email:"b@example.com",password:$p}')" \
    -H "X-Forwarded-For: 192.0.2.99"
fi
assert_eq 200 "$STATUS" "the owner's right password after five wrong ones from others"
stop_server
# Without --trusted-proxy, X-Forwarded-For is not believed: a spray with a new value each time
# still draws on one address's budget. 60 of them: to escape a budget of 30 a minute they would
# have to spread over 30 s, which even a loaded machine under ASan does not make them do.
start_server
read -r checked limited shed < <(spray 60 '198.51.100.%d')
[ "$checked" -lt 60 ] && [ $((limited + shed)) -ge 1 ] ||
  fail "a spoofed X-Forwarded-For escaped the address budget ($checked checked, $shed shed)"
HH_ASSERTS=$((HH_ASSERTS + 1))
stop_server

# --- --web: another copy of web/ is served; a wrong one is refused at start ---
cp -r "$HH_SRC/web" "$HH_TMP/web2"
echo '<!doctype html><title>custom</title><form id="auth-form"></form>' >"$HH_TMP/web2/index.html"
start_server --web "$HH_TMP/web2"
req GET /
assert_contains "$(cat "$BODY")" "<title>custom</title>" "--web DIR serves that copy"
stop_server
assert_exit 2 env HAPPYHORSE_DATA="$DATA" timeout 20 "$HH_BIN" serve --listen 127.0.0.1:0 \
  --web "$HH_TMP/nowhere"
assert_contains "$RUN_ERR" "no index.html" "a wrong --web is a usage error"
hh_done
