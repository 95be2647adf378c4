#!/usr/bin/env bash
# Upload throughput: a 50 MiB signed PUT to `happyhorse serve` (headers
# checked, body streamed to a temporary file, sniffed, counted, fsynced,
# linked into place, the upload marked complete) against `dd` writing the
# same bytes to the same file system with the same durability (conv=fsync).
# Both read a source file that is already in the page cache. Prints a
# Markdown section on stdout; bench/run.sh collects it into docs/benchmarks.md.
# The server's data dir and dd's target are both in lib.sh's $work: one disk.
PORT=18104
RUNS=${BENCH_RUNS:-5}
SIZE=$((50 * 1024 * 1024))
. "$(dirname "$0")/lib.sh"

# A real MP4 grown to exactly 50 MiB (a trailing free box), so the sniffing is real.
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x180:r=24" -t 1 -c:v libx264 \
  -pix_fmt yuv420p "$work/small.mp4"
python3 tests/api/pad_media.py "$work/small.mp4" "$work/src.mp4" "$SIZE"
cat "$work/src.mp4" >/dev/null # warm the page cache for both contenders
bench_serve $PORT

now() { date +%s.%N; }
put_once() {
  local url
  url=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/uploads/presign" \
    -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d "{\"kind\":\"video\",\"contentType\":\"video/mp4\",\"sizeBytes\":$SIZE}" | jq -r .uploadUrl)
  # -T streams the file (no copy in curl's memory); Expect off: no extra round trip.
  curl -sf -o /dev/null -w '%{time_total}\n' -X PUT -T "$work/src.mp4" \
    -H "Content-Type: video/mp4" -H "Expect:" "$url"
}
dd_once() { # [conv=fsync]
  local t0 t1
  t0=$(now)
  dd if="$work/src.mp4" of="$work/dd.out" bs=1M "$@" status=none
  t1=$(now)
  rm -f "$work/dd.out"
  echo "$t1 - $t0" | bc -l
}

put_once >/dev/null # warm-up
dd_once conv=fsync >/dev/null
puts=() dds=() caches=()
for _ in $(seq "$RUNS"); do
  puts+=("$(put_once)")
  dds+=("$(dd_once conv=fsync)")
  caches+=("$(dd_once)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mp=$(median "${puts[@]}")
md=$(median "${dds[@]}")
mc=$(median "${caches[@]}")
mibs() { echo "50 / $1" | bc -l | xargs printf '%.0f'; }
fs=$(df -T "$work" | awk 'NR==2 {print $2}')

echo "## Upload PUT (50 MiB) vs dd"
echo
echo "\`bench/upload_put.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, $fs). Median of $RUNS runs after a"
echo "warm-up. A 50 MiB MP4 PUT with curl over loopback to a signed upload URL (signature, type,"
echo "length, sniffing, temporary file, fsync, link into place, upload marked complete), against"
echo "\`dd bs=1M conv=fsync\` writing the same bytes to the same file system. The source file is in"
echo "the page cache for both. Ratio = PUT time / dd time: 1.00 would mean HTTP and the checks cost nothing."
echo
echo "| | time | throughput |"
echo "|---|---|---|"
printf '| signed PUT | %.3f s | %s MiB/s |\n' "$mp" "$(mibs "$mp")"
printf '| dd conv=fsync | %.3f s | %s MiB/s |\n' "$md" "$(mibs "$md")"
printf '| **ratio** | **%s** | |\n' "$(ratio "$mp" "$md")"
printf '| (dd without fsync: page cache only, for scale) | %.3f s | %s MiB/s |\n' "$mc" "$(mibs "$mc")"
echo
echo "The fsync's cost on this virtual disk varies by a factor of 2-3 from run to run (other"
echo "jobs share it), so the ratio moves with it; the part that is ours is loopback HTTP (curl to"
echo "libmicrohttpd, the body handed over in ~32 KiB pieces, gathered into 256 KiB write()s)."
