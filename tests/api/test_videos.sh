#!/usr/bin/env bash
# test_videos.sh - contract sections 3-5 over real HTTP: the documentation's
# own create-and-poll example yields a playable MP4 of the asked size and
# length with a thumbnail; every validation rule; references; every plan
# gate with the cheapest plan that allows it; insufficient credits;
# idempotent replays; other accounts' videos are not found.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"
. "$HH_SRC/tests/api/media_fixtures.sh"

DATA=$HH_TMP/data
hh admin user create --email pro@example.com --plan pro --credits 100000 >/dev/null
hh admin user create --email free@example.com --plan free --credits 100000 >/dev/null
hh admin user create --email basic@example.com --plan basic --credits 100000 >/dev/null
hh admin user create --email poor@example.com --plan pro --credits 50 >/dev/null
PRO=$(hh admin key create --email pro@example.com)
FREE=$(hh admin key create --email free@example.com)
BASIC=$(hh admin key create --email basic@example.com)
POOR=$(hh admin key create --email poor@example.com)
start_server --workers 1

# --- the documentation's example, as written ---
export HAPPYHORSE_BASE_URL=$BASE HAPPYHORSE_API_KEY=$PRO
created=$(curl -s -X POST "$HAPPYHORSE_BASE_URL/api/v1/videos" \
  -H "Authorization: Bearer $HAPPYHORSE_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{
    "prompt": "A cinematic shot of a chestnut horse running through a sunlit meadow",
    "style": "cinematic",
    "durationSec": 6,
    "aspectRatio": "16:9",
    "resolution": "720p"
  }')
assert_json "$created" .status queued "create answer"
ID=$(printf '%s' "$created" | jq -r .id)
assert_match '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$ID" "UUIDv7 id"

req GET "/api/v1/videos/$ID" -H "Authorization: Bearer $PRO"
assert_status 200 "$STATUS" "status while unfinished"
assert_eq 5 "$(header Retry-After)" "Retry-After while unfinished"
for _ in $(seq 240); do
  status=$(curl -s "$HAPPYHORSE_BASE_URL/api/v1/videos/$ID" \
    -H "Authorization: Bearer $HAPPYHORSE_API_KEY" | jq -r .status)
  [ "$status" = ready ] || [ "$status" = failed ] && break
  sleep 0.5
done
req GET "/api/v1/videos/$ID" -H "Authorization: Bearer $PRO"
assert_eq ready "$(jq -r .status "$BODY")" "the example video reaches ready"
assert_eq "" "$(header Retry-After)" "no Retry-After when ready"
for f in id status prompt style durationSec aspectRatio resolution videoUrl thumbnailUrl \
  errorMessage readyAt createdAt progress credits; do
  assert_eq true "$(jq "has(\"$f\")" "$BODY")" "field $f present"
done
assert_eq cinematic "$(jq -r .style "$BODY")" "style"
assert_eq null "$(jq -r .errorMessage "$BODY")" "errorMessage null"
assert_eq 100 "$(jq -r .progress "$BODY")" "progress"
assert_eq 60 "$(jq -r .credits.charged "$BODY")" "charged 6 s x 10"
assert_match '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' \
  "$(jq -r .readyAt "$BODY")" "readyAt ISO-8601 with ms"
VURL=$(jq -r .videoUrl "$BODY")
TURL=$(jq -r .thumbnailUrl "$BODY")
assert_contains "$VURL" "/videos/outputs/$ID.mp4" "videoUrl key"
assert_contains "$TURL" "/videos/thumbnails/$ID.jpg" "thumbnailUrl key"
curl -sf -o "$HH_TMP/v.mp4" "$VURL"
curl -sf -o "$HH_TMP/t.jpg" "$TURL"
probe=$(ffprobe -v error -select_streams v:0 -count_frames -show_entries \
  stream=codec_name,profile,pix_fmt,width,height,nb_read_frames -of json "$HH_TMP/v.mp4")
assert_json "$probe" '.streams[0].codec_name' h264 "codec"
assert_json "$probe" '.streams[0].pix_fmt' yuv420p "pix_fmt"
assert_json "$probe" '.streams[0].width' 1280 "width"
assert_json "$probe" '.streams[0].height' 720 "height"
frames=$(printf '%s' "$probe" | jq -r '.streams[0].nb_read_frames')
[ "$frames" -ge 143 ] && [ "$frames" -le 145 ] || fail "frames: $frames, want 144 +- 1"
# +faststart: the moov atom comes before mdat.
order=$(python3 -c '
import struct,sys
d=open(sys.argv[1],"rb").read(); i=0; out=[]
while i+8<=len(d):
    n,t=struct.unpack(">I4s",d[i:i+8]); out.append(t.decode()); i+= n if n>=8 else len(d)
print(" ".join(out))' "$HH_TMP/v.mp4")
assert_match 'moov.*mdat' "$order" "moov before mdat"
thumb=$(ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 "$HH_TMP/t.jpg")
IFS=, read -r tcodec tw th <<<"$thumb"
assert_eq mjpeg "$tcodec" "thumbnail is a JPEG"
assert_eq $((tw * 9)) $((th * 16)) "thumbnail of the same 16:9 aspect ($tw x $th)"

# --- validation: one rule a line, the field it must name ---
PROMPT='"prompt":"a horse in the snow"'
LONG=$(python3 -c 'print("x"*2001)')
STYLE51=$(python3 -c 'print("s"*51)')
while IFS='|' read -r body field; do
  [ -z "$body" ] && continue
  req POST /api/v1/videos -H "Authorization: Bearer $PRO" -H "Content-Type: application/json" -d "$body"
  assert_status 400 "$STATUS" "invalid: $body"
  assert_eq invalid_input "$(error_code)" "code for: $body"
  assert_eq "$field" "$(jq -r '.error.field // ""' "$BODY")" "field for: $body"
done <<EOF2
{"durationSec":3}|prompt
{"prompt":"ab","durationSec":3}|prompt
{"prompt":"   ab   ","durationSec":3}|prompt
{"prompt":"$LONG","durationSec":3}|prompt
{"prompt":12345,"durationSec":3}|prompt
{$PROMPT}|durationSec
{$PROMPT,"durationSec":6.5}|durationSec
{$PROMPT,"durationSec":"6"}|durationSec
{$PROMPT,"durationSec":2}|durationSec
{$PROMPT,"durationSec":13}|durationSec
{$PROMPT,"durationSec":3,"style":"$STYLE51"}|style
{$PROMPT,"durationSec":3,"aspectRatio":"4:3"}|aspectRatio
{$PROMPT,"durationSec":3,"resolution":"4k"}|resolution
{$PROMPT,"durationSec":3,"cameraMotion":"spin"}|cameraMotion
{$PROMPT,"durationSec":3,"motionIntensity":0}|motionIntensity
{$PROMPT,"durationSec":3,"motionIntensity":6}|motionIntensity
{$PROMPT,"durationSec":3,"motionIntensity":2.5}|motionIntensity
{$PROMPT,"durationSec":3,"cfgScale":1.5}|cfgScale
{$PROMPT,"durationSec":3,"cfgScale":"0.5"}|cfgScale
{$PROMPT,"durationSec":3,"model":"v2"}|model
{$PROMPT,"durationSec":3,"inputImageUrl":"https://x/y.png"}|inputImageUrl
{$PROMPT,"durationSec":3,"referenceVideoUrl":"https://x/y.mp4"}|referenceVideoUrl
{$PROMPT,"durationSec":3,"audioUrl":"https://x/y.mp3"}|audioUrl
{$PROMPT,"durationSec":3,"sourceImageKey":"a","lastFrameKey":"b"}|lastFrameKey
{$PROMPT,"durationSec":3,"sourceImageKey":"videos/inputs/nobody/none.png"}|sourceImageKey
EOF2

# Bodies that are not a valid JSON object at all.
for body in '{' '[1,2]' '{"prompt":"abc","prompt":"abcd","durationSec":3}' ''; do
  req POST /api/v1/videos -H "Authorization: Bearer $PRO" -H "Content-Type: application/json" -d "$body"
  assert_status 400 "$STATUS" "bad body: $body"
  assert_eq invalid_input "$(error_code)" "bad body code: $body"
done
python3 -c 'import json; print(json.dumps({"prompt":"x"*70000,"durationSec":3}))' >"$HH_TMP/big.json"
req POST /api/v1/videos -H "Authorization: Bearer $PRO" -H "Content-Type: application/json" -d "@$HH_TMP/big.json"
assert_status 400 "$STATUS" "body over 64 KiB"
assert_contains "$(jq -r .error.message "$BODY")" "too large" "oversized message"
deep=$(python3 -c 'print("{\"a\":"*40 + "1" + "}"*40)')
req POST /api/v1/videos -H "Authorization: Bearer $PRO" -H "Content-Type: application/json" -d "$deep"
assert_status 400 "$STATUS" "nesting too deep"

# --- references: this user's, complete, of the right kind ---
make_png "$HH_TMP/ref.png"
make_mp4 "$HH_TMP/ref.mp4"
make_wav "$HH_TMP/ref.wav"
KEY=$PRO upload PRO_IMG image image/png "$HH_TMP/ref.png"
KEY=$PRO upload PRO_AUD audio audio/wav "$HH_TMP/ref.wav"
KEY=$FREE upload FREE_IMG image image/png "$HH_TMP/ref.png"
KEY=$FREE upload FREE_VID video video/mp4 "$HH_TMP/ref.mp4"
KEY=$FREE upload FREE_AUD audio audio/wav "$HH_TMP/ref.wav"
KEY=$BASIC upload BASIC_AUD audio audio/wav "$HH_TMP/ref.wav"
req POST /api/v1/uploads/presign -H "Authorization: Bearer $PRO" -d '{"contentType":"image/png","sizeBytes":10}'
PENDING=$(jq -r .key "$BODY")
while IFS='|' read -r body field why; do
  [ -z "$body" ] && continue
  req POST /api/v1/videos -H "Authorization: Bearer $PRO" -d "$body"
  assert_status 400 "$STATUS" "reference: $why"
  assert_eq "$field" "$(jq -r '.error.field' "$BODY")" "reference field: $why"
done <<EOF2
{$PROMPT,"durationSec":3,"sourceImageKey":"$FREE_IMG"}|sourceImageKey|another account's upload
{$PROMPT,"durationSec":3,"sourceImageKey":"$PENDING"}|sourceImageKey|never uploaded
{$PROMPT,"durationSec":3,"sourceImageKey":"$PRO_AUD"}|sourceImageKey|audio given as an image
{$PROMPT,"durationSec":3,"referenceAudioKey":"$PRO_IMG"}|referenceAudioKey|image given as audio
EOF2

# --- plan gates: field, the cheapest plan that allows it, the current plan ---
while IFS='|' read -r key body field required current; do
  [ -z "$key" ] && continue
  req POST /api/v1/videos -H "Authorization: Bearer $key" -d "$body"
  assert_status 403 "$STATUS" "gate $field on $current"
  assert_eq plan_gate_exceeded "$(error_code)" "gate code $field"
  assert_eq "$field" "$(jq -r .error.field "$BODY")" "gate field"
  assert_eq "$required" "$(jq -r .error.requiredPlan "$BODY")" "requiredPlan for $field"
  assert_eq "$current" "$(jq -r .error.currentPlan "$BODY")" "currentPlan for $field"
done <<EOF2
$FREE|{$PROMPT,"durationSec":6}|durationSec|basic|free
$BASIC|{$PROMPT,"durationSec":9}|durationSec|pro|basic
$FREE|{$PROMPT,"durationSec":3,"resolution":"1080p"}|resolution|basic|free
$FREE|{$PROMPT,"durationSec":3,"lastFrameKey":"$FREE_IMG"}|lastFrame|pro|free
$FREE|{$PROMPT,"durationSec":3,"referenceVideoKey":"$FREE_VID"}|referenceVideo|basic|free
$FREE|{$PROMPT,"durationSec":3,"referenceAudioKey":"$FREE_AUD"}|referenceAudio|pro|free
$BASIC|{$PROMPT,"durationSec":3,"referenceAudioKey":"$BASIC_AUD"}|referenceAudio|pro|basic
EOF2
# The free plan does allow a first-frame image and 5 s.
req POST /api/v1/videos -H "Authorization: Bearer $FREE" \
  -d "{$PROMPT,\"durationSec\":5,\"sourceImageKey\":\"$FREE_IMG\"}"
assert_status 202 "$STATUS" "free plan with sourceImage"
# The settings it was made with are echoed (additions), null for what was not used.
req GET "/api/v1/videos/$(jq -r .id "$BODY")" -H "Authorization: Bearer $FREE"
assert_eq "$FREE_IMG" "$(jq -r .sourceImageKey "$BODY")" "sourceImageKey echoed"
for f in lastFrameKey referenceVideoKey referenceAudioKey; do
  assert_eq true "$(jq "has(\"$f\") and .$f == null" "$BODY")" "$f null when not used"
done
assert_eq "none 3 0.5" "$(jq -r '"\(.cameraMotion) \(.motionIntensity) \(.cfgScale)"' "$BODY")" \
  "the defaults it was made with"
req POST /api/v1/videos -H "Authorization: Bearer $PRO" -d "{$PROMPT,\"durationSec\":3,\
\"cameraMotion\":\"orbit\",\"motionIntensity\":5,\"cfgScale\":0.25,\"referenceAudioKey\":\"$PRO_AUD\"}"
assert_status 202 "$STATUS" "create with every setting"
req GET "/api/v1/videos/$(jq -r .id "$BODY")" -H "Authorization: Bearer $PRO"
assert_eq "orbit 5 0.25 $PRO_AUD null" \
  "$(jq -r '"\(.cameraMotion) \(.motionIntensity) \(.cfgScale) \(.referenceAudioKey) \(.sourceImageKey)"' "$BODY")" \
  "the settings given are echoed"

# --- credits: refused before anything is written ---
req POST /api/v1/videos -H "Authorization: Bearer $POOR" -d "{$PROMPT,\"durationSec\":6}"
assert_status 402 "$STATUS" "insufficient credits"
assert_eq insufficient_credits "$(error_code)" "402 code"
assert_eq 60 "$(jq -r .error.required "$BODY")" "required"
assert_eq 50 "$(jq -r .error.balance "$BODY")" "balance"
assert_eq 50 "$(hh admin user show --email poor@example.com | jq -r .credits)" "balance unchanged"

# --- Idempotency-Key: replay charges once; another body is refused ---
before=$(hh admin user show --email pro@example.com | jq -r .credits)
body="{$PROMPT,\"durationSec\":3,\"resolution\":\"1080p\"}"
req POST /api/v1/videos -H "Authorization: Bearer $PRO" -H "Idempotency-Key: order-42" -d "$body"
assert_status 202 "$STATUS" "first idempotent create"
first=$(jq -r .id "$BODY")
req POST /api/v1/videos -H "Authorization: Bearer $PRO" -H "Idempotency-Key: order-42" -d "$body"
assert_eq "$first" "$(jq -r .id "$BODY")" "replay returns the first answer"
after=$(hh admin user show --email pro@example.com | jq -r .credits)
assert_eq $((before - 60)) "$after" "charged once (3 s x 20 at 1080p)"
req POST /api/v1/videos -H "Authorization: Bearer $PRO" -H "Idempotency-Key: order-42" \
  -d "{$PROMPT,\"durationSec\":4}"
assert_status 400 "$STATUS" "same key, other body"
assert_eq invalid_input "$(error_code)" "conflicting reuse code"

# --- another account's video is exactly as absent as an unknown one ---
req GET "/api/v1/videos/$ID" -H "Authorization: Bearer $FREE"
assert_status 404 "$STATUS" "other account's video"
other=$(cat "$BODY")
req GET "/api/v1/videos/01900000-0000-7000-8000-000000000000" -H "Authorization: Bearer $FREE"
assert_status 404 "$STATUS" "unknown video"
assert_eq "$other" "$(cat "$BODY")" "same answer for unknown and other's"
req GET "/api/v1/videos/not-a-uuid" -H "Authorization: Bearer $FREE"
assert_status 404 "$STATUS" "malformed id"
assert_eq not_found "$(error_code)" "not_found code"
req GET "/api/v1/videos/$ID"
assert_status 401 "$STATUS" "status needs a key"

# --- metrics show the pipeline ---
req GET /metrics
grep -q '^happyhorse_videos{status="ready"} [1-9]' "$BODY" || fail "metrics: ready videos"
grep -q '^happyhorse_job_render_seconds_count [1-9]' "$BODY" || fail "metrics: render times"
grep -q '^happyhorse_jobs{state="lease_expired"} 0$' "$BODY" || fail "metrics: queue gauges"
grep -q '^happyhorse_queue_oldest_seconds [0-9.]*$' "$BODY" || fail "metrics: oldest queued"
stop_server
hh_done
