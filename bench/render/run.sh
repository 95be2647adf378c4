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

# Where the CPU of one 720p render goes: perf's samples by object (our code is
# the drawing and the frame loop, swscale our BGR->YUV conversion, both work
# the reference does not do; libx264 the encoder both do), our top functions.
profile="(perf is not available here: no profile)"
if command -v perf >/dev/null &&
  perf record -q -F 999 -o "$T/perf.data" $BIN render --job "$T/job_720p.json" \
    --out "$T/p.mp4" --thumb "$T/p.jpg" >/dev/null 2>&1; then
  report() { perf report -i "$T/perf.data" --no-children -q -g none "$@" 2>/dev/null; }
  by_dso=$(report --sort dso | awk '$1 ~ /%$/ && NR <= 5 {name = $2; sub(/\.so.*/, "", name)
    printf "%s %s, ", name, $1}')
  share() { # OBJECT: its share (the name up to ".so")
    report --sort dso | awk -v d="$1" '{n = $2; sub(/\.so.*/, "", n)} n == d {sub(/%/, "", $1); print $1}'
  }
  ours_pct=$(share "$(basename "$BIN")") sws_pct=$(share libswscale)
  top=$(report --dso "$(basename "$BIN")" --sort sym | awk '$1 ~ /%$/ && NR <= 4 {
    printf "`%s` %s, ", $3, $1}')
  profile="Where one 720p render's CPU goes (\`perf record -F 999\`, share of all samples):
${by_dso%, }. The work the reference does not do is our code, ${ours_pct:-?}% (drawing and the
frame loop: ${top%, }), and swscale's BGR to YUV conversion, ${sws_pct:-?}%. On these $(nproc) cores
every stage is CPU-bound (the frame pipeline overlaps drawing with encoding, but no core is idle to
overlap into), so the wall ratio follows the CPU ratio, about 1 / (1 − that share): 1.10 needs it at
9% or less. That is the measured reason the goal is not met: the drawing itself must get cheaper
(fewer passes over the frame, SIMD in \`draw_layers\`), or run on cores the encoder leaves idle."
fi

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

$profile
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
