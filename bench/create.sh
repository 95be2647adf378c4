#!/usr/bin/env bash
# Creates that survive a power cut: POST /api/v1/videos (validate, charge,
# insert video and job, group-committed at synchronous=FULL) with wrk and
# the documented body, against a small C program (bench/videos/naive_create.c)
# writing the same rows (balance update, ledger, video, job) on the same
# schema, one transaction each, also at synchronous=FULL, on the same disk,
# measured in turn $ROUNDS times. Then the latency of one client alone
# (wrk -t1 -c1 --latency: p50 and p99), where group commit has nobody to
# group with. HH_BIN_BEFORE=path adds the same rows for another build (the
# one this replaced), measured in the same run.
CONNS=${BENCH_CONNECTIONS:-16}
DUR=${BENCH_SECONDS:-5}
N=${BENCH_NAIVE_CREATES:-1000}
HH_PORT=18110 BEFORE_PORT=18111
. "$(dirname "$0")/lib.sh"
cc -O2 -o "$work/naive_create" bench/videos/naive_create.c -lsqlite3
bench_serve $HH_PORT

create_lua "$work/create.lua" "$KEY"
uid=$("$BIN" admin user show --email bench@example.com | jq -r .id)
ours() { rps -s "$work/create.lua" "http://127.0.0.1:$HH_PORT/api/v1/videos"; }
ref() { "$work/naive_create" "$work/data/happyhorse.db" "$uid" "$N" FULL; }
read -r creates naive < <(alternate "$ROUNDS" ours ref)
made=$(curl -s "http://127.0.0.1:$HH_PORT/metrics" | awk '/^happyhorse_videos\{status="queued"\}/ {print $2}')

lat_ours() { latency "$work/create.lua" "http://127.0.0.1:$HH_PORT/api/v1/videos"; }
p50s=() p99s=() bp50s=() bp99s=()
before_row=""
if [ -n "${HH_BIN_BEFORE:-}" ]; then
  # The other build on its own data directory, measured in turn with this one.
  HAPPYHORSE_DATA="$work/before" "$HH_BIN_BEFORE" admin user create --email bench@example.com \
    --plan bench --credits 1000000000 >/dev/null
  BKEY=$(HAPPYHORSE_DATA="$work/before" "$HH_BIN_BEFORE" admin key create --email bench@example.com)
  create_lua "$work/before.lua" "$BKEY"
  HAPPYHORSE_DATA="$work/before" "$HH_BIN_BEFORE" serve --listen "127.0.0.1:$BEFORE_PORT" \
    --workers 0 --log-level warn 2>"$work/before.log" &
  wait_http "http://127.0.0.1:$BEFORE_PORT/healthz"
  bcreates=$(rps -s "$work/before.lua" "http://127.0.0.1:$BEFORE_PORT/api/v1/videos")
fi
for _ in $(seq "$ROUNDS"); do
  read -r a b < <(lat_ours)
  p50s+=("$a") p99s+=("$b")
  if [ -n "${HH_BIN_BEFORE:-}" ]; then
    read -r a b < <(latency "$work/before.lua" "http://127.0.0.1:$BEFORE_PORT/api/v1/videos")
    bp50s+=("$a") bp99s+=("$b")
  fi
done
p50=$(median "${p50s[@]}") p99=$(median "${p99s[@]}")
[ -z "${HH_BIN_BEFORE:-}" ] ||
  before_row="| the build before (synchronous=NORMAL, no group commit) | $bcreates | $(median "${bp50s[@]}") | $(median "${bp99s[@]}") |"

echo "## Creating videos, durable across power loss"
echo
echo "\`bench/create.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores shared with other work, $(df -T "$work" | awk 'NR==2 {print $2}')):"
echo "wrk -t2 -c$CONNS -d${DUR}s posting the documented body; the reference writes the same four rows"
echo "per create in its own transaction, $N in a row; $ROUNDS rounds in turn, medians. Both at"
echo "synchronous=FULL (WAL synced at every commit). Goal: ≥ 2× the reference."
echo
echo "| what | creates/s | ratio |"
echo "|---|---|---|"
echo "| C program, one transaction per create (\`bench/videos/naive_create.c\`) | $naive | 1.00 |"
echo "| POST /api/v1/videos, group commit ($made accepted) | $creates | $(ratio "$creates" "$naive") |"
echo
echo "One client alone (wrk -t1 -c1 --latency, $ROUNDS runs in turn, medians), milliseconds:"
echo
echo "| server | creates/s at -c$CONNS | p50 | p99 |"
echo "|---|---|---|---|"
echo "| this build (synchronous=FULL, group commit) | $creates | $p50 | $p99 |"
[ -z "$before_row" ] || echo "$before_row"
