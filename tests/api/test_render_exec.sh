#!/usr/bin/env bash
# test_render_exec.sh - the exec engine with real external programs (small
# generator scripts written here, and `happyhorse render` itself behind the
# exec contract): the job JSON a generator receives, a PNG sequence with its
# own audio.wav, an MJPEG AVI of another size, length and frame rate, all
# re-encoded to the contract's MP4; and the failure paths: a failing
# generator's last stderr line, the time limit killing the whole process
# group, no output, undecodable output, a command that does not exist.
set -euo pipefail
BIN=$(realpath "${HH_BIN:-build/happyhorse}")
T=$(mktemp -d "${TMPDIR:-/tmp}/hh-test-exec-XXXXXX")
trap 'rm -rf "$T"' EXIT
export T BIN
mkdir "$T/tmp"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
checks=0
ff() { ffmpeg -nostdin -v error -y "$@"; }
ff -f lavfi -i testsrc2=size=640x360 -frames:v 1 "$T/src.png"
ff -f lavfi -i sine=frequency=330:sample_rate=44100 -t 6 "$T/ref.wav"

# probe NAME W H DUR AUDIO: the contract's MP4 (codec, size, frames, duration, audio).
probe() {
  local v=$T/$1.mp4 j
  j=$(ffprobe -v error -count_frames -show_entries \
    stream=codec_type,codec_name,pix_fmt,width,height,nb_read_frames,duration -of json "$v") ||
    fail "$1: no readable MP4"
  jq -e --argjson w "$2" --argjson h "$3" --argjson d "$4" --argjson a "$5" '
    ([.streams[] | select(.codec_type == "video")][0] | .codec_name == "h264" and
      .pix_fmt == "yuv420p" and .width == $w and .height == $h and
      (.nb_read_frames | tonumber) == $d * 24 and ((.duration | tonumber) - $d | fabs) <= (1 / 24)) and
    ([.streams[] | select(.codec_type == "audio" and .codec_name == "aac")] | length) == $a' \
    <<<"$j" >/dev/null || fail "$1: wrong MP4: $j"
  [ -s "$T/$1.jpg" ] || fail "$1: no thumbnail"
  checks=$((checks + 1))
}

# run NAME JOB CONFIG: renders with the exec engine; status in $rc, stderr in $T/NAME.err.
run() {
  printf '%s\n' "$2" >"$T/$1.json"
  rc=0
  TMPDIR=$T/tmp "$BIN" render --engine exec --engine-config "$3" --job "$T/$1.json" \
    --out "$T/$1.mp4" --thumb "$T/$1.jpg" 2>"$T/$1.err" || rc=$?
}

# ---- generators -------------------------------------------------------------
cat >"$T/gen_png.sh" <<'EOF'
#!/usr/bin/env bash
# Writes 16 PNG frames of 512x512 and a 1 s audio.wav; keeps the job it got.
set -eu
out=${!#}
cat >"$T/seen_job.json"
echo '{"progress": 10}'
echo 'a line that is not JSON'
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=512x512:rate=16 -frames:v 16 "$out/frame_%05d.png"
ffmpeg -nostdin -v error -f lavfi -i sine=frequency=880:sample_rate=16000 -t 1 "$out/audio.wav"
echo '{"progress": 100}'
EOF
cat >"$T/gen_avi.sh" <<'EOF'
#!/usr/bin/env bash
# An MJPEG AVI at 8 fps, 2 s, 320x240: the kind of file sd-cli -M vid_gen writes.
set -eu
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x240:rate=8 -t 2 -c:v mjpeg "${!#}/video.avi"
EOF
cat >"$T/gen_hh.sh" <<'EOF'
#!/usr/bin/env bash
# happyhorse render itself behind the exec contract.
set -eu
out=${!#}
jq 'del(.width, .height, .fps, .frames, .outputDir)' >"$out/job.json"
"$BIN" render --job "$out/job.json" --out "$out/video.mp4" --thumb "$out/thumb.jpg"
rm "$out/job.json" "$out/thumb.jpg"
EOF
cat >"$T/gen_fail.sh" <<'EOF'
#!/usr/bin/env bash
echo "loading model weights" >&2
echo "CUDA error: out of memory" >&2
echo "" >&2
exit 3
EOF
cat >"$T/gen_sleep.sh" <<'EOF'
#!/usr/bin/env bash
# Hangs, with a grandchild that must die with it.
sleep 300 &
echo $! >"$T/grandchild.pid"
sleep 300
EOF
cat >"$T/gen_nothing.sh" <<'EOF'
#!/usr/bin/env bash
cat >/dev/null
EOF
cat >"$T/gen_junk.sh" <<'EOF'
#!/usr/bin/env bash
head -c 5000 /dev/urandom >"${!#}/video.mp4"
EOF
cfg() { printf '{"command":["bash","%s/%s"],"timeoutSec":%s}' "$T" "$1" "${2:-120}"; }

# ---- success paths ------------------------------------------------------------
run png '{"prompt":"a fox in the snow","durationSec":3,"seed":42,"sourceImage":"src.png","cameraMotion":"orbit"}' "$(cfg gen_png.sh)"
[ "$rc" = 0 ] || fail "png: exit $rc: $(cat "$T/png.err")"
probe png 1280 720 3 1
jq -e --arg src "$T/src.png" '.prompt == "a fox in the snow" and .durationSec == 3 and .seed == 42 and
  .width == 1280 and .height == 720 and .fps == 24 and .frames == 72 and
  .sourceImage == $src and .cameraMotion == "orbit" and .motionIntensity == 3 and
  (.outputDir | startswith("/")) and (has("sourceImageKey") | not)' "$T/seen_job.json" >/dev/null ||
  fail "job on stdin: $(cat "$T/seen_job.json")"
checks=$((checks + 1))

run avi '{"prompt":"a river","durationSec":5,"aspectRatio":"9:16","referenceAudio":"ref.wav"}' "$(cfg gen_avi.sh)"
[ "$rc" = 0 ] || fail "avi: exit $rc: $(cat "$T/avi.err")"
probe avi 720 1280 5 1 # no audio.wav from the generator: the job's reference audio is used

run hh '{"prompt":"a night city","durationSec":3,"aspectRatio":"1:1","resolution":"1080p"}' "$(cfg gen_hh.sh)"
[ "$rc" = 0 ] || fail "hh: exit $rc: $(cat "$T/hh.err")"
probe hh 1080 1080 3 0

# ---- failure paths --------------------------------------------------------------
# expect_fail NAME GENERATOR TIMEOUT PATTERN
expect_fail() {
  run "$1" '{"prompt":"anything","durationSec":3}' "$2"
  [ "$rc" = 1 ] || fail "$1: exit $rc, want 1 ($(cat "$T/$1.err"))"
  [ "$(wc -l <"$T/$1.err")" = 1 ] || fail "$1: stderr not one line: $(cat "$T/$1.err")"
  grep -qE "$3" "$T/$1.err" || fail "$1: '$(cat "$T/$1.err")' lacks /$3/"
  [ ! -e "$T/$1.mp4" ] || fail "$1: output left behind"
  checks=$((checks + 1))
}
expect_fail failing "$(cfg gen_fail.sh)" 'generator failed: CUDA error: out of memory$'
start=$(date +%s)
expect_fail timeout "$(cfg gen_sleep.sh 2)" 'generator timed out after 2 s'
[ $(($(date +%s) - start)) -lt 15 ] || fail "timeout took too long"
gc=$(cat "$T/grandchild.pid")
# Dead, or a zombie waiting for init to reap it, within 2 s.
for _ in $(seq 20); do
  st=$(ps -o stat= -p "$gc" 2>/dev/null || true)
  case "$st" in "" | Z*) break ;; esac
  sleep 0.1
done
case "$st" in "" | Z*) ;; *) fail "grandchild $gc outlived the time limit ($st)" ;; esac
expect_fail nothing "$(cfg gen_nothing.sh)" 'generator produced no video'
expect_fail junk "$(cfg gen_junk.sh)" 'generated video could not be decoded'
expect_fail nocmd '{"command":["/nonexistent/generator"]}' 'generator could not be started|generator exited with status 127'
# Work directories (made under our private TMPDIR) are cleaned up.
[ -z "$(ls -A "$T/tmp")" ] || fail "work directories left behind: $(ls "$T/tmp")"
checks=$((checks + 1))

echo "ok: $checks checks"
