#!/usr/bin/env bash
# test_watermark.sh - the plan setting `watermark`, measured on real outputs:
#  - `happyhorse render --watermark` of a seeded job differs from the same
#    render without it only in the bottom-right box, where bright letters
#    over a dark shadow appear (the procedural engine's path);
#  - through the server, a plan with "watermark": true and one without,
#    both on an exec generator of a flat grey picture (the re-encode path of
#    every non-procedural engine): the first plan's video has the mark in
#    its corner, the second's corner is as flat as the rest;
#  - the plans file refuses a watermark or publish that is not a boolean.
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
STATS="$HH_SRC/tests/api/corner_stats.py"
# gray MP4 RAW W H: frame 24 of the MP4 as 8-bit luma.
gray() {
  ffmpeg -nostdin -v error -y -i "$1" -vf "select=eq(n\,24)" -frames:v 1 -pix_fmt gray \
    -f rawvideo "$2" || fail "cannot decode $1"
}
num() { jq -r "$2" <<<"$1"; }
# above A B: A > B as numbers
above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

# --- the procedural engine: the same seeded job with and without the mark ---
printf '{"prompt":"a quiet lake at dawn","durationSec":3,"seed":7}\n' >"$HH_TMP/job.json"
for m in plain marked; do
  flag=()
  [ $m = marked ] && flag=(--watermark)
  assert_exit 0 "$HH_BIN" render --job "$HH_TMP/job.json" --out "$HH_TMP/$m.mp4" \
    --thumb "$HH_TMP/$m.jpg" "${flag[@]}"
  gray "$HH_TMP/$m.mp4" "$HH_TMP/$m.raw"
done
S=$(python3 "$STATS" 1280 720 "$HH_TMP/marked.raw" "$HH_TMP/plain.raw")
above "$(num "$S" .mark.diff)" 20 || fail "the mark changes its corner too little: $S"
above 1 "$(num "$S" .other.diff)" || fail "the mark changed the opposite corner: $S"
above "$(num "$S" .mark.bright)" 0.15 || fail "too few bright letter pixels: $S"
above "$(num "$S" .mark.dark)" 0.05 || fail "no dark shadow under the letters: $S"
HH_ASSERTS=$((HH_ASSERTS + 4))
cmp -s "$HH_TMP/plain.jpg" "$HH_TMP/marked.jpg" && fail "the thumbnail carries no mark"

# --- through the server: the plan decides, for an exec engine's re-encode too ---
cat >"$HH_TMP/grey.sh" <<'GEN'
#!/usr/bin/env bash
# A flat mid-grey picture, 12 frames: any structure in the output is ours.
set -eu
cat >/dev/null
ffmpeg -nostdin -v error -f lavfi -i color=c=0x808080:size=640x360:rate=12 -frames:v 12 \
  "${!#}/frame_%05d.png"
GEN
chmod +x "$HH_TMP/grey.sh"
plan() { # NAME WATERMARK
  printf '{"name":"%s","maxDurationSec":5,"requestsPerMinute":1000,"jobsInFlight":2,' "$1"
  printf '"allow":{"1080p":true,"sourceImage":true,"lastFrame":false,"referenceVideo":false,'
  printf '"referenceAudio":false},"creditsPerSecond":{"720p":10,"1080p":20},"watermark":%s,' "$2"
  printf '"engine":{"name":"exec","command":["%s"],"preset":"ultrafast"}}' "$HH_TMP/grey.sh"
}
printf '{"plans":[%s,%s]}\n' "$(plan free true)" "$(plan paid false)" >"$HH_TMP/plans.json"
export HAPPYHORSE_PLANS=$HH_TMP/plans.json
for p in free paid; do
  hh admin user create --email "$p@example.com" --plan $p --credits 1000 >/dev/null
  printf -v "KEY_$p" '%s' "$(hh admin key create --email "$p@example.com")"
done
start_server --workers 2

wait_ready() { # KEY ID -> the ready video's JSON
  local i body
  for i in $(seq 600); do
    body=$(curl -s "$BASE/api/v1/videos/$2" -H "Authorization: Bearer $1")
    case $(jq -r .status <<<"$body") in
    ready) printf '%s' "$body" && return 0 ;;
    failed) fail "video $2 failed: $body" ;;
    esac
    sleep 0.2
  done
  fail "video $2 never became ready: $body"
}
for p in free paid; do
  key_var=KEY_$p
  req POST /api/v1/videos -H "Authorization: Bearer ${!key_var}" \
    -H "Content-Type: application/json" -d '{"prompt":"grey","durationSec":3}'
  assert_status 202 "$STATUS" "create on $p: $(cat "$BODY")"
  v=$(wait_ready "${!key_var}" "$(jq -r .id "$BODY")")
  curl -sf -o "$HH_TMP/$p.mp4" "$(jq -r .videoUrl <<<"$v")" || fail "cannot download the $p video"
  gray "$HH_TMP/$p.mp4" "$HH_TMP/$p.raw"
done
F=$(python3 "$STATS" 1280 720 "$HH_TMP/free.raw")
P=$(python3 "$STATS" 1280 720 "$HH_TMP/paid.raw")
above "$(num "$F" .mark.bright)" 0.15 || fail "watermark plan: no bright letters in the corner: $F"
above "$(num "$F" .mark.dark)" 0.05 || fail "watermark plan: no shadow in the corner: $F"
assert_eq 0 "$(num "$F" '.other.bright + .other.dark')" "watermark plan: the top-left corner stays grey"
assert_eq 0 "$(num "$P" '.mark.bright + .mark.dark')" "plan without watermark: the corner stays grey"
HH_ASSERTS=$((HH_ASSERTS + 2))
stop_server

# --- the plans file: both settings are booleans ---
for bad in '"watermark":1' '"publish":"yes"'; do
  sed "s/\"watermark\":false/$bad/" "$HH_TMP/plans.json" >"$HH_TMP/bad.json"
  assert_exit 2 "$HH_BIN" serve --listen 127.0.0.1:0 --data "$DATA" --plans "$HH_TMP/bad.json"
  assert_contains "$RUN_ERR" "must be true or false" "refusal of $bad"
done
hh_done
