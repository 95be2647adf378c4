#!/usr/bin/env bash
# bench/render/same_picture.sh - checks that two builds of the renderer draw
# the same pictures: renders a set of jobs (every grade, settings, weather,
# times of day, camera motions, 720p/1080p and other aspects, a source
# image, a last frame and a reference video as plates) with both binaries,
# and compares the MD5 of every decoded frame (raw yuv420p) and of the
# thumbnail. The encoder is deterministic, so equal input frames give equal
# MP4s; each job is also rendered twice by the first binary to show that.
#
#   bench/render/same_picture.sh BEFORE_BIN AFTER_BIN
# Prints one line per job and exits 1 if any differs.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BEFORE_BIN AFTER_BIN" >&2; exit 2; }
A=$1 B=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# Inputs for the plate paths, made by ffmpeg (not by either binary).
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=640x360:rate=1 -frames:v 1 "$T/src.png"
ffmpeg -nostdin -v error -f lavfi -i smptebars=size=640x360:rate=1 -frames:v 1 "$T/last.png"
ffmpeg -nostdin -v error -f lavfi -i testsrc=size=640x360:rate=24 -t 3 -pix_fmt yuv420p "$T/ref.mp4"

jobs=(
  '{"prompt":"a night city skyline in the rain, neon lights","durationSec":3,"resolution":"720p","cameraMotion":"pan-right","style":"cinematic","seed":1}'
  '{"prompt":"a sunny meadow with wild horses","durationSec":3,"resolution":"1080p","cameraMotion":"zoom-in","style":"anime","seed":2}'
  '{"prompt":"a foggy forest at dawn","durationSec":3,"resolution":"720p","aspectRatio":"9:16","cameraMotion":"tilt-up","style":"noir","seed":3}'
  '{"prompt":"ocean waves at sunset, a lighthouse","durationSec":3,"resolution":"720p","aspectRatio":"1:1","cameraMotion":"orbit","style":"vintage","seed":4}'
  '{"prompt":"desert dunes under the stars","durationSec":3,"resolution":"720p","cameraMotion":"pan-left","style":"pastel","seed":5}'
  '{"prompt":"snowy mountain peaks, snowfall","durationSec":3,"resolution":"720p","cameraMotion":"zoom-out","style":"vivid","seed":6}'
  '{"prompt":"fireflies over a lake in summer night","durationSec":3,"resolution":"720p","cameraMotion":"static","seed":7}'
  '{"prompt":"bokeh lights of a tokyo street","durationSec":3,"resolution":"720p","cameraMotion":"tilt-down","style":"film","seed":8}'
  '{"prompt":"a red kite over the canyon","durationSec":3,"resolution":"720p","sourceImage":"src.png","style":"cinematic","seed":9}'
  '{"prompt":"the city turns to a valley","durationSec":3,"resolution":"720p","lastFrame":"last.png","cameraMotion":"pan-right","style":"vintage","seed":10}'
  '{"prompt":"a river in the rain","durationSec":3,"resolution":"720p","referenceVideo":"ref.mp4","style":"noir","seed":11}'
)

frames_md5() { ffmpeg -nostdin -v error -i "$1" -f rawvideo -pix_fmt yuv420p - | md5sum | cut -c1-32; }
render() { # BIN JOBFILE OUT: prints the frames' and the thumbnail's MD5
  if ! "$1" render --job "$2" --out "$3.mp4" --thumb "$3.jpg" 2>"$3.err"; then
    echo "render failed: $1 $2: $(cat "$3.err")" >&2
    return 1
  fi
  echo "$(frames_md5 "$3.mp4") $(md5sum <"$3.jpg" | cut -c1-32)"
}

bad=0
i=0
for j in "${jobs[@]}"; do
  i=$((i + 1))
  printf '%s\n' "$j" >"$T/job$i.json"
  a=$(render "$A" "$T/job$i.json" "$T/a$i") || exit 1
  a2=$(render "$A" "$T/job$i.json" "$T/a$i-again") || exit 1
  b=$(render "$B" "$T/job$i.json" "$T/b$i") || exit 1
  verdict=same
  [ "$a" = "$a2" ] || verdict="NOT DETERMINISTIC ($a vs $a2)"
  [ "$a" = "$b" ] || { verdict="DIFFERENT ($a vs $b)"; bad=1; }
  echo "job $i: $verdict  $(printf '%s' "$j" | cut -c1-70)"
done
exit $bad
