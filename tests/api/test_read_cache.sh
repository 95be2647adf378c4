#!/usr/bin/env bash
# test_read_cache.sh - the API keeps copies of hot reads (a key's owner, a
# video's status) only while nothing was committed to the store: a change
# made by another process (the admin CLI) shows on the very next request,
# after the old answer was read (and kept) many times.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
hh admin user create --email cache@example.com --plan pro --credits 500 >/dev/null
KEY=$(hh admin key create --email cache@example.com --name one)
OTHER=$(hh admin key create --email cache@example.com --name two)
start_server --workers 0
auth=(-H "Authorization: Bearer $KEY")
poll() { # PATH N: N requests on one connection, the last one's body in $BODY
  local urls=() i
  for i in $(seq "$2"); do urls+=(-o "$BODY" "$BASE$1"); done
  curl -s "${auth[@]}" "${urls[@]}"
}

req POST /api/v1/videos "${auth[@]}" -d '{"prompt":"a red kite over the dunes","durationSec":3}'
assert_status 202 "$STATUS" "created"
ID=$(jq -r .id "$BODY")
poll "/api/v1/videos/$ID" 20
assert_json "$(cat "$BODY")" .status queued "queued, read many times"

# A video failed (and refunded) by the CLI: the next poll says so.
hh admin video fail --id "$ID" --message "stopped by the test" >/dev/null
req GET "/api/v1/videos/$ID" "${auth[@]}"
assert_status 200 "$STATUS" "status"
assert_json "$(cat "$BODY")" .status failed "failed at once"
assert_json "$(cat "$BODY")" .errorMessage "stopped by the test" "its message"
assert_eq "" "$(header Retry-After)" "no Retry-After once final"

# Credits granted by the CLI show in the account at once.
poll /api/v1/account 20
before=$(jq -r .credits "$BODY")
hh admin credits grant --email cache@example.com --amount 7 >/dev/null
req GET /api/v1/account "${auth[@]}"
assert_eq $((before + 7)) "$(jq -r .credits "$BODY")" "the grant shows at once"

# A key deleted by the CLI stops working at once; the other key goes on.
KID=$(hh admin key list --email cache@example.com | jq -r '.[] | select(.name=="one") | .id')
poll /api/v1/account 20
hh admin key delete --email cache@example.com --id "$KID"
req GET /api/v1/account "${auth[@]}"
assert_status 401 "$STATUS" "deleted key refused at once"
req GET "/api/v1/videos/$ID" -H "Authorization: Bearer $OTHER"
assert_status 200 "$STATUS" "the other key"
# Another user's key never sees the video, cached or not.
hh admin user create --email else@example.com --plan pro >/dev/null
ELSE=$(hh admin key create --email else@example.com)
req GET "/api/v1/videos/$ID" -H "Authorization: Bearer $ELSE"
assert_status 404 "$STATUS" "another user's video"
req GET "/api/v1/videos/${ID}0" -H "Authorization: Bearer $OTHER"
assert_status 404 "$STATUS" "an id with a character more"
stop_server
hh_done
