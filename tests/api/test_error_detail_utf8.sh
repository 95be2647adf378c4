#!/usr/bin/env bash
# test_error_detail_utf8.sh - client text echoed into an error (an unknown
# key, a content type, the bytes the JSON parser stopped at) is cut on a
# character boundary, over real HTTP: keys
# and content types of 2-, 3- and 4-byte characters, shifted by 0-3 ASCII
# bytes so every cut offset is met, must answer the contract's 400 with
# the field named, never a 500 (a detail cut inside a character is invalid
# UTF-8, which the JSON encoder refuses). And the access log keeps every
# field of a request whose path is not UTF-8 (/app/%ff%fe): the path is
# logged escaped, the line never dropped.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
hh admin user create --email utf8@example.com --plan max --credits 1000 >/dev/null
KEY=$(hh admin key create --email utf8@example.com --name utf8)
start_server --workers 0

# rep TEXT N : TEXT repeated N times.
rep() {
  local s="" i
  for ((i = 0; i < $2; i++)); do s+=$1; done
  printf '%s' "$s"
}

# post PATH JSON : POST with the key; sets STATUS, BODY.
post() {
  req POST "$1" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" -d "$2"
}

# expect_error STATUS CODE WHAT : the last reply is that error, as JSON.
expect_error() {
  assert_status "$1" "$STATUS" "$3: status ($(head -c 300 "$BODY"))"
  assert_eq "$2" "$(jq -r .error.code "$BODY")" "$3: code"
}

# expect_field_prefix TEXT WHAT : .error.field is a non-empty prefix of TEXT.
expect_field_prefix() {
  local field
  field=$(jq -r .error.field "$BODY")
  HH_ASSERTS=$((HH_ASSERTS + 1))
  [ -n "$field" ] && [ "$field" != null ] && [[ $1 == "$field"* ]] ||
    fail "$2: field '$field' does not name '$1'"
}

# check TEXT WHAT : TEXT as an unknown key of both bodies, and as a content type.
check() {
  post /api/v1/videos "{\"$1\":1,\"prompt\":\"a horse\",\"durationSec\":5}"
  expect_error 400 invalid_input "videos: key $2"
  expect_field_prefix "$1" "videos: key $2"
  assert_contains "$(jq -r .error.message "$BODY")" "unknown field" "videos: key $2 message"
  post /api/v1/uploads/presign "{\"$1\":1,\"contentType\":\"image/png\",\"sizeBytes\":5}"
  expect_error 400 invalid_input "presign: key $2"
  expect_field_prefix "$1" "presign: key $2"
  post /api/v1/uploads/presign "{\"contentType\":\"$1\",\"sizeBytes\":5}"
  expect_error 400 upload_type_not_supported "presign: content type $2"
  assert_eq contentType "$(jq -r .error.field "$BODY")" "presign: content type $2 field"
}

# The issue's case, as reported: 40 'é'.
check "$(rep 'é' 40)" "40 é"

# A short key is named whole.
E10=$(rep 'é' 10)
post /api/v1/videos "{\"$E10\":1,\"prompt\":\"a horse\",\"durationSec\":5}"
expect_error 400 invalid_input "videos: 10-é unknown key"
assert_eq "$E10" "$(jq -r .error.field "$BODY")" "videos: 10-é key named whole"

# Every width at every offset; 200 characters also overflow the message.
for unit in 'é' '水' '🐎'; do
  for pad in '' x xx xxx; do
    for n in 40 200; do
      check "$pad$(rep "$unit" "$n")" "$unit x$n after '$pad'"
    done
  done
done

# The parser's own message quotes the byte it stopped at: after a bad \u
# escape that is the first byte of a character, which must not go out.
for unit in 'é' '水' '🐎'; do
  post /api/v1/videos "{\"prompt\":\"\\u00e$unit\",\"durationSec\":5}"
  expect_error 400 invalid_input "videos: bad escape before $unit"
  assert_contains "$(jq -r .error.message "$BODY")" "not valid JSON" "videos: bad escape before $unit"
done

# A path that decodes to bytes that are not UTF-8: the access log escapes them.
req GET "/app/%ff%fe"
assert_status 200 "$STATUS" "the app shell for any /app/ path"
req GET "/api/v1/videos/%ff%c3" -H "Authorization: Bearer $KEY"
assert_status 404 "$STATUS" "a video id that is not UTF-8"
stop_server
line=$(grep '"msg":"request"' "$SERVER_LOG" | grep -F '"path":"/app/\\xff\\xfe"' || true)
[ -n "$line" ] || fail "no access log line with the escaped path: $(grep -c '"msg":"request"' "$SERVER_LOG") request lines"
assert_json "$line" .route web.app "the line keeps its route"
assert_json "$line" .status 200 "the line keeps its status"
assert_json "$line" .method GET "the line keeps its method"
assert_match '^[0-9a-f]{24}$' "$(printf '%s' "$line" | jq -r .request_id)" "the line keeps its request id"
line=$(grep '"msg":"request"' "$SERVER_LOG" | grep -F '"path":"/api/v1/videos/\\xff\\xc3"' || true)
[ -n "$line" ] || fail "no access log line for the video id that is not UTF-8"
assert_json "$line" .status 404 "that line keeps its status"
# Every line of the log is JSON.
jq -c . "$SERVER_LOG" >/dev/null || fail "the server log has a line that is not JSON"
HH_ASSERTS=$((HH_ASSERTS + 1))
hh_done
