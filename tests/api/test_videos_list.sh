#!/usr/bin/env bash
# test_videos_list.sh - GET /api/v1/videos over real HTTP: paging through
# 250 videos while more are created between pages sees each of the 250
# exactly once, newest first; limit 1..100 (default 20) at its boundaries;
# a malformed cursor, limit or status is invalid_input naming it; the
# status filter; only the key's own account's videos.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
hh admin user create --email a@example.com --plan max --credits 1000000 >/dev/null
hh admin user create --email b@example.com --plan max --credits 1000 >/dev/null
A=$(hh admin key create --email a@example.com)
B=$(hh admin key create --email b@example.com)
# No workers: every video stays queued, so the list is only what the test made.
start_server --workers 0

# create KEY : creates a 3 s video and prints its id.
create() {
  curl -sf -X POST "$BASE/api/v1/videos" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' -d '{"prompt":"a horse in a field","durationSec":3}' |
    jq -r .id
}
list() { req GET "/api/v1/videos$1" -H "Authorization: Bearer ${2:-$A}"; }

# --- an empty list ---
list ""
assert_status 200 "$STATUS" "empty list"
assert_eq '{"data":[],"hasMore":false,"nextCursor":null}' "$(jq -c . "$BODY")" "empty list body"

: >"$HH_TMP/made"
for _ in $(seq 250); do create "$A" >>"$HH_TMP/made"; done
assert_eq 250 "$(sort -u "$HH_TMP/made" | wc -l | tr -d ' ')" "250 distinct videos made"
BVID=$(create "$B")

# --- the default page: 20, newest first, the video object of GET /videos/{id} ---
list ""
assert_status 200 "$STATUS" "list"
assert_eq 20 "$(jq '.data | length' "$BODY")" "default limit 20"
assert_eq true "$(jq .hasMore "$BODY")" "hasMore"
assert_eq "$(tail -1 "$HH_TMP/made")" "$(jq -r '.data[0].id' "$BODY")" "newest first"
assert_eq "$(tail -20 "$HH_TMP/made" | tac | paste -sd,)" "$(jq -r '[.data[].id] | join(",")' "$BODY")" \
  "the 20 newest, in order"
assert_eq no-store "$(header Cache-Control)" "Cache-Control"
FIRST=$(jq -c '.data[0]' "$BODY")
req GET "/api/v1/videos/$(jq -r .id <<<"$FIRST")" -H "Authorization: Bearer $A"
# ... but for "queue", which only the status route works out (contract §4).
assert_eq object "$(jq -r '.queue | type' "$BODY")" "the status route says where a queued video waits"
assert_eq null "$(jq -r '.queue | type' <<<"$FIRST")" "a list item does not"
assert_eq "$(jq -S 'del(.queue)' "$BODY")" "$(jq -S . <<<"$FIRST")" "a list item is the status object"

# --- paging with creates in between: each of the 250 once, none of the new ones ---
: >"$HH_TMP/seen"
cursor="" pages=0
while :; do
  list "?limit=7${cursor:+&after=$cursor}"
  assert_status 200 "$STATUS" "page $pages"
  jq -r '.data[].id' "$BODY" >>"$HH_TMP/seen"
  more=$(jq -r .hasMore "$BODY")
  cursor=$(jq -r .nextCursor "$BODY")
  pages=$((pages + 1))
  [ "$more" = true ] || break
  assert_match '^[A-Za-z0-9_-]+$' "$cursor" "nextCursor is URL-safe"
  for _ in 1 2 3; do create "$A" >>"$HH_TMP/later"; done
done
assert_eq null "$cursor" "nextCursor null on the last page"
assert_eq 36 "$pages" "250 videos in pages of 7"
assert_eq 250 "$(wc -l <"$HH_TMP/seen" | tr -d ' ')" "250 rows seen"
assert_eq 250 "$(sort -u "$HH_TMP/seen" | wc -l | tr -d ' ')" "no duplicates"
assert_eq "$(sort "$HH_TMP/made")" "$(sort "$HH_TMP/seen")" "exactly the 250 made before paging"
assert_eq "$(tac "$HH_TMP/made")" "$(cat "$HH_TMP/seen")" "newest first across pages"
has_line "$BVID" "$(cat "$HH_TMP/seen")" && fail "another account's video was listed"

# --- limit at its boundaries ---
for l in 1 100; do
  list "?limit=$l"
  assert_status 200 "$STATUS" "limit=$l"
  assert_eq "$l" "$(jq '.data | length' "$BODY")" "limit=$l items"
done
for l in 0 101 -1 abc 1.5 "" +5; do
  list "?limit=$l"
  assert_status 400 "$STATUS" "limit='$l'"
  assert_eq invalid_input "$(error_code)" "limit='$l' code"
  assert_eq limit "$(jq -r .error.field "$BODY")" "limit='$l' field"
done

# --- malformed cursors ---
GOOD=$(list "?limit=1" && jq -r .nextCursor "$BODY")
for c in x "${GOOD}A" "${GOOD:1}" "$(printf 'not-a-uuid-but-36-characters-long!!!' | base64 | tr '+/' '-_' | tr -d '=')" \
  "$(printf '%s' "$BVID" | base64 | tr -d '=\n')=" ""; do
  list "?after=$c"
  assert_status 400 "$STATUS" "after='$c'"
  assert_eq after "$(jq -r .error.field "$BODY")" "after='$c' field"
done
# Another account's cursor is no key to its videos: it only says where to start.
BCUR=$(printf '%s' "$BVID" | base64 -w0 | tr '+/' '-_' | tr -d '=')
list "?after=$BCUR&limit=100"
assert_status 200 "$STATUS" "a cursor of another account's id"
assert_eq false "$(jq '[.data[].id] | index("'"$BVID"'") != null' "$BODY")" "still only a's videos"

# --- the status filter ---
list "?status=queued&limit=100"
assert_status 200 "$STATUS" "status=queued"
assert_eq 100 "$(jq '[.data[] | select(.status == "queued")] | length' "$BODY")" "queued only"
for s in ready failed processing; do
  list "?status=$s"
  assert_status 200 "$STATUS" "status=$s"
  assert_eq 0 "$(jq '.data | length' "$BODY")" "no $s videos"
done
VICTIM=$(head -1 "$HH_TMP/made")
hh admin video fail --id "$VICTIM" >/dev/null
list "?status=failed"
assert_eq "$VICTIM" "$(jq -r '[.data[].id] | join(",")' "$BODY")" "status=failed lists the failed one"
for s in QUEUED done "" x; do
  list "?status=$s"
  assert_status 400 "$STATUS" "status='$s'"
  assert_eq status "$(jq -r .error.field "$BODY")" "status='$s' field"
done

# --- only the key's account; auth as every route ---
list "" "$B"
assert_eq "$BVID" "$(jq -r '[.data[].id] | join(",")' "$BODY")" "b sees only its video"
req GET /api/v1/videos
assert_status 401 "$STATUS" "no key"

stop_server
hh_done
