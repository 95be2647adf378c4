#!/usr/bin/env bash
# The queue's claim (store_job_claim: expire leases, fair pick across users,
# take the job) against the floor measured in the same run on the same file:
# one write transaction that takes any queued job with no fairness at all.
# The backlog grows a hundredfold; a claim whose cost followed the backlog
# would show it in the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/libhhcore.a ] || { echo "build first (make build)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2046
# The flags and libraries of CMakeLists.txt's hhcore (_GNU_SOURCE, as the project builds).
cc -O2 -std=c17 -D_GNU_SOURCE -Isrc bench/queue/claim_bench.c build/libhhcore.a \
  $(pkg-config --libs libmicrohttpd jansson sqlite3 libargon2 libcrypto libpq libcurl libcmark \
    libavformat libavcodec libavutil libswscale libswresample) -lpthread -lm -o "$work/claim_bench"
echo "## Claiming jobs"
echo
echo "SQLite store, one process; one user with a backlog of N queued jobs (20 in flight), ten users"
echo "with one job each. Floor = a transaction that takes any queued job (no fairness, no lease"
echo "expiry); claim = store_job_claim, averaged over 29 claims after a warm-up; empty = a claim that finds every"
echo "waiting user at its cap (what idle workers do every 500 ms). Times in microseconds."
echo
echo "| backlog N | floor | claim | claim / floor | empty claim |"
echo "|---|---|---|---|---|"
for n in 200 2000 20000; do
  mkdir "$work/d$n"
  "$work/claim_bench" "$work/d$n" "$n" 2>/dev/null
done
