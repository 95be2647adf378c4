#!/usr/bin/env bash
# bench/render/run.sh - what the procedural engine costs against the encoder
# alone: `happyhorse render` of a 6 s clip (144 frames) at 720p and 1080p
# versus the ffmpeg CLI encoding that clip's own frames (our MP4 decoded to
# raw yuv420p in /dev/shm, read from memory) with the same x264 settings
# (preset veryfast, crf 20, High, yuv420p, a keyframe every 48 frames as
# ours, all threads, +faststart). The two encoders then see the same
# pictures, so the difference is drawing, RGB->YUV conversion and our frame
# loop. Timed with hyperfine, the two commands alternated run by run; the
# ratio ours / ffmpeg goes into docs/benchmarks.md between the render
# markers. `make bench` runs it through bench/render.sh with --no-write
# (bench/run.sh writes the whole file); alone it updates only its section.
#
#   bench/render/run.sh [--runs N] [--no-write]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${HH_BIN:-build/happyhorse}
RUNS=5
WRITE=1
while [ $# -gt 0 ]; do
  case $1 in
  --runs) RUNS=$2; shift 2 ;;
  --no-write) WRITE=0; shift ;;
  *) echo "usage: $0 [--runs N] [--no-write]" >&2; exit 2 ;;
  esac
done
command -v hyperfine >/dev/null || { echo "hyperfine is needed" >&2; exit 1; }
[ -x "$BIN" ] || { echo "build first: make build" >&2; exit 1; }
T=$(mktemp -d)
RAW=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$T" "$RAW"' EXIT

rows=""
for res in 720p 1080p; do
  if [ $res = 720p ]; then size=1280x720; else size=1920x1080; fi
  cat >"$T/job_$res.json" <<JOB
{"prompt":"a night city skyline in the rain, neon lights","durationSec":6,"resolution":"$res","cameraMotion":"pan-right","style":"cinematic","seed":1}
JOB
  ours="$BIN render --job $T/job_$res.json --out $T/ours_$res.mp4 --thumb $T/ours_$res.jpg"
  $ours 2>/dev/null
  ffmpeg -nostdin -v error -y -i "$T/ours_$res.mp4" -f rawvideo -pix_fmt yuv420p "$RAW/$res.yuv"
  ref="ffmpeg -nostdin -v error -y -f rawvideo -pix_fmt yuv420p -s $size -r 24 -i $RAW/$res.yuv \
-c:v libx264 -preset veryfast -crf 20 -profile:v high -pix_fmt yuv420p -g 48 -threads 0 \
-movflags +faststart $T/ref_$res.mp4"
  # One warm-up each, then the pair alternated so both see the same load.
  hyperfine --warmup 1 --runs 1 -n warm "$ours" -n warm-ref "$ref" >/dev/null 2>&1
  for _ in $(seq "$RUNS"); do
    hyperfine --runs 1 --export-json "$T/o.json" "$ours" >/dev/null 2>&1
    hyperfine --runs 1 --export-json "$T/r.json" "$ref" >/dev/null 2>&1
    jq -r '.results[0] | [.mean, .user + .system] | @tsv' "$T/o.json" >>"$T/ours_$res.tsv"
    jq -r '.results[0] | [.mean, .user + .system] | @tsv' "$T/r.json" >>"$T/ref_$res.tsv"
  done
  med() { sort -n -k"$2" "$1" | awk -v k="$2" '{v[NR]=$k} END {print v[int((NR+1)/2)]}'; }
  a=$(med "$T/ours_$res.tsv" 1) ca=$(med "$T/ours_$res.tsv" 2)
  b=$(med "$T/ref_$res.tsv" 1) cb=$(med "$T/ref_$res.tsv" 2)
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
  cratio=$(awk -v a="$ca" -v b="$cb" 'BEGIN { printf "%.2f", a / b }')
  fps=$(awk -v a="$a" 'BEGIN { printf "%.0f", 144 / a }')
  rows+=$(printf '| %s (%s, 144 frames) | %.2f s (%s fps), CPU %.2f s | %.2f s, CPU %.2f s | %s | %s |' \
    "$res" "$size" "$a" "$fps" "$ca" "$b" "$cb" "$ratio" "$cratio")$'\n'
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
section=$(
  cat <<MD
<!-- render:begin -->
## Render

\`bench/render/run.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, $cpu; median of $RUNS runs each after
a warm-up, ours and the reference alternated). The procedural engine renders and encodes a 6 s clip
(night city in the rain, pan-right, cinematic grade); the reference is the \`ffmpeg\` CLI encoding
**that clip's own frames** (our MP4 decoded to raw yuv420p in /dev/shm) with the same x264 settings
(veryfast, crf 20, High, yuv420p, keyframe every 48 frames, all threads, +faststart). Ratio = ours /
ffmpeg, wall time and CPU time (user + system): 1.00 would mean drawing costs nothing beyond the
encoder. Goal: ≤ 1.10.

| clip | happyhorse render | ffmpeg, same frames | ratio (wall) | ratio (CPU) |
|---|---|---|---|---|
${rows%$'\n'}
<!-- render:end -->
MD
)
echo "$section"
if [ "$WRITE" = 1 ]; then
  f=docs/benchmarks.md
  [ -f $f ] || printf '# Benchmarks\n\n' >$f
  if grep -q '<!-- render:begin -->' $f; then
    awk -v s="$section" '/<!-- render:begin -->/ { print s; skip = 1; next }
      /<!-- render:end -->/ { skip = 0; next } !skip' $f >"$T/b.md"
    cp "$T/b.md" $f
  else
    printf '\n%s\n' "$section" >>$f
  fi
  echo "updated $f" >&2
fi
