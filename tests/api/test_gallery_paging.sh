#!/usr/bin/env bash
# test_gallery_paging.sh - the gallery with 1,000 videos over real HTTP:
# GET /api/dashboard/videos answers bounded pages (the gallery asks 24 at a
# time, the default is 20, at most 100), and walking nextBefore visits each
# of the 1,000 exactly once, newest first, also with the favourites filter.
# The videos are made through the Customer API on one connection; the server
# runs no workers, so they stay queued.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
PASS='paging-user-password'
hh admin user create --email many@example.com --plan max --credits 1000000 --password-stdin <<<"$PASS" >/dev/null
KEY=$(hh admin key create --email many@example.com)
start_server --workers 0

seed_videos "$KEY" 1000 >"$HH_TMP/made"
assert_eq 1000 "$(grep -c . "$HH_TMP/made")" "1000 videos made"
assert_eq 1000 "$(sort -u "$HH_TMP/made" | grep -c '^[0-9a-f-]\{36\}$')" "1000 distinct ids"

dash_login many@example.com "$PASS"
assert_eq 200 "$STATUS" "login"

# --- bounded pages ---
req GET '/api/dashboard/videos?limit=24' "${S[@]}"
assert_eq 200 "$STATUS" "the gallery's first page"
assert_eq 24 "$(jq '.videos | length' "$BODY")" "the gallery's page is 24 videos"
assert_eq "$(tail -1 "$HH_TMP/made")" "$(jq -r '.videos[0].id' "$BODY")" "newest first"
req GET /api/dashboard/videos "${S[@]}"
assert_eq 20 "$(jq '.videos | length' "$BODY")" "20 by default"
req GET '/api/dashboard/videos?limit=100' "${S[@]}"
assert_eq 100 "$(jq '.videos | length' "$BODY")" "at most 100"
for bad in 0 101 x; do
  req GET "/api/dashboard/videos?limit=$bad" "${S[@]}"
  assert_eq 400 "$STATUS" "limit=$bad"
  assert_json "$(cat "$BODY")" .error.field limit "limit=$bad: field"
done
grep -q "const PAGE = 24;" "$HH_SRC/web/assets/workbench.js" || fail "the gallery's page is no longer 24"
grep -q "/videos?limit=24'" "$HH_SRC/web/assets/app.js" || fail "the gallery's first request is no longer 24"

# walk QUERY: every page of 24 from the newest; sets PAGES, writes the ids to $HH_TMP/seen.
walk() {
  local before="" q=$1
  PAGES=0
  : >"$HH_TMP/seen"
  while :; do
    req GET "/api/dashboard/videos?limit=24$q${before:+&before=$before}" "${S[@]}"
    assert_eq 200 "$STATUS" "page $PAGES of ?$q"
    [ "$(jq '.videos | length' "$BODY")" -le 24 ] || fail "a page of more than 24"
    jq -r '.videos[].id' "$BODY" >>"$HH_TMP/seen"
    PAGES=$((PAGES + 1))
    before=$(jq -r '.nextBefore // empty' "$BODY")
    [ -n "$before" ] || break
    [ "$PAGES" -le 100 ] || fail "more pages than 1000 videos make"
  done
}
walk ""
assert_eq 42 "$PAGES" "1000 videos in pages of 24"
assert_eq 1000 "$(grep -c . "$HH_TMP/seen")" "1000 rows seen"
assert_eq "$(tac "$HH_TMP/made")" "$(cat "$HH_TMP/seen")" "each video once, newest first"

# --- favourites among the 1,000: every 40th starred ---
sed -n '0~40p' "$HH_TMP/made" >"$HH_TMP/starred"
sed 's|.*|/api/v1/videos/&/favorite|' "$HH_TMP/starred" | curl_each POST "$KEY" >"$HH_TMP/fav"
assert_eq 25 "$(jq -r 'select(.favorite == true) | .id' "$HH_TMP/fav" | grep -c .)" "25 starred"
walk "&favorite=true"
assert_eq 2 "$PAGES" "25 favourites in pages of 24"
assert_eq "$(tac "$HH_TMP/starred")" "$(cat "$HH_TMP/seen")" "each favourite once, newest first"

stop_server
hh_done
