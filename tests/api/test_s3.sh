#!/usr/bin/env bash
# test_s3.sh - S3-compatible object storage, against one real S3 server that
# checks SigV4 signatures (tests/s3/: @20minutes/s3rver on node, npm ci from
# the committed lockfile), started once for all of:
#   1. the signer against AWS's Signature V4 test suite and the AWS SDK's
#      presigner on the same inputs (test_sigv4 --vectors);
#   2. blob_s3's contract against the server (test_blob_s3 --contract),
#      multipart parts seen in the server's log;
#   3. the API with `serve` pointed at the bucket: presign, PUT straight to
#      the bucket (refused by the bucket itself with another type or length),
#      a video made from that upload until ready, video and thumbnail fetched
#      from the bucket and probed; a wrong-typed object refused at create;
#      HAPPYHORSE_S3_PUBLIC_URL as the URLs' base; /readyz 503 while the
#      bucket does not answer; a bad setting refused at start.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"
. "$HH_SRC/tests/api/media_fixtures.sh"
. "$HH_SRC/tests/s3/server.sh"

command -v node >/dev/null || fail "node is required (scripts/deps.sh installs nodejs)"
"$HH_SRC/tests/s3/setup.sh" || fail "npm ci of tests/s3 failed"
s3_start

# --- 1. the signer against the published answers ---
node --no-warnings "$HH_SRC/tests/s3/vectors.mjs" >"$HH_TMP/vectors.json" ||
  fail "tests/s3/vectors.mjs failed"
assert_exit 0 "$HH_BUILD/test_sigv4" --vectors "$HH_TMP/vectors.json"
assert_contains "$RUN_OUT$RUN_ERR" "PASSED  ] 2 test(s)" "test_sigv4 --vectors"

# --- 2. the store's operations against the server ---
assert_exit 0 "$HH_BUILD/test_blob_s3" --contract
assert_contains "$RUN_OUT$RUN_ERR" "PASSED  ] 5 test(s)" "test_blob_s3 --contract"
parts=$(grep -c 'Stored part [0-9]* of' "$S3_LOG" || true)
[ "$parts" -ge 3 ] || fail "the multipart put stored $parts parts, want 3"
HH_ASSERTS=$((HH_ASSERTS + 1))

# --- 3. the API on the bucket ---
DATA=$HH_TMP/data
hh admin user create --email s3@example.com --plan pro --credits 100000 >/dev/null
KEY=$(hh admin key create --email s3@example.com)
start_server --workers 1

req GET /readyz
assert_status 200 "$STATUS" "/readyz with the bucket up"

make_png "$HH_TMP/card.png" 1280x720
size=$(stat -c %s "$HH_TMP/card.png")
req POST /api/v1/uploads/presign -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
  -d "{\"kind\":\"image\",\"contentType\":\"image/png\",\"sizeBytes\":$size}"
assert_status 200 "$STATUS" "presign"
URL=$(jq -r .uploadUrl "$BODY")
IMG=$(jq -r .key "$BODY")
assert_contains "$URL" "$S3_ENDPOINT/$S3_BUCKET/$IMG?" "the upload URL is the bucket's"
assert_contains "$URL" "X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost" "type and length signed"
assert_contains "$(jq -r .publicUrl "$BODY")" "$S3_ENDPOINT/$S3_BUCKET/$IMG?X-Amz-" "publicUrl presigned"

# before the PUT the key is not an upload a video can use
create() {
  req POST /api/v1/videos -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d "{\"prompt\":\"A horse on the beach at dawn\",\"durationSec\":3,\"sourceImageKey\":\"$1\"}"
}
create "$IMG"
assert_status 400 "$STATUS" "create before the PUT"
assert_eq invalid_input "$(error_code)" "create before the PUT"
assert_contains "$(jq -r .error.message "$BODY")" "not been uploaded completely" "create before the PUT"

# the bucket refuses another type and another length: the signature covers both
put_status() { curl -s -o "$HH_TMP/put.out" -w '%{http_code}' -X PUT "$URL" "$@"; }
assert_status 403 "$(put_status -H 'Content-Type: image/jpeg' --data-binary "@$HH_TMP/card.png")" \
  "PUT with another Content-Type"
assert_contains "$(cat "$HH_TMP/put.out")" SignatureDoesNotMatch "the bucket's own refusal"
head -c $((size - 1)) "$HH_TMP/card.png" >"$HH_TMP/short.png"
assert_status 403 "$(put_status -H 'Content-Type: image/png' --data-binary "@$HH_TMP/short.png")" \
  "PUT of another length"
assert_status 200 "$(put_status -H 'Content-Type: image/png' --data-binary "@$HH_TMP/card.png")" \
  "PUT as presigned"

# our own PUT route does not take uploads when objects are in S3
st=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$BASE/uploads/$IMG?expires=1&sig=00" \
  -H 'Content-Type: image/png' --data-binary "@$HH_TMP/card.png")
assert_status 403 "$st" "PUT to the server itself"

create "$IMG"
assert_status 202 "$STATUS" "create with the uploaded image"
ID=$(jq -r .id "$BODY")
for _ in $(seq 600); do
  req GET "/api/v1/videos/$ID" -H "Authorization: Bearer $KEY"
  status=$(jq -r .status "$BODY")
  [ "$status" = ready ] || [ "$status" = failed ] && break
  sleep 0.5
done
assert_eq ready "$status" "the video (error: $(jq -r .errorMessage "$BODY"))"
VURL=$(jq -r .videoUrl "$BODY")
TURL=$(jq -r .thumbnailUrl "$BODY")
assert_contains "$VURL" "$S3_ENDPOINT/$S3_BUCKET/videos/outputs/$ID.mp4?X-Amz-" "videoUrl presigned"
curl -sf -D "$HH_TMP/v.h" -o "$HH_TMP/v.mp4" "$VURL" || fail "GET of videoUrl from the bucket"
curl -sf -o "$HH_TMP/t.jpg" "$TURL" || fail "GET of thumbnailUrl from the bucket"
assert_match 'video/mp4' "$(grep -i '^content-type:' "$HH_TMP/v.h")" "the object's Content-Type"
probe=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of json \
  "$HH_TMP/v.mp4")
assert_json "$probe" '.streams[0].codec_name' h264 "codec of the video from the bucket"
assert_json "$probe" '.streams[0].width' 1280 "width"
assert_eq mjpeg "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$HH_TMP/t.jpg")" \
  "thumbnail from the bucket"
st=$(curl -s -o /dev/null -w '%{http_code}' -r 0-99 "$VURL")
assert_status 206 "$st" "a range of the video from the bucket"

# a PNG by name whose bytes are not a PNG: the bucket cannot sniff, create does
printf 'GIF89a-not-a-png-at-all' >"$HH_TMP/fake.png"
req POST /api/v1/uploads/presign -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
  -d "{\"kind\":\"image\",\"contentType\":\"image/png\",\"sizeBytes\":23}"
URL=$(jq -r .uploadUrl "$BODY")
FAKE=$(jq -r .key "$BODY")
assert_status 200 "$(put_status -H 'Content-Type: image/png' --data-binary "@$HH_TMP/fake.png")" \
  "PUT of the fake PNG"
create "$FAKE"
assert_status 400 "$STATUS" "create with the fake PNG"
assert_eq sourceImageKey "$(jq -r .error.field "$BODY")" "the field named"
assert_contains "$(jq -r .error.message "$BODY")" "not a file of its declared content type" "why"
st=$(curl -s -o /dev/null -w '%{http_code}' "$S3_ENDPOINT/$S3_BUCKET/$FAKE")
assert_status 404 "$st" "the refused object is removed"
stop_server

# --- HAPPYHORSE_S3_PUBLIC_URL: plain URLs under that base (a CDN, a public bucket) ---
HAPPYHORSE_S3_PUBLIC_URL="$S3_ENDPOINT/$S3_BUCKET/" start_server --workers 0
req GET "/api/v1/videos/$ID" -H "Authorization: Bearer $KEY"
assert_eq "$S3_ENDPOINT/$S3_BUCKET/videos/outputs/$ID.mp4" "$(jq -r .videoUrl "$BODY")" \
  "videoUrl under the public base"
st=$(curl -s -o /dev/null -w '%{http_code}' "$(jq -r .videoUrl "$BODY")")
assert_status 200 "$st" "the public URL serves the video"

# --- /readyz follows the bucket ---
s3_stop
req GET /readyz
assert_status 503 "$STATUS" "/readyz with the bucket down"
assert_contains "$(jq -r .reason "$BODY")" "object storage" "/readyz says why"
stop_server

# --- a bad setting stops the node at start, with the reason ---
HAPPYHORSE_S3_BUCKET=Bad_Bucket assert_exit 2 "$HH_BIN" serve --listen 127.0.0.1:0 --data "$DATA"
assert_contains "$RUN_ERR" "HAPPYHORSE_S3_BUCKET" "serve names the bad setting"
HAPPYHORSE_S3_FORCE_PATH_STYLE=yes assert_exit 2 "$HH_BIN" worker --data "$DATA"
assert_contains "$RUN_ERR" "HAPPYHORSE_S3_FORCE_PATH_STYLE" "worker names the bad setting"
hh_done
