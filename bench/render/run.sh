#!/usr/bin/env bash
# bench/render/run.sh - what the procedural engine costs against the encoder
# alone: `happyhorse render` of a 6 s clip (144 frames) at 720p and 1080p
# versus the ffmpeg CLI encoding 144 frames of testsrc2 at the same size
# with the same x264 settings (preset veryfast, crf 20, High, yuv420p, all
# threads, +faststart). Timed with hyperfine; the ratio ours / ffmpeg goes
# into docs/benchmarks.md between the render markers (section "Render").
# `make bench` runs it through bench/render.sh with --no-write (bench/run.sh
# writes the whole file); alone it updates only its own section.
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
trap 'rm -rf "$T"' EXIT

rows=""
for res in 720p 1080p; do
  if [ $res = 720p ]; then size=1280x720; else size=1920x1080; fi
  cat >"$T/job_$res.json" <<JOB
{"prompt":"a night city skyline in the rain, neon lights","durationSec":6,"resolution":"$res","cameraMotion":"pan-right","style":"cinematic","seed":1}
JOB
  ours="$BIN render --job $T/job_$res.json --out $T/ours_$res.mp4 --thumb $T/ours_$res.jpg"
  ref="ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=$size:rate=24 -frames:v 144 \
-c:v libx264 -preset veryfast -crf 20 -profile:v high -pix_fmt yuv420p -threads 0 \
-movflags +faststart $T/ref_$res.mp4"
  hyperfine --warmup 1 --runs "$RUNS" --export-json "$T/$res.json" -n "happyhorse $res" "$ours" \
    -n "ffmpeg testsrc2 $res" "$ref" >&2
  read -r a sa b sb ca cb < <(jq -r '[.results[0].mean, .results[0].stddev, .results[1].mean,
    .results[1].stddev, .results[0].user + .results[0].system,
    .results[1].user + .results[1].system] | @tsv' "$T/$res.json")
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
  fps=$(awk -v a="$a" 'BEGIN { printf "%.0f", 144 / a }')
  rows+=$(printf '| %s (%s, 144 frames) | %.2f ± %.2f s (%s fps), CPU %.2f s | %.2f ± %.2f s, CPU %.2f s | %s |' \
    "$res" "$size" "$a" "$sa" "$fps" "$ca" "$b" "$sb" "$cb" "$ratio")$'\n'
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
section=$(
  cat <<MD
<!-- render:begin -->
## Render

\`bench/render/run.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, $cpu; $RUNS runs each after a warm-up,
hyperfine). The procedural engine renders and encodes a 6 s clip (night city in the rain, pan-right,
cinematic grade); the baseline is the \`ffmpeg\` CLI encoding the same number of \`testsrc2\` frames at the
same size with the same x264 settings (veryfast, crf 20, High, yuv420p, all threads, +faststart).
Ratio = ours / ffmpeg (wall time): 1.00 would mean the renderer costs nothing beyond the encoder.
CPU = user + system seconds per run.

| clip | happyhorse render | ffmpeg testsrc2 encode | ratio |
|---|---|---|---|
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
