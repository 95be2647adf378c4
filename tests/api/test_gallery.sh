#!/usr/bin/env bash
# test_gallery.sh - the workbench gallery's side of the dashboard API over
# real HTTP (docs/dashboard-api.md): cancel and delete on dashboard routes
# (the Customer API's own handlers, CSRF required), and the server-side
# search (q: a case-insensitive substring of the prompt, % and _ meaning
# themselves, at most 200 characters) and status filter, paged; favourites
# (POST/DELETE .../favorite on dashboard and Customer API routes, the
# favorite=true filter). The server runs no workers, so every video stays
# queued until canceled.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
PASS='gallery-user-password'
hh admin user create --email g@example.com --plan pro --credits 1000 --password-stdin <<<"$PASS" >/dev/null
hh admin user create --email other@example.com --plan pro --credits 1000 --password-stdin <<<"$PASS" >/dev/null
start_server --workers 0

json_post() { # PATH JSON [curl args...]
  local path=$1 body=$2; shift 2
  req POST "$path" -H 'Content-Type: application/json' --data-binary "$body" "$@"
}
# login EMAIL: signs in; sets S (curl args: the cookie and the CSRF token).
login() {
  dash_login "$1" "$PASS"
  assert_eq 200 "$STATUS" "login $1"
}
# create PROMPT: a 3-second video of the signed-in user; sets VID.
create() {
  json_post /api/dashboard/videos "$(jq -nc --arg p "$1" '{prompt:$p,durationSec:3}')" "${S[@]}"
  assert_eq 202 "$STATUS" "create '$1'"
  VID=$(jq -r .id "$BODY")
}
# list QUERY: GET /api/dashboard/videos?QUERY; sets PROMPTS (one per line, newest first).
list() {
  req GET "/api/dashboard/videos?$1" "${S[@]}"
  assert_eq 200 "$STATUS" "list ?$1"
  PROMPTS=$(jq -r '.videos[].prompt' "$BODY")
}
balance() { req GET /api/dashboard/me "${S[@]}" && jq -r .user.credits "$BODY"; }

login other@example.com
create 'A red kite of another account'
login g@example.com
create 'A red fox in deep snow' && FOX=$VID
create '100% pure_joy of a dancing horse' && JOY=$VID
create '100 percent pureXjoy, no symbols' && PLAIN=$VID
create 'Another RED balloon over the sea'
create 'A path C:\horses\run with a backslash'

# --- search: case-insensitive substring of the prompt, only one's own ---
list 'q=red'
assert_eq $'Another RED balloon over the sea\nA red fox in deep snow' "$PROMPTS" "q=red, any case, newest first"
list 'q=100%25'
assert_eq '100% pure_joy of a dancing horse' "$PROMPTS" "q=100% finds the % itself, not any text"
list 'q=pure_joy'
assert_eq '100% pure_joy of a dancing horse' "$PROMPTS" "q=pure_joy: _ is not any character"
list 'q=%25'
assert_eq '100% pure_joy of a dancing horse' "$PROMPTS" "q=% alone matches only a %"
list 'q=_'
assert_eq '100% pure_joy of a dancing horse' "$PROMPTS" "q=_ alone matches only a _"
list 'q=%5Chorses%5C'
assert_eq 'A path C:\horses\run with a backslash' "$PROMPTS" "a backslash is itself too"
list 'q=kite'
assert_eq '' "$PROMPTS" "another account's videos are never found"
list 'q='
assert_eq 5 "$(jq '.videos | length' "$BODY")" "an empty q is no filter"

# --- paging through the results ---
list 'q=RED&limit=1'
assert_eq 'Another RED balloon over the sea' "$PROMPTS" "first page of q=RED"
NEXT=$(jq -r .nextBefore "$BODY")
assert_ne null "$NEXT" "a second page follows"
list "q=RED&limit=1&before=$NEXT"
assert_eq 'A red fox in deep snow' "$PROMPTS" "second page of q=RED"
assert_json "$(cat "$BODY")" .nextBefore null "no third page"

# --- the length limit, in characters ---
list "q=$(printf '%.0s%%E4%%B8%%AD' $(seq 200))"
assert_eq '' "$PROMPTS" "200 characters (600 bytes of UTF-8) are allowed"
req GET "/api/dashboard/videos?q=$(printf 'x%.0s' $(seq 201))" "${S[@]}"
assert_eq 400 "$STATUS" "201 characters"
assert_eq invalid_input "$(error_code)" "201 characters: code"
assert_json "$(cat "$BODY")" .error.field q "201 characters: field"
req GET "/api/dashboard/videos?q=%FF" "${S[@]}"
assert_eq 400 "$STATUS" "q that is not UTF-8"

# --- cancel and delete on dashboard routes ---
BEFORE=$(balance)
req POST "/api/dashboard/videos/$FOX/cancel" -H "${S[1]}"
assert_eq 403 "$STATUS" "cancel without the CSRF token"
req DELETE "/api/dashboard/videos/$FOX" "${S[@]}"
assert_eq 409 "$STATUS" "delete of a queued video"
assert_json "$(cat "$BODY")" .error.status queued "409 says the status"
req POST "/api/dashboard/videos/$FOX/cancel" "${S[@]}"
assert_eq 200 "$STATUS" "cancel"
assert_json "$(cat "$BODY")" .status canceled "the canceled video"
assert_eq "$((BEFORE + 30))" "$(balance)" "refunded in full"
req POST "/api/dashboard/videos/$FOX/cancel" "${S[@]}"
assert_eq 409 "$STATUS" "a second cancel"
login other@example.com
req POST "/api/dashboard/videos/$JOY/cancel" "${S[@]}"
assert_eq 404 "$STATUS" "another account's video cannot be canceled"
req DELETE "/api/dashboard/videos/$PLAIN" "${S[@]}"
assert_eq 404 "$STATUS" "nor deleted"
login g@example.com

# --- the status filter, as the Customer API's list ---
list 'status=canceled'
assert_eq 'A red fox in deep snow' "$PROMPTS" "status=canceled"
list 'status=queued&q=red'
assert_eq 'Another RED balloon over the sea' "$PROMPTS" "status and q together"
req GET '/api/dashboard/videos?status=done' "${S[@]}"
assert_eq 400 "$STATUS" "an unknown status"
assert_json "$(cat "$BODY")" .error.field status "unknown status: field"

req DELETE "/api/dashboard/videos/$FOX" "${S[@]}"
assert_eq 204 "$STATUS" "delete of the canceled video"
req GET "/api/dashboard/videos/$FOX" "${S[@]}"
assert_eq 404 "$STATUS" "gone"
list 'status=canceled'
assert_eq '' "$PROMPTS" "no longer listed"

# --- favourites: star, filter, another account's, unstar ---
list ''
assert_eq 0 "$(jq '[.videos[] | select(.favorite != false)] | length' "$BODY")" "no video starts as a favourite"
req POST "/api/dashboard/videos/$JOY/favorite" -H "${S[1]}"
assert_eq 403 "$STATUS" "favourite without the CSRF token"
req POST "/api/dashboard/videos/$JOY/favorite" "${S[@]}"
assert_eq 200 "$STATUS" "star a video"
assert_json "$(cat "$BODY")" .favorite true "the answer is the starred video"
assert_json "$(cat "$BODY")" .id "$JOY" "the answer's id"
req POST "/api/dashboard/videos/$JOY/favorite" "${S[@]}"
assert_eq 200 "$STATUS" "starring twice is no error"
req POST "/api/dashboard/videos/$PLAIN/favorite" "${S[@]}"
assert_eq 200 "$STATUS" "star a second video"
list 'favorite=true'
assert_eq $'100 percent pureXjoy, no symbols\n100% pure_joy of a dancing horse' "$PROMPTS" "favorite=true: the starred ones, newest first"
list 'favorite=true&limit=1'
assert_eq '100 percent pureXjoy, no symbols' "$PROMPTS" "first page of favourites"
list "favorite=true&limit=1&before=$(jq -r .nextBefore "$BODY")"
assert_eq '100% pure_joy of a dancing horse' "$PROMPTS" "second page of favourites"
assert_json "$(cat "$BODY")" .nextBefore null "no third page of favourites"
list 'favorite=true&q=percent'
assert_eq '100 percent pureXjoy, no symbols' "$PROMPTS" "favorite and q together"
list 'favorite=false'
assert_eq 4 "$(jq '.videos | length' "$BODY")" "favorite=false is no filter"
req GET '/api/dashboard/videos?favorite=yes' "${S[@]}"
assert_eq 400 "$STATUS" "favorite that is not a boolean"
assert_json "$(cat "$BODY")" .error.field favorite "favorite=yes: field"
req GET "/api/dashboard/videos/$JOY" "${S[@]}"
assert_json "$(cat "$BODY")" .favorite true "the video object says so"

login other@example.com
req POST "/api/dashboard/videos/$PLAIN/favorite" "${S[@]}"
assert_eq 404 "$STATUS" "another account's video cannot be starred"
assert_eq not_found "$(error_code)" "another account's: code"
req DELETE "/api/dashboard/videos/$JOY/favorite" "${S[@]}"
assert_eq 404 "$STATUS" "nor unstarred"
req POST "/api/dashboard/videos/not-an-id/favorite" "${S[@]}"
assert_eq 404 "$STATUS" "a malformed id"
list 'favorite=true'
assert_eq '' "$PROMPTS" "the other account has no favourites"
login g@example.com
list 'favorite=true'
assert_eq 2 "$(jq '.videos | length' "$BODY")" "the other account's tries changed nothing"

req DELETE "/api/dashboard/videos/$JOY/favorite" "${S[@]}"
assert_eq 200 "$STATUS" "unstar"
assert_json "$(cat "$BODY")" .favorite false "the unstarred video"
list 'favorite=true'
assert_eq '100 percent pureXjoy, no symbols' "$PROMPTS" "only the one still starred"

# The Customer API has the same routes, on the key's own videos.
KEY=$(hh admin key create --email g@example.com)
OKEY=$(hh admin key create --email other@example.com)
req DELETE "/api/v1/videos/$PLAIN/favorite" -H "Authorization: Bearer $KEY"
assert_eq 200 "$STATUS" "unstar through the Customer API"
assert_json "$(cat "$BODY")" .favorite false "Customer API: unstarred"
req POST "/api/v1/videos/$PLAIN/favorite" -H "Authorization: Bearer $OKEY"
assert_eq 404 "$STATUS" "Customer API: another account's video"
req POST "/api/v1/videos/$JOY/favorite" -H "Authorization: Bearer $KEY"
assert_eq 200 "$STATUS" "star through the Customer API"
req GET "/api/v1/videos/$JOY" -H "Authorization: Bearer $KEY"
assert_json "$(cat "$BODY")" .favorite true "GET /api/v1/videos/{id} says favorite"
list 'favorite=true'
assert_eq '100% pure_joy of a dancing horse' "$PROMPTS" "the dashboard sees what the API set"

stop_server
hh_done
