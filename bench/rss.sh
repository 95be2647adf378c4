#!/usr/bin/env bash
# Memory of `happyhorse serve` (VmRSS of /proc/<pid>/status, default flags,
# its render workers idle): at rest after a first request; with 1,000 idle
# connections (opened and left silent; then each after one request, kept
# alive); and the peak (VmHWM, reset through /proc/<pid>/clear_refs) while a
# 50 MiB MP4 is PUT to a signed upload URL; at rest again after its first
# video, once FFmpeg's module is loaded. HH_BIN_BEFORE=path adds the same
# figures for another build, measured in the same run.
PORT=18114 BEFORE_PORT=18115
SIZE=$((50 * 1024 * 1024))
. "$(dirname "$0")/lib.sh"
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x180:r=24" -t 1 -c:v libx264 \
  -pix_fmt yuv420p "$work/small.mp4"
python3 tests/api/pad_media.py "$work/small.mp4" "$work/src.mp4" "$SIZE"
bench_plans

kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# measure BIN PORT: prints "idle silent kept upload_peak" in KiB (the last three as growth).
measure() {
  local bin=$1 port=$2 dir="$work/rss-$2" key pid idle silent kept before peak url
  HAPPYHORSE_DATA=$dir "$bin" admin user create --email rss@example.com --plan bench \
    --credits 1000 >/dev/null
  key=$(HAPPYHORSE_DATA=$dir "$bin" admin key create --email rss@example.com)
  # The 1,000 connections all come from this one address: lift the per-address cap for them.
  HAPPYHORSE_DATA=$dir "$bin" serve --listen "127.0.0.1:$port" --max-connections-per-ip 0 \
    2>"$dir.log" &
  pid=$!
  wait_http "http://127.0.0.1:$port/healthz"
  curl -sf -o /dev/null -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/account"
  sleep 1
  idle=$(kib "$pid" VmRSS) anon=$(kib "$pid" RssAnon) file=$(kib "$pid" RssFile)
  # 1,000 connections: silent first, then one request on each, all held open.
  python3 - "$port" "$pid" >"$work/conns" <<'PY'
import socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
time.sleep(1)
silent = rss()
for s in socks:
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: b\r\n\r\n")
for s in socks:
    got = b""
    while b'"ok"' not in got:
        more = s.recv(4096)
        if not more:
            sys.exit("bench: the server closed a connection")
        got += more
time.sleep(1)
print(silent, rss())
PY
  read -r silent kept <"$work/conns"
  url=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/uploads/presign" \
    -H "Authorization: Bearer $key" -H "Content-Type: application/json" \
    -d "{\"kind\":\"video\",\"contentType\":\"video/mp4\",\"sizeBytes\":$SIZE}" | jq -r .uploadUrl)
  sleep 1
  before=$(kib "$pid" VmRSS)
  echo 5 >"/proc/$pid/clear_refs" # VmHWM := VmRSS
  curl -sf -o /dev/null -X PUT -T "$work/src.mp4" -H "Content-Type: video/mp4" -H "Expect:" "$url"
  peak=$(kib "$pid" VmHWM)
  # The first video loads FFmpeg (src/media/media_module.h): at rest after it.
  local id status=""
  id=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/videos" -H "Authorization: Bearer $key" \
    -H "Content-Type: application/json" -d "$BODY" | jq -r .id)
  for _ in $(seq 1200); do
    status=$(curl -sf -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/videos/$id" |
      jq -r .status)
    [ "$status" = ready ] && break
    sleep 0.1
  done
  [ "$status" = ready ] || { echo "bench: the video did not render" >&2; exit 1; }
  sleep 1
  rendered=$(kib "$pid" VmRSS)
  kill "$pid"
  wait "$pid" || true
  echo "$idle $anon $file $((silent - idle)) $((kept - idle)) $((peak - before)) $rendered"
}

row() { # NAME idle anon file silent kept upload rendered
  echo "| $1 | $(mib "$2") ($(mib "$3") + $(mib "$4")) | +$(mib "$5") | +$(mib "$6") | +$(mib "$7") | $(mib "$8") |"
}
rows=$(row "this build" $(measure "$BIN" $PORT))
[ -z "${HH_BIN_BEFORE:-}" ] || rows+=$'\n'$(row "the build before" $(measure "$HH_BIN_BEFORE" $BEFORE_PORT))

echo "## Memory of serve"
echo
echo "\`bench/rss.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores): VmRSS of \`happyhorse serve\` with its"
echo "default flags (render workers idle), in MiB; at rest also split into anonymous memory (the"
echo "process's own) + file pages (the shared libraries' code and data that are resident). Goals:"
echo "≤ 20 at rest; ≤ +50 with 1,000 idle connections; ≤ +5 during a 50 MiB upload (the peak, VmHWM)."
echo "FFmpeg and the ~140 libraries Debian's build of it brings are a module loaded by the first"
echo "render (src/media/media_module.h): linked into the binary they cost about 25 MiB at rest in"
echo "every process, API nodes included; the last column is a serve at rest after its first video,"
echo "FFmpeg's libraries then mapped, the render's buffers given back (malloc_trim after each job)."
echo
echo "| build | at rest (anon + file) | 1,000 connections, silent | 1,000 connections after one request each | 50 MiB upload (peak) | at rest after a render |"
echo "|---|---|---|---|---|---|"
echo "$rows"
