#!/usr/bin/env bash
# test_videos_delete.sh - DELETE /api/v1/videos/{id} over real HTTP: a
# ready video goes (204) with its MP4, thumbnail and the references no
# other video uses, checked in the data directory; a reference another
# video still uses stays; the ledger keeps every row and balance == sum;
# the video then reads not_found, also in the list; its share page 404s;
# a queued video is 409 conflict with its status; a failed one deletes;
# another account's is not_found.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"
. "$HH_SRC/tests/api/media_fixtures.sh"

DATA=$HH_TMP/data
hh admin user create --email a@example.com --plan pro --credits 10000 >/dev/null
hh admin user create --email b@example.com --plan pro --credits 10000 >/dev/null
A=$(hh admin key create --email a@example.com)
B=$(hh admin key create --email b@example.com)
start_server --workers 1

OBJ=$DATA/objects
make_png "$HH_TMP/ref.png"
make_wav "$HH_TMP/ref.wav"
KEY=$A upload IMG image image/png "$HH_TMP/ref.png"
KEY=$A upload AUD audio audio/wav "$HH_TMP/ref.wav"
KEY=$A upload IMG2 image image/png "$HH_TMP/ref.png"

# create BODY : a video of a; prints its id.
create() {
  req POST /api/v1/videos -H "Authorization: Bearer $A" -d "$1"
  assert_status 202 "$STATUS" "create $1"
  jq -r .id "$BODY"
}
wait_ended() {
  local s
  for _ in $(seq 240); do
    s=$(curl -s "$BASE/api/v1/videos/$1" -H "Authorization: Bearer $A" | jq -r .status)
    case $s in ready | failed | canceled) echo "$s"; return ;; esac
    sleep 0.25
  done
  fail "video $1 did not end (status $s)"
}
balance_is_ledger() {
  local credits sum
  credits=$(hh admin user show --email a@example.com | jq -r .credits)
  sum=$(hh admin user ledger --email a@example.com --limit 1000 | jq '[.[].amount] | add')
  assert_eq "$credits" "$sum" "balance == ledger sum ($1)"
}

P='"prompt":"a horse in a field","durationSec":3'
V1=$(create "{$P,\"sourceImageKey\":\"$IMG\",\"referenceAudioKey\":\"$AUD\"}")
V2=$(create "{$P,\"sourceImageKey\":\"$IMG\"}") # shares the image with V1
V3=$(create "{$P,\"lastFrameKey\":\"$IMG2\"}")
assert_eq ready "$(wait_ended "$V1")" "V1 ready"
assert_eq ready "$(wait_ended "$V2")" "V2 ready"
assert_eq ready "$(wait_ended "$V3")" "V3 ready"
for f in "videos/outputs/$V1.mp4" "videos/thumbnails/$V1.jpg" "$IMG" "$AUD" "$IMG2"; do
  [ -f "$OBJ/$f" ] || fail "$f is not in storage before the delete"
done
req POST "/api/v1/videos/$V1/publish" -H "Authorization: Bearer $A"
assert_status 200 "$STATUS" "publish V1"
SLUG=$(jq -r .shareUrl "$BODY" | sed 's|.*/v/||')
req GET "/v/$SLUG"
assert_status 200 "$STATUS" "share page before"
ledger_rows=$(hh admin user ledger --email a@example.com --limit 1000 | jq length)
credits=$(hh admin user show --email a@example.com | jq -r .credits)

# --- another account's video, malformed ids: not_found, nothing removed ---
for id in "$V1" not-a-uuid 01900000-0000-7000-8000-000000000000; do
  req DELETE "/api/v1/videos/$id" -H "Authorization: Bearer $B"
  assert_status 404 "$STATUS" "b deletes $id"
  assert_eq not_found "$(error_code)" "not_found code"
done
req DELETE "/api/v1/videos/$V1"
assert_status 401 "$STATUS" "no key"
[ -f "$OBJ/videos/outputs/$V1.mp4" ] || fail "a refused delete removed the MP4"

# --- a ready video: 204, its files gone, the shared image kept ---
req DELETE "/api/v1/videos/$V1" -H "Authorization: Bearer $A"
assert_status 204 "$STATUS" "delete V1"
assert_eq 0 "$(stat -c %s "$BODY")" "204 has no body"
for f in "videos/outputs/$V1.mp4" "videos/thumbnails/$V1.jpg" "$AUD"; do
  [ ! -e "$OBJ/$f" ] || fail "$f is still in storage after the delete"
done
[ -f "$OBJ/$IMG" ] || fail "the image V2 still uses was removed"
[ -f "$OBJ/videos/outputs/$V2.mp4" ] || fail "V2's MP4 was removed"
req GET "/api/v1/videos/$V1" -H "Authorization: Bearer $A"
assert_status 404 "$STATUS" "V1 reads not_found"
assert_eq not_found "$(error_code)" "V1 not_found code"
req GET "/api/v1/videos?limit=100" -H "Authorization: Bearer $A"
assert_eq "$V3,$V2" "$(jq -r '[.data[].id] | join(",")' "$BODY")" "the list no longer has V1"
req GET "/v/$SLUG"
assert_status 404 "$STATUS" "the share page is gone"
req DELETE "/api/v1/videos/$V1" -H "Authorization: Bearer $A"
assert_status 404 "$STATUS" "deleting twice"
assert_eq "$ledger_rows" "$(hh admin user ledger --email a@example.com --limit 1000 | jq length)" \
  "the ledger keeps every row"
assert_eq "$credits" "$(hh admin user show --email a@example.com | jq -r .credits)" "no credits move"
has_line "$V1" "$(hh admin user ledger --email a@example.com --limit 1000 | jq -r '.[].ref')" ||
  fail "V1's charge is no longer in the ledger"
balance_is_ledger "after deleting V1"
# A reference whose upload is gone cannot be used again.
req POST /api/v1/videos -H "Authorization: Bearer $A" -d "{$P,\"referenceAudioKey\":\"$AUD\"}"
assert_status 400 "$STATUS" "the removed audio as a reference"
assert_eq referenceAudioKey "$(jq -r .error.field "$BODY")" "field of the removed reference"

# --- the last user of the image deletes it too ---
req DELETE "/api/v1/videos/$V2" -H "Authorization: Bearer $A"
assert_status 204 "$STATUS" "delete V2"
[ ! -e "$OBJ/$IMG" ] || fail "the image was kept after its last video went"
req DELETE "/api/v1/videos/$V3" -H "Authorization: Bearer $A"
assert_status 204 "$STATUS" "delete V3"
[ ! -e "$OBJ/$IMG2" ] || fail "the last frame was kept"
[ ! -e "$OBJ/videos/outputs/$V3.mp4" ] || fail "V3's MP4 was kept"

# --- still queued: 409 conflict with the status, nothing changed ---
stop_server
start_server --workers 0
Q=$(create "{$P}")
req DELETE "/api/v1/videos/$Q" -H "Authorization: Bearer $A"
assert_status 409 "$STATUS" "delete a queued video"
assert_eq conflict "$(error_code)" "409 code"
assert_eq queued "$(jq -r .error.status "$BODY")" "409 says the status"
assert_eq application/json "$(header Content-Type)" "409 is the envelope"
req GET "/api/v1/videos/$Q" -H "Authorization: Bearer $A"
assert_eq queued "$(jq -r .status "$BODY")" "still queued"
# Failed (refunded): it can go, and the refund stays in the ledger.
hh admin video fail --id "$Q" >/dev/null
req DELETE "/api/v1/videos/$Q" -H "Authorization: Bearer $A"
assert_status 204 "$STATUS" "delete a failed video"
assert_eq 2 "$(hh admin user ledger --email a@example.com --limit 1000 | jq "[.[] | select(.ref == \"$Q\")] | length")" \
  "its charge and refund stay"
balance_is_ledger "after deleting the failed one"

stop_server
hh_done
