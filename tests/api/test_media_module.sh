#!/usr/bin/env bash
# test_media_module.sh - FFmpeg lives in a module loaded on first use
# (src/media/media_module.h): a serve with idle render threads has not
# mapped FFmpeg's libraries (its /proc maps show neither the module nor
# libavcodec); its first video maps them and comes out as a real MP4. A
# module that is missing stops `worker` and a rendering `serve` at start
# with a message naming the path, fails `render` with that message, and
# does not stop an API-only `serve --workers 0`.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
hh admin user create --email a@example.com --plan pro --credits 1000 >/dev/null
KEY=$(hh admin key create --email a@example.com)

maps_have() { grep -q -e "$1" "/proc/$SERVER_PID/maps"; }

start_server --workers 1
req GET /readyz
assert_status 200 "$STATUS" "/readyz of a serve that has not rendered"
maps_have happyhorse-media.so && fail "the module is mapped before any render"
maps_have libavcodec && fail "libavcodec is mapped before any render"
HH_ASSERTS=$((HH_ASSERTS + 2))

req POST /api/v1/videos -H "Authorization: Bearer $KEY" -d '{"prompt":"a fox in the snow","durationSec":3}'
assert_status 202 "$STATUS" "create"
id=$(jq -r .id "$BODY")
for _ in $(seq 600); do
  req GET "/api/v1/videos/$id" -H "Authorization: Bearer $KEY"
  [ "$(jq -r .status "$BODY")" = ready ] && break
  sleep 0.1
done
assert_json "$(cat "$BODY")" .status ready "the first video"
curl -sf -o "$HH_TMP/v.mp4" "$(jq -r .videoUrl "$BODY")" || fail "the video's bytes"
assert_eq h264 "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$HH_TMP/v.mp4")" \
  "the first video is an MP4 made through the module"
maps_have happyhorse-media.so || fail "the module is not mapped after a render"
maps_have libavcodec || fail "libavcodec is not mapped after a render"
HH_ASSERTS=$((HH_ASSERTS + 2))
stop_server

# --- a missing module ---
export HAPPYHORSE_MEDIA_MODULE=$HH_TMP/none/happyhorse-media.so
hh_run hh worker --workers 1
assert_eq 1 "$RUN_RC" "worker without the module"
assert_contains "$RUN_ERR" "the FFmpeg module $HAPPYHORSE_MEDIA_MODULE is missing" "worker's message"
hh_run hh serve --listen 127.0.0.1:0 --workers 1
assert_ne 0 "$RUN_RC" "a rendering serve without the module"
assert_contains "$RUN_ERR" "the FFmpeg module $HAPPYHORSE_MEDIA_MODULE is missing" "serve's message"
echo '{"prompt":"a fox","durationSec":3}' >"$HH_TMP/job.json"
hh_run "$HH_BIN" render --job "$HH_TMP/job.json" --out "$HH_TMP/o.mp4" --thumb "$HH_TMP/o.jpg"
assert_eq 1 "$RUN_RC" "render without the module"
assert_contains "$RUN_ERR" "the FFmpeg module $HAPPYHORSE_MEDIA_MODULE cannot be used" "render's message"
start_server --workers 0
req GET /readyz
assert_status 200 "$STATUS" "an API-only serve needs no module"
stop_server
hh_done
