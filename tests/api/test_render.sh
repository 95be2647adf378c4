#!/usr/bin/env bash
# test_render.sh - `happyhorse render` end to end with the procedural
# engine: every aspect ratio x resolution, every camera motion, each style,
# with and without image / last-frame / video / audio inputs, each output
# checked with ffprobe (codec, profile, pix_fmt, BT.709, size, frame count,
# duration, audio codec and duration, moov before mdat, thumbnail), plus the
# command's exit statuses and one-line errors for bad usage, invalid jobs
# and broken inputs. Fixtures are made here with the ffmpeg CLI.
#
# Under a sanitizer build (HH_BUILD contains "asan") or with
# HH_RENDER_REDUCED=1 a reduced matrix runs, so `make check` stays short.
set -euo pipefail
BIN=${HH_BIN:-build/happyhorse}
T=$(mktemp -d "${TMPDIR:-/tmp}/hh-test-render-XXXXXX")
trap 'rm -rf "$T"' EXIT
reduced=${HH_RENDER_REDUCED:-0}
case "${HH_BUILD:-}" in *asan* | *fuzz*) reduced=1 ;; esac

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
checks=0

# ---- fixtures ---------------------------------------------------------
ff() { ffmpeg -nostdin -v error -y "$@"; }
ff -f lavfi -i testsrc2=size=800x600 -frames:v 1 "$T/src.png"
ff -f lavfi -i smptebars=size=640x480 -frames:v 1 "$T/last.jpg"
ff -f lavfi -i testsrc2=size=320x240:rate=30 -t 2 -pix_fmt yuv420p -c:v libx264 "$T/ref.mp4"
ff -f lavfi -i testsrc2=size=320x240:rate=25 -t 5 -c:v libvpx "$T/ref.webm"
ff -f lavfi -i sine=frequency=440:sample_rate=44100 -t 2 "$T/ref.wav"
ff -f lavfi -i sine=frequency=220:sample_rate=22050 -t 20 -c:a libmp3lame "$T/ref.mp3"
head -c 3000 "$T/ref.mp4" >"$T/truncated.mp4"
: >"$T/empty.wav"
# A real PNG whose header is patched to declare 60000 x 60000 pixels.
cp "$T/src.png" "$T/huge.png"
printf '\x00\x00\xea\x60\x00\x00\xea\x60' | dd of="$T/huge.png" bs=1 seek=16 conv=notrunc status=none

# ---- helpers ----------------------------------------------------------
# Top-level MP4 boxes in file order, one type per line.
boxes() {
  local f=$1 off=0 size type n
  n=$(stat -c %s "$f")
  while [ "$off" -lt "$n" ]; do
    read -r -a b < <(od -An -tu1 -j"$off" -N8 "$f")
    size=$(((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]))
    type=$(printf "\\$(printf %03o "${b[4]}")\\$(printf %03o "${b[5]}")\\$(printf %03o "${b[6]}")\\$(printf %03o "${b[7]}")")
    echo "$type"
    if [ "$size" -eq 1 ]; then
      read -r -a b < <(od -An -tu1 -j$((off + 8)) -N8 "$f")
      size=0
      for i in 0 1 2 3 4 5 6 7; do size=$(((size << 8) | b[i])); done
    fi
    [ "$size" -ge 8 ] || break
    off=$((off + size))
  done
}

# check NAME W H DURATION HAS_AUDIO
check() {
  local name=$1 w=$2 h=$3 dur=$4 audio=$5 v=$T/$1.mp4 j
  j=$(ffprobe -v error -count_frames -show_entries \
    stream=codec_type,codec_name,profile,pix_fmt,width,height,nb_read_frames,duration,color_space,color_primaries,color_transfer:format=duration \
    -of json "$v") || fail "$name: ffprobe cannot read the MP4"
  jq -e --argjson w "$w" --argjson h "$h" --argjson d "$dur" '
    [.streams[] | select(.codec_type == "video")] | length == 1 and
    (.[0] | .codec_name == "h264" and .profile == "High" and .pix_fmt == "yuv420p" and
            .width == $w and .height == $h and (.nb_read_frames | tonumber) == $d * 24 and
            ((.duration | tonumber) - $d | fabs) <= (1 / 24) and
            .color_space == "bt709" and .color_primaries == "bt709" and .color_transfer == "bt709")' \
    <<<"$j" >/dev/null || fail "$name: video stream wrong: $j"
  if [ "$audio" = 1 ]; then
    jq -e --argjson d "$dur" '[.streams[] | select(.codec_type == "audio")] | length == 1 and
      (.[0] | .codec_name == "aac" and ((.duration | tonumber) - $d | fabs) <= (1 / 24))' \
      <<<"$j" >/dev/null || fail "$name: audio stream wrong: $j"
  else
    jq -e '[.streams[] | select(.codec_type == "audio")] | length == 0' <<<"$j" >/dev/null ||
      fail "$name: unexpected audio stream"
  fi
  local order
  order=$(boxes "$v" | grep -E '^(moov|mdat)$' | tr '\n' ' ')
  [ "$order" = "moov mdat " ] || fail "$name: not faststart, top-level boxes: $order"
  j=$(ffprobe -v error -show_entries stream=codec_name,width,height -of json "$T/$name.jpg") ||
    fail "$name: thumbnail unreadable"
  # Same aspect ratio as the video, within the rounding to even sizes.
  jq -e --argjson w "$w" --argjson h "$h" '.streams[0] | .codec_name == "mjpeg" and
      ((.width / .height) - ($w / $h) | fabs) < 0.01 and ([.width, .height] | max) <= 640' \
    <<<"$j" >/dev/null || fail "$name: thumbnail wrong: $j"
  checks=$((checks + 1))
}

# render NAME JOB_JSON: renders and expects success.
render() {
  local name=$1
  printf '%s\n' "$2" >"$T/$name.json"
  "$BIN" render --job "$T/$name.json" --out "$T/$name.mp4" --thumb "$T/$name.jpg" 2>"$T/$name.err" ||
    fail "$name: render failed: $(cat "$T/$name.err")"
}

# ---- sizes --------------------------------------------------------------
if [ "$reduced" = 1 ]; then
  sizes="720p:16:9:1280:720 1080p:9:16:1080:1920"
else
  sizes="720p:16:9:1280:720 720p:9:16:720:1280 720p:1:1:720:720 1080p:16:9:1920:1080 1080p:9:16:1080:1920"
fi
for s in $sizes; do
  IFS=: read -r res a1 a2 w h <<<"$s"
  name="size_${res}_${a1}x${a2}"
  render "$name" "{\"prompt\":\"a sunlit meadow\",\"durationSec\":3,\"resolution\":\"$res\",\"aspectRatio\":\"$a1:$a2\"}"
  check "$name" "$w" "$h" 3 0
done

# ---- camera motions, styles ---------------------------------------------
if [ "$reduced" = 1 ]; then
  cams="orbit zoom-in"
  styles="cinematic noir"
else
  cams="none static pan-left pan-right tilt-up tilt-down zoom-in zoom-out orbit"
  styles="cinematic anime noir vintage pastel vivid baroque"
fi
i=1
for c in $cams; do
  i=$((i % 5 + 1))
  render "cam_$c" "{\"prompt\":\"a city at night\",\"durationSec\":3,\"aspectRatio\":\"1:1\",\"cameraMotion\":\"$c\",\"motionIntensity\":$i}"
  check "cam_$c" 720 720 3 0
done
for st in $styles; do
  render "style_$st" "{\"prompt\":\"a misty forest at dawn\",\"durationSec\":3,\"aspectRatio\":\"1:1\",\"style\":\"$st\",\"cfgScale\":1}"
  check "style_$st" 720 720 3 0
done

# ---- inputs ---------------------------------------------------------------
render in_all "{\"prompt\":\"a beach\",\"durationSec\":4,\"sourceImage\":\"src.png\",\"referenceVideo\":\"ref.webm\",\"referenceAudio\":\"ref.mp3\",\"cameraMotion\":\"pan-right\"}"
check in_all 1280 720 4 1
# Drawing in row bands on 4 threads gives the very same frames.
"$BIN" render --job "$T/in_all.json" --out "$T/bands.mp4" --thumb "$T/bands.jpg" \
  --engine-config '{"drawThreads":4}' || fail "bands: render failed"
[ "$(ffmpeg -nostdin -v error -i "$T/in_all.mp4" -f framemd5 - | md5sum)" = \
  "$(ffmpeg -nostdin -v error -i "$T/bands.mp4" -f framemd5 - | md5sum)" ] ||
  fail "drawThreads 4 changed the frames"
checks=$((checks + 1))
render in_last_audio "{\"prompt\":\"a desert\",\"durationSec\":3,\"lastFrame\":\"$T/last.jpg\",\"referenceAudio\":\"ref.wav\",\"aspectRatio\":\"9:16\"}"
check in_last_audio 720 1280 3 1
# The clip ends on the last-frame image: the final frame matches it closely.
ff -i "$T/in_last_audio.mp4" -vf "select=eq(n\,71)" -frames:v 1 "$T/final.png"
ff -i "$T/last.jpg" -vf "scale=720:1280:force_original_aspect_ratio=increase,crop=720:1280" "$T/last_cover.png"
psnr=$(ffmpeg -nostdin -i "$T/final.png" -i "$T/last_cover.png" -lavfi psnr -f null - 2>&1 |
  sed -n 's/.*average:\([0-9.inf]*\).*/\1/p')
awk -v p="$psnr" 'BEGIN { exit !(p == "inf" || p + 0 > 25) }' || fail "last frame PSNR $psnr"
checks=$((checks + 1))
if [ "$reduced" != 1 ]; then
  render in_image "{\"prompt\":\"a painting\",\"durationSec\":3,\"sourceImage\":\"src.png\",\"cameraMotion\":\"zoom-out\",\"cfgScale\":0}"
  check in_image 1280 720 3 0
  render in_video "{\"prompt\":\"city\",\"durationSec\":5,\"referenceVideo\":\"ref.mp4\",\"resolution\":\"1080p\",\"aspectRatio\":\"1:1\"}"
  check in_video 1080 1080 5 0
  render in_audio_long "{\"prompt\":\"a lake\",\"durationSec\":12,\"referenceAudio\":\"ref.mp3\",\"aspectRatio\":\"1:1\"}"
  check in_audio_long 720 720 12 1
fi

# ---- exit statuses and messages -------------------------------------------
# expect STATUS PATTERN ARGS...: exit status and a one-line stderr matching PATTERN.
expect() {
  local want=$1 pat=$2 got=0
  shift 2
  "$BIN" render "$@" >/dev/null 2>"$T/err" || got=$?
  [ "$got" = "$want" ] || fail "render $*: exit $got, want $want ($(cat "$T/err"))"
  [ "$(wc -l <"$T/err")" = 1 ] || fail "render $*: stderr is not one line: $(cat "$T/err")"
  grep -qE "$pat" "$T/err" || fail "render $*: stderr '$(cat "$T/err")' lacks /$pat/"
  checks=$((checks + 1))
}
[[ $("$BIN" render --help) == *--job* ]] || fail "render --help"
o=(--out "$T/x.mp4" --thumb "$T/x.jpg")
expect 2 'required' --job "$T/a.json"
expect 2 'unknown option' --job "$T/a.json" "${o[@]}" --frobnicate 1
expect 2 'cannot open' --job "$T/missing.json" "${o[@]}"
echo '{"prompt": "abc", ' >"$T/bad.json"
expect 2 'bad JSON' --job "$T/bad.json" "${o[@]}"
echo '{"prompt":"a meadow","durationSec":6.5}' >"$T/j1.json"
expect 2 'invalid job: durationSec' --job "$T/j1.json" "${o[@]}"
echo '{"prompt":"a meadow","durationSec":"6"}' >"$T/j2.json"
expect 2 'durationSec' --job "$T/j2.json" "${o[@]}"
echo '{"prompt":"a meadow","durationSec":6,"model":"sora"}' >"$T/j3.json"
expect 2 "unknown field 'model'" --job "$T/j3.json" "${o[@]}"
echo '{"prompt":"a meadow","durationSec":6,"sourceImageKey":"videos/inputs/x.png"}' >"$T/j4.json"
expect 2 "unknown field 'sourceImageKey'" --job "$T/j4.json" "${o[@]}"
echo '{"prompt":"a meadow","durationSec":6,"sourceImage":"a.png","lastFrame":"b.png"}' >"$T/j5.json"
expect 2 'lastFrame cannot be combined' --job "$T/j5.json" "${o[@]}"
echo '{"prompt":"a meadow","durationSec":3}' >"$T/ok.json"
expect 2 "unknown engine" --job "$T/ok.json" "${o[@]}" --engine upstream
expect 2 "engine-config" --job "$T/ok.json" "${o[@]}" --engine-config '{nope'
expect 2 "exec needs" --job "$T/ok.json" "${o[@]}" --engine exec

# broken inputs: exit 1, one line, no output left behind
for b in "referenceVideo:truncated.mp4:reference video could not be decoded" \
  "sourceImage:huge.png:source image could not be decoded" \
  "referenceAudio:empty.wav:reference audio could not be decoded" \
  "referenceVideo:ref.wav:reference video could not be decoded" \
  "lastFrame:nothing-here.png:last frame image could not be decoded"; do
  IFS=: read -r field file msg <<<"$b"
  echo "{\"prompt\":\"broken\",\"durationSec\":3,\"$field\":\"$file\"}" >"$T/broken.json"
  expect 1 "$msg" --job "$T/broken.json" "${o[@]}"
  [ ! -e "$T/x.mp4" ] && [ ! -e "$T/x.jpg" ] || fail "$field: partial output left behind"
done

echo "ok: $checks checks (reduced=$reduced)"
