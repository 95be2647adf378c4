#!/usr/bin/env bash
# bench/profile/status.sh - where the time of a status poll goes: one build
# serving GET /api/v1/videos/{id} to wrk -t1 -c32, profiled with perf
# (samples of the whole process, kernel included, top entries by self time)
# and counted with strace -c (system calls per request: a count, so it does
# not move with the machine's load). Not part of `make bench`: its output is
# summarised by hand in docs/internals/http.md. callgrind cannot run the
# binary here: valgrind 3.19 stops at an RDTSCP in libhwy's initialiser
# (pulled in through FFmpeg's libjxl).
#
#   bench/profile/status.sh [BIN]     (default build/happyhorse)
set -euo pipefail
cd "$(dirname "$0")/../.."
HH_BIN=$(realpath "${1:-build/happyhorse}")
PORT=18117
. bench/lib.sh # (it cds to the directory above this script's: bench/)
bench_serve $PORT
ID=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/videos" -H "Authorization: Bearer $KEY" \
  -H "Content-Type: application/json" -d "$BODY" | jq -r .id)
URL="http://127.0.0.1:$PORT/api/v1/videos/$ID"
pid=$SERVE_PID
load() { wrk -t1 -c32 -d"$1"s -H "Authorization: Bearer $KEY" "$URL"; }
load 2 >/dev/null # warm: statements prepared, caches filled

echo "== system calls per request ($BIN)"
strace -f -c -o "$work/strace.txt" -p "$pid" 2>/dev/null &
st=$!
sleep 0.5
n=$(load 3 | awk '/requests in/ {print $1}')
kill -INT $st
wait $st 2>/dev/null || true
awk -v n="$n" 'NR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ {printf "%-14s %6.2f\n", $NF, $4 / n}' \
  "$work/strace.txt" | sort -k2 -rn | head -12
echo "(requests: $n, slowed by strace)"

echo "== perf, top entries by self time"
perf record -q -F 2000 -g -p "$pid" -o "$work/perf.data" -- sleep 4 >/dev/null 2>&1 &
pr=$!
sleep 0.3
load 4 | awk '/Requests\/sec/ {print "requests/s under perf:", $2}'
wait $pr || true
perf report -i "$work/perf.data" --no-children --sort dso,sym -g none 2>/dev/null |
  grep -E '^ +[0-9]' | head -25
