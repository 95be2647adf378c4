#!/usr/bin/env bash
# test_upstream.sh - the upstream engines (dashscope, openai-videos, fal)
# through the real binary over HTTP, against the provider stand-in
# (tests/standin/providers.py), which speaks each protocol as documented and
# acts out its failures:
#  - each engine's create carries the right model, headers and parameters,
#    and the ready video is the contract's asset served from our storage;
#  - each failure (content check, provider failure, lost task, time limit,
#    result 404, not a video, an endless body, malformed JSON) ends failed
#    with its message and is refunded exactly once;
#  - 429/5xx/hanging answers and a provider outage cost no attempt and end ready;
#  - kill -9 of the server while tasks are at the provider, then a restart:
#    every video ready, exactly one provider create each, one charge each;
#  - the provider's key is in no log line and not in /metrics;
#  - a plan that sells what its model cannot make is refused at start.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"
. "$HH_SRC/tests/api/media_fixtures.sh"
. "$HH_SRC/tests/api/standin.sh"

DATA=$HH_TMP/data
export HH_TEST_PROVIDER_KEY
start_standin --task-seconds 1
HH_TEST_PROVIDER_KEY=$STANDIN_KEY

# One plan per engine (and a strict one for the failures), all on the stand-in.
plan() { # NAME ALLOW_IMAGE ALLOW_AUDIO ENGINE_JSON
  printf '{"name":"%s","maxDurationSec":12,"requestsPerMinute":100000,"jobsInFlight":50,' "$1"
  printf '"allow":{"1080p":true,"sourceImage":%s,"lastFrame":false,"referenceVideo":false,' "$2"
  printf '"referenceAudio":%s},"creditsPerSecond":{"720p":10,"1080p":20},"engine":%s}' "$3" "$4"
}
COMMON='"apiKeyEnv":"HH_TEST_PROVIDER_KEY","pollIntervalSec":1,"requestTimeoutSec":3,"preset":"ultrafast"'
DS="$STANDIN/dashscope/api/v1"
cat >"$HH_TMP/plans.json" <<EOF
{"plans": [
$(plan hh true false "{\"name\":\"dashscope\",\"baseUrl\":\"$DS\",\"model\":\"happyhorse-1.0-t2v\",\"imageModel\":\"happyhorse-1.0-i2v\",\"costPerSecond\":0.25,\"timeoutSec\":40,\"maxDownloadMB\":2,$COMMON}"),
$(plan wan false true "{\"name\":\"dashscope\",\"baseUrl\":\"$DS\",\"model\":\"wan2.6-t2v\",\"inputs\":\"url\",$COMMON}"),
$(plan oa true false "{\"name\":\"openai-videos\",\"baseUrl\":\"$STANDIN/openai/v1\",\"model\":\"sora-2\",$COMMON}"),
$(plan fal true false "{\"name\":\"fal\",\"baseUrl\":\"$STANDIN/fal\",\"model\":\"fal-ai/wan/t2v\",\"imageModel\":\"fal-ai/wan/i2v\",$COMMON}")
]}
EOF

export HAPPYHORSE_PLANS=$HH_TMP/plans.json # for the admin commands, and serve
credits() { hh admin user show --email "$1" | jq -r .credits; }
ledger_sum() { hh admin user ledger --email "$1" | jq '[.[].amount] | add // 0'; }
refunds_of() { hh admin user ledger --email "$1" | jq --arg v "$2" '[.[] | select(.kind == "refund" and .ref == $v)] | length'; }
for p in hh wan oa fal; do
  hh admin user create --email "$p@example.com" --plan "$p" --credits 100000 >/dev/null
  printf -v "KEY_$p" '%s' "$(hh admin key create --email "$p@example.com")"
done

# create PLAN JSON-FIELDS -> echoes the new video's id
create() {
  local key_var=KEY_$1
  req POST /api/v1/videos -H "Authorization: Bearer ${!key_var}" -H "Content-Type: application/json" -d "{$2}"
  assert_status 202 "$STATUS" "create on $1: $(cat "$BODY")"
  jq -r .id "$BODY"
}
# wait_final PLAN ID -> echoes the final video JSON
wait_final() {
  local key_var=KEY_$1 body deadline=$((SECONDS + 300))
  while [ "$SECONDS" -lt "$deadline" ]; do
    body=$(curl -s "$BASE/api/v1/videos/$2" -H "Authorization: Bearer ${!key_var}") || true
    case $(printf '%s' "$body" | jq -r .status) in ready | failed)
      printf '%s' "$body"
      return 0
      ;;
    esac
    sleep 0.2
  done
  fail "video $2 on $1 never finished: $body"
}
# creates_seen PROMPT-SUBSTRING -> how many creates with that prompt the provider answered 200
creates_seen() {
  standin_log | jq --arg p "$1" '[.[] | select(.method == "POST" and (.path | test("video-synthesis$|/videos$|/fal/"))
    and ((.json.input.prompt // .json.prompt // "") | contains($p)))] | length'
}
# assert_asset JSON : the contract's MP4 from our own storage
assert_asset() {
  local url
  url=$(printf '%s' "$1" | jq -r .videoUrl)
  assert_match "^$BASE/files/videos/outputs/" "$url" "videoUrl is ours, never the provider's"
  curl -sf -o "$HH_TMP/out.mp4" "$url" || fail "cannot download $url"
  local probe
  probe=$(ffprobe -v error -select_streams v:0 -count_frames -show_entries \
    stream=codec_name,width,height,pix_fmt,nb_read_frames -of csv=p=0 "$HH_TMP/out.mp4")
  assert_eq "h264,1280,720,yuv420p,$2" "$probe" "the contract's asset (${2} frames)"
}

start_server --workers 2 --plans "$HH_TMP/plans.json"

# --- the happy path of each engine, each with its own mapping ---
KEY=$KEY_hh
make_png "$HH_TMP/first.png" 640x360
upload IMG image image/png "$HH_TMP/first.png"
V_T2V=$(create hh '"prompt":"a chestnut horse gallops [t2v]","durationSec":6,"style":"cinematic","cameraMotion":"zoom-in","motionIntensity":5')
V_I2V=$(create hh "\"prompt\":\"the horse turns its head [i2v]\",\"durationSec\":4,\"sourceImageKey\":\"$IMG\"")
KEY=$KEY_wan
make_wav "$HH_TMP/a.wav" 3
upload AUD audio audio/wav "$HH_TMP/a.wav"
V_WAN=$(create wan "\"prompt\":\"a horse by the sea [wan]\",\"durationSec\":6,\"referenceAudioKey\":\"$AUD\"")
KEY=$KEY_oa
upload IMG_OA image image/png "$HH_TMP/first.png"
V_OA=$(create oa "\"prompt\":\"a horse in snow [oa]\",\"durationSec\":6,\"sourceImageKey\":\"$IMG_OA\"")
KEY=$KEY_fal
upload IMG_FAL image image/png "$HH_TMP/first.png"
V_FAL=$(create fal '"prompt":"a horse in a forest [fal]","durationSec":6,"aspectRatio":"16:9"')
V_FAL_I=$(create fal "\"prompt\":\"a horse in a field [fali]\",\"durationSec\":3,\"sourceImageKey\":\"$IMG_FAL\"")
V_SOUND=$(create hh '"prompt":"a horse neighs [withaudio]","durationSec":3')

audio_streams() { ffprobe -v error -select_streams a -show_entries stream=codec_name -of csv=p=0 "$1"; }
for pair in "hh $V_T2V 144 -" "hh $V_I2V 96 -" "wan $V_WAN 144 aac" "oa $V_OA 144 -" \
  "fal $V_FAL 144 -" "fal $V_FAL_I 72 -" "hh $V_SOUND 72 aac"; do
  set -- $pair
  final=$(wait_final "$1" "$2")
  assert_json "$final" .status ready "$1 video $2 ready"
  assert_asset "$final" "$3"
  sound=$(audio_streams "$HH_TMP/out.mp4" | head -1)
  assert_eq "$4" "${sound:--}" "$1 video $2: the reference audio, else the provider's soundtrack, else none"
done

log=$(standin_log)
ds_t2v=$(printf '%s' "$log" | jq -c '[.[] | select(.json.input.prompt // "" | contains("[t2v]"))][0]')
assert_json "$ds_t2v" .headers.authorization "Bearer $STANDIN_KEY" "DashScope: the key as a Bearer token"
assert_json "$ds_t2v" '.headers["x-dashscope-async"]' enable "DashScope: asynchronous call"
assert_json "$ds_t2v" .json.model happyhorse-1.0-t2v "text to video model"
assert_json "$ds_t2v" '.json.parameters | [.resolution, .ratio, .duration, .watermark] | join(",")' "720P,16:9,6,false" "HappyHorse parameters"
assert_json "$ds_t2v" '.json.parameters.seed | type' number "a seed"
assert_contains "$(printf '%s' "$ds_t2v" | jq -r .json.input.prompt)" "Style: cinematic." "style folded into the prompt"
assert_contains "$(printf '%s' "$ds_t2v" | jq -r .json.input.prompt)" "The camera zooms in." "camera motion as words"
ds_i2v=$(printf '%s' "$log" | jq -c '[.[] | select(.json.input.prompt // "" | contains("[i2v]"))][0]')
assert_json "$ds_i2v" .json.model happyhorse-1.0-i2v "a source image picks the image model"
assert_json "$ds_i2v" '.json.input.media[0].type' first_frame "the image as the first frame"
assert_match '^data:image/png;base64,' "$(printf '%s' "$ds_i2v" | jq -r '.json.input.media[0].url')" "as a data: URL"
assert_json "$ds_i2v" '.json.parameters | has("ratio")' false "i2v takes no ratio"
wan=$(printf '%s' "$log" | jq -c '[.[] | select(.json.input.prompt // "" | contains("[wan]"))][0]')
assert_json "$wan" '.json.parameters | [.size, .duration] | map(tostring) | join(",")' "1280*720,5" "Wan: size and the nearest duration"
assert_match "^$BASE/files/" "$(printf '%s' "$wan" | jq -r .json.input.audio_url)" "inputs: url hands over our storage's URL"
oa=$(printf '%s' "$log" | jq -c '[.[] | select(.json.prompt // "" | contains("[oa]"))][0]')
assert_json "$oa" '.json | [.model, .seconds, .size] | join(",")' "sora-2,8,1280x720" "OpenAI shape: seconds as a string, size WxH"
assert_json "$oa" '.files | join(",")' input_reference "the image as a multipart file"
oa_content=$(printf '%s' "$log" | jq -c '[.[] | select(.path | test("/content"))][0]')
assert_json "$oa_content" .headers.authorization "Bearer $STANDIN_KEY" "the content download carries the key"
fal=$(printf '%s' "$log" | jq -c '[.[] | select(.json.prompt // "" | contains("[fal]"))][0]')
assert_json "$fal" .headers.authorization "Key $STANDIN_KEY" "fal: Authorization: Key"
assert_json "$fal" '.json | [.aspect_ratio, .resolution, .duration] | join(",")' "16:9,720p,5" "fal input"
assert_eq fal/fal-ai/wan/t2v "$(printf '%s' "$fal" | jq -r .path | sed 's|^/||')" "fal: the app id is the path"
fali=$(printf '%s' "$log" | jq -c '[.[] | select(.json.prompt // "" | contains("[fali]"))][0]')
assert_eq /fal/fal-ai/wan/i2v "$(printf '%s' "$fali" | jq -r .path)" "fal: the image model's app"
results=$(printf '%s' "$log" | jq '[.[] | select(.path | startswith("/results/")) | .headers.authorization // ""] | unique')
assert_eq '[""]' "$(printf '%s' "$results" | jq -c .)" "our key never goes to the result's host"

show=$(hh admin video show --id "$V_T2V")
assert_json "$show" .remote.engine dashscope "the operator sees the engine"
assert_json "$show" .remote.phase done "and the task's phase"
assert_json "$show" .remote.creates 1 "one create"
assert_match '^[0-9a-f-]{36}$' "$(printf '%s' "$show" | jq -r .remote.taskId)" "the provider's task id"
assert_json "$show" .remote.cost 1.5 "cost per second x the provider's billed seconds"
assert_json "$show" .remote.usage.duration 6 "the provider's usage"
assert_eq 1 "$(creates_seen '[t2v]')" "one provider create"
assert_eq "$(ledger_sum hh@example.com)" "$(credits hh@example.com)" "hh: the balance equals the ledger"

# --- failures: each ends failed with its message, refunded once ---
KEY=$KEY_hh
declare -A FAIL_MSG=(
  [moderation]="content check refused"
  [fail]="could not make this video"
  [unknown]="lost the task"
  [never]="did not finish within 40 seconds"
  [badjson]="did not finish within 40 seconds"
  [result404]="could not be downloaded"
  [resultjunk]="not a playable video"
  [resulthuge]="larger than this service accepts"
)
declare -A FAIL_ID
before=$(credits hh@example.com)
for d in "${!FAIL_MSG[@]}"; do
  FAIL_ID[$d]=$(create hh "\"prompt\":\"a horse that fails [$d]\",\"durationSec\":3")
done
for d in "${!FAIL_MSG[@]}"; do
  final=$(wait_final hh "${FAIL_ID[$d]}")
  assert_json "$final" .status failed "[$d] ends failed"
  assert_contains "$(printf '%s' "$final" | jq -r .errorMessage)" "${FAIL_MSG[$d]}" "[$d] says why"
  assert_eq 1 "$(refunds_of hh@example.com "${FAIL_ID[$d]}")" "[$d] refunded exactly once"
done
assert_eq "$before" "$(credits hh@example.com)" "every failure refunded in full"
assert_eq "$(ledger_sum hh@example.com)" "$(credits hh@example.com)" "the balance equals the ledger"

# --- transient trouble costs no attempt and ends ready ---
declare -A TRANSIENT_ID
for d in poll429:3 poll500:2 create429:2 create500:1 hangpoll:1; do
  TRANSIENT_ID[$d]=$(create hh "\"prompt\":\"a patient horse [$d]\",\"durationSec\":3")
done
for d in "${!TRANSIENT_ID[@]}"; do
  final=$(wait_final hh "${TRANSIENT_ID[$d]}")
  [ "$(printf '%s' "$final" | jq -r .status)" = ready ] ||
    grep -h "${TRANSIENT_ID[$d]}" "$DATA"/server.*.log >&2 || true
  assert_json "$final" .status ready "[$d] ends ready: $final"
  assert_eq 1 "$(hh admin video show --id "${TRANSIENT_ID[$d]}" | jq .remote.creates)" "[$d] one task made"
done
assert_eq 3 "$(creates_seen '[create429:2]')" "two refused creates, then one made"

# A provider outage longer than a few polls: the videos wait, then finish.
standin_outage 6 503
OUT1=$(create hh '"prompt":"a horse waits out an outage [outage1]","durationSec":3')
OUT2=$(create fal '"prompt":"a horse waits out an outage [outage2]","durationSec":3')
assert_json "$(wait_final hh "$OUT1")" .status ready "dashscope survives the outage"
assert_json "$(wait_final fal "$OUT2")" .status ready "fal survives the outage"

# --- kill -9 while every task is at the provider, then a restart ---
# The tasks are held at the provider until released, so catching all four
# there does not race the provider's clock on a loaded machine.
declare -a KILL_IDS
for i in 1 2 3 4; do
  KILL_IDS+=("$(create hh "\"prompt\":\"a horse survives a crash $i [hold]\",\"durationSec\":3")")
done
deadline=$((SECONDS + 120))
while [ "$SECONDS" -lt "$deadline" ]; do # until all four are at the provider
  n=0
  for id in "${KILL_IDS[@]}"; do
    [ "$(hh admin video show --id "$id" | jq -r '.remote.phase // ""')" = wait ] && n=$((n + 1))
  done
  [ "$n" = 4 ] && break
  sleep 0.1
done
assert_eq 4 "$n" "all four handed to the provider before the kill"
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
start_server --workers 2 --plans "$HH_TMP/plans.json"
standin_release
for i in 1 2 3 4; do
  final=$(wait_final hh "${KILL_IDS[$((i - 1))]}")
  assert_json "$final" .status ready "video $i ready after the restart"
  assert_eq 1 "$(creates_seen "a horse survives a crash $i")" "video $i: exactly one provider create"
done
assert_eq "$(ledger_sum hh@example.com)" "$(credits hh@example.com)" "one charge each, the ledger whole"

# --- secrets: never in a log line or /metrics ---
req GET /metrics
assert_not_contains "$(cat "$BODY")" "$STANDIN_KEY" "/metrics holds no provider key"
assert_contains "$(cat "$BODY")" 'happyhorse_provider_requests_total{kind="poll"}' "provider requests are counted"
stop_server
assert_not_contains "$(cat "$DATA"/server.*.log)" "$STANDIN_KEY" "no log line holds the provider key"

# --- a plan must never sell what its model cannot make ---
sed 's/"lastFrame":false/"lastFrame":true/' "$HH_TMP/plans.json" >"$HH_TMP/bad.json"
assert_exit 2 "$HH_BIN" serve --listen 127.0.0.1:0 --data "$DATA" --plans "$HH_TMP/bad.json"
assert_contains "$RUN_ERR" 'plan "hh": allow.lastFrame is true but engine "dashscope"' "refused at start, naming plan and field"
sed 's/"model":"happyhorse-1.0-t2v","imageModel":"happyhorse-1.0-i2v"/"model":"happyhorse-1.0-t2v"/' \
  "$HH_TMP/plans.json" >"$HH_TMP/bad2.json"
assert_exit 2 "$HH_BIN" serve --listen 127.0.0.1:0 --data "$DATA" --plans "$HH_TMP/bad2.json"
assert_contains "$RUN_ERR" 'plan "hh": allow.sourceImage is true' "no image model: no source image sold"
assert_exit 1 env -u HH_TEST_PROVIDER_KEY "$HH_BIN" serve --listen 127.0.0.1:0 \
  --data "$DATA" --plans "$HH_TMP/plans.json" --workers 1
assert_contains "$RUN_ERR" "HH_TEST_PROVIDER_KEY named by apiKeyEnv is not set" "a missing key is named, not guessed"
hh_done
