#!/usr/bin/env bash
# test_openai.sh - the OpenAI-compatible surface /v1/videos:
#   1. the official openai SDK (tests/openai/, npm ci from the committed
#      lockfile) drives create with an input_reference file, retrieve until
#      completed, downloadContent of the video and the thumbnail, list with
#      its auto-paging, delete, and its error classes (videos.test.mjs);
#      the MP4 it downloaded is probed: 1280x720, H.264;
#   2. the same account, credits and plans as /api/v1: the charge is in the
#      ledger, the balance is its sum, a free plan's 1080p is
#      plan_gate_exceeded 403, a poor account insufficient_credits 402;
#   3. JSON creates (seconds as an integer, input_reference as
#      {"file_id": <upload key>}); unknown fields refused naming them;
#   4. OpenAI's error shape on /v1 only, the contract's envelope on /api/v1;
#      RateLimit headers on both.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"
. "$HH_SRC/tests/api/media_fixtures.sh"

command -v node >/dev/null || fail "node is required (scripts/deps.sh installs nodejs)"
"$HH_SRC/tests/openai/setup.sh" || fail "npm ci of tests/openai failed"

DATA=$HH_TMP/data
hh admin user create --email oai@example.com --plan pro --credits 100000 >/dev/null
hh admin user create --email free@example.com --plan free --credits 100000 >/dev/null
hh admin user create --email poor@example.com --plan pro --credits 10 >/dev/null
KEY=$(hh admin key create --email oai@example.com)
FREE=$(hh admin key create --email free@example.com)
POOR=$(hh admin key create --email poor@example.com)
start_server --workers 1
make_png "$HH_TMP/card.png" 1280x720

# --- 1. the SDK's own calls ---
HH_BASE=$BASE HH_KEY=$KEY HH_PNG=$HH_TMP/card.png HH_OUT=$HH_TMP \
  node --no-warnings "$HH_SRC/tests/openai/videos.test.mjs" >"$HH_TMP/seen.json" ||
  fail "tests/openai/videos.test.mjs failed"
seen=$(cat "$HH_TMP/seen.json")
assert_json "$seen" '.statuses[-1]' completed "the SDK saw it completed"
assert_json "$seen" .deleteQueued conflict "a queued video cannot be deleted"
assert_json "$seen" .badKey invalid_api_key "a bad key"
probe=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height \
  -of csv=p=0 "$HH_TMP/sdk.mp4")
assert_eq "h264,1280,720" "$probe" "the MP4 downloadContent gave"
SRC=$(jq -r .created "$HH_TMP/seen.json")
req GET "/api/v1/videos/$SRC" -H "Authorization: Bearer $KEY"
assert_status 404 "$STATUS" "deleted through /v1, gone from /api/v1"

# --- 2. one account, one ledger ---
# the SDK made four videos: 4 s + 3 s + 3 s at 720p and 3 s at 1080p (10 and 20 credits/s)
show=$(hh admin user show --email oai@example.com)
assert_json "$show" .credits $((100000 - 40 - 30 - 30 - 60)) "the SDK's creates were charged"
ledger=$(hh admin user ledger --email oai@example.com --limit 1000)
assert_eq "$(printf '%s' "$show" | jq .credits)" "$(printf '%s' "$ledger" | jq '[.[].amount] | add')" \
  "balance == ledger sum"
req POST /v1/videos -H "Authorization: Bearer $FREE" -F prompt="A horse in the rain" -F size=1920x1080 -F seconds=3
assert_status 403 "$STATUS" "1080p on the free plan"
assert_json "$(cat "$BODY")" .error.code plan_gate_exceeded "plan gate"
assert_json "$(cat "$BODY")" .error.param size "the gate names size"
assert_json "$(cat "$BODY")" .error.type permission_error "its type"
req POST /v1/videos -H "Authorization: Bearer $POOR" -F prompt="A horse in the rain" -F seconds=3 -F size=1280x720
assert_status 402 "$STATUS" "not enough credits"
assert_json "$(cat "$BODY")" .error.code insufficient_credits "credits"
assert_json "$(cat "$BODY")" .error.type insufficient_quota "its type"

# --- 3. JSON creates ---
req POST /v1/videos -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
  -d '{"prompt":"A horse under the stars","seconds":5,"size":"720x1280"}'
assert_status 200 "$STATUS" "JSON create"
assert_json "$(cat "$BODY")" '[.object,.status,.seconds,.size,.progress] | join(" ")' \
  "video queued 5 720x1280 0" "the created video"
J=$(jq -r .id "$BODY")
req GET "/api/v1/videos/$J" -H "Authorization: Bearer $KEY"
assert_json "$(cat "$BODY")" '[.durationSec,.aspectRatio,.resolution] | join(" ")' "5 9:16 720p" \
  "the same video through /api/v1"
size=$(stat -c %s "$HH_TMP/card.png")
req POST /api/v1/uploads/presign -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
  -d "{\"kind\":\"image\",\"contentType\":\"image/png\",\"sizeBytes\":$size}"
url=$(jq -r .uploadUrl "$BODY")
IMG=$(jq -r .key "$BODY")
curl -sS -o /dev/null -X PUT -H "Content-Type: image/png" --data-binary "@$HH_TMP/card.png" "$url"
req POST /v1/videos -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
  -d "{\"prompt\":\"A horse from this card\",\"input_reference\":{\"file_id\":\"$IMG\"}}"
assert_status 200 "$STATUS" "JSON create with an upload's key as file_id"
assert_json "$(cat "$BODY")" '[.seconds,.size] | join(" ")' "4 720x1280" "OpenAI's defaults"
req GET "/api/v1/videos/$(jq -r .id "$BODY")" -H "Authorization: Bearer $KEY"
assert_json "$(cat "$BODY")" .sourceImageKey "$IMG" "input_reference became sourceImageKey"
req POST /v1/videos -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
  -d '{"prompt":"A horse","input_reference":{"image_url":"http://169.254.169.254/"}}'
assert_status 400 "$STATUS" "image_url is not fetched"
assert_json "$(cat "$BODY")" .error.param input_reference "names input_reference"
req POST /v1/videos -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
  -d '{"prompt":"A horse","durationSec":3}'
assert_status 400 "$STATUS" "our field names are not this surface's"
assert_json "$(cat "$BODY")" .error.param durationSec "names the unknown field"
req POST /v1/videos -H "Authorization: Bearer $KEY" -F prompt="A horse" -F seconds=13
assert_status 400 "$STATUS" "13 s"
assert_json "$(cat "$BODY")" .error.param seconds "the range names seconds"
req POST /v1/videos -H "Authorization: Bearer $KEY" -F prompt="A horse" -F "input_reference=@$HH_TMP/card.png;type=image/gif"
assert_status 400 "$STATUS" "a gif"
assert_json "$(cat "$BODY")" '[.error.code,.error.param] | join(" ")' \
  "upload_type_not_supported input_reference" "the upload rules apply to the file"
printf 'not a png at all' >"$HH_TMP/fake.png"
req POST /v1/videos -H "Authorization: Bearer $KEY" -F prompt="A horse" -F "input_reference=@$HH_TMP/fake.png;type=image/png"
assert_status 400 "$STATUS" "bytes that are not a PNG"
assert_json "$(cat "$BODY")" .error.code upload_type_not_supported "sniffed"

# --- 4. each surface its own error shape ---
req GET /v1/videos/00000000-0000-7000-8000-000000000000 -H "Authorization: Bearer $KEY"
assert_status 404 "$STATUS" "unknown id on /v1"
assert_json "$(cat "$BODY")" '.error | keys | join(",")' "code,message,param,type" "OpenAI's shape"
assert_ne "" "$(header RateLimit)" "RateLimit on /v1"
req GET /api/v1/videos/00000000-0000-7000-8000-000000000000 -H "Authorization: Bearer $KEY"
assert_json "$(cat "$BODY")" '.error | keys | join(",")' "code,message" "the contract's envelope on /api/v1"
req GET /v1/videos
assert_status 401 "$STATUS" "no key on /v1"
assert_json "$(cat "$BODY")" '[.error.code,.error.type] | join(" ")' \
  "missing_api_key authentication_error" "the guard's errors are reshaped too"
req GET "/v1/videos/$J/content?variant=spritesheet" -H "Authorization: Bearer $KEY"
assert_json "$(cat "$BODY")" .error.param variant "an unknown variant"
# No worker from here on: a new video stays queued.
stop_server
start_server --workers 0
req POST /v1/videos -H "Authorization: Bearer $KEY" -F prompt="A horse that waits" -F seconds=3
Q=$(jq -r .id "$BODY")
req GET "/v1/videos/$Q/content" -H "Authorization: Bearer $KEY"
assert_status 400 "$STATUS" "content of a video not completed"
assert_json "$(cat "$BODY")" .error.param id "names the video"
req GET "/v1/videos?order=asc" -H "Authorization: Bearer $KEY"
assert_json "$(cat "$BODY")" .error.param order "only newest first"
req GET "/v1/videos?limit=101" -H "Authorization: Bearer $KEY"
assert_json "$(cat "$BODY")" .error.param limit "limit 1-100"
req GET "/v1/videos?limit=1" -H "Authorization: Bearer $KEY"
assert_json "$(cat "$BODY")" '[.object,(.data|length),.has_more,(.first_id==.last_id)] | join(" ")' \
  "list 1 true true" "a page of one"
# A canceled video (our status, not OpenAI's) reads as failed with error.code "canceled".
req POST "/api/v1/videos/$Q/cancel" -H "Authorization: Bearer $KEY"
assert_status 200 "$STATUS" "cancel through /api/v1"
req GET "/v1/videos/$Q" -H "Authorization: Bearer $KEY"
assert_json "$(cat "$BODY")" '[.status, .error.code] | join(" ")' "failed canceled" "canceled on /v1"
stop_server
hh_done
