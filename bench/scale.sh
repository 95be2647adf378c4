#!/usr/bin/env bash
# Does anything cost more as the store grows? Creates (wrk -t2 -c16, the
# documented body) and status polls of 10,000 distinct videos picked at
# random (wrk -t1 -c32; the same number of distinct keys in both stores, so
# the status cache behaves the same and what differs is the database) in a
# store holding 10^4 videos and in one holding 10^6 (ready videos of the
# polling user, each with its job and its charge, written by SQL before the
# server starts; the ledger still sums to the balance). Creates and polls
# are measured in turn on the two stores, $ROUNDS rounds, medians.
DUR=${BENCH_SECONDS:-5}
SMALL=${BENCH_SMALL:-10000} LARGE=${BENCH_LARGE:-1000000} DISTINCT=10000
. "$(dirname "$0")/lib.sh"

# populate DIR N PORT: a store of N ready videos of bench@example.com, served on PORT; sets KEY_<PORT>.
populate() {
  local dir=$1 n=$2 port=$3 uid key
  HAPPYHORSE_DATA=$dir "$BIN" admin user create --email bench@example.com --plan bench \
    --credits 1000000000 >/dev/null
  key=$(HAPPYHORSE_DATA=$dir "$BIN" admin key create --email bench@example.com --name bench)
  uid=$(HAPPYHORSE_DATA=$dir "$BIN" admin user show --email bench@example.com | jq -r .id)
  sqlite3 "$dir/happyhorse.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $n - 1)
INSERT INTO videos (id, user_id, status, prompt, style, duration_sec, aspect_ratio, resolution,
  request, credits_charged, progress, video_key, thumbnail_key, created_at, started_at, ready_at)
SELECT printf('00000001-0000-7000-8000-%012x', i), '$uid', 'ready',
  'A cinematic shot of a chestnut horse running through a sunlit meadow', 'cinematic', 6, '16:9',
  '720p', '{}', 6, 100, 'videos/' || i || '.mp4', 'thumbs/' || i || '.jpg', 1700000000000 + i,
  1700000000000 + i, 1700000000000 + i FROM n;
INSERT INTO jobs (video_id, user_id, plan, state, attempts, max_attempts, max_in_flight,
  enqueued_at, updated_at)
SELECT id, user_id, 'bench', 'done', 1, 3, 1, created_at, created_at FROM videos;
INSERT INTO ledger (user_id, amount, balance_after, kind, ref, note, created_at)
VALUES ('$uid', 6 * $n, 1000000000 + 6 * $n, 'grant', NULL, 'bench fill', 1700000000000);
INSERT INTO ledger (user_id, amount, balance_after, kind, ref, note, created_at)
SELECT user_id, -6, 1000000000, 'charge', id, 'video', created_at FROM videos;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
  HAPPYHORSE_DATA=$dir "$BIN" serve --listen "127.0.0.1:$port" --workers 0 --log-level warn \
    2>"$dir.log" &
  wait_http "http://127.0.0.1:$port/healthz"
  eval "KEY_$port=\$key"
}
bench_plans
start=$(date +%s)
populate "$work/small" "$SMALL" 18112
populate "$work/large" "$LARGE" 18113
filled=$(($(date +%s) - start))

scripts() { # PORT N: the create and the poll scripts for that store
  local key
  eval "key=\$KEY_$1"
  create_lua "$work/create_$1.lua" "$key"
  # $DISTINCT ids spread evenly over the store's videos, picked at random.
  cat >"$work/poll_$1.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $key"
local step = math.floor($2 / $DISTINCT)
request = function()
  local i = math.random(0, $DISTINCT - 1) * step
  return wrk.format("GET", string.format("/api/v1/videos/00000001-0000-7000-8000-%012x", i))
end
LUA
}
scripts 18112 "$SMALL"
scripts 18113 "$LARGE"
WRK_THREADS=2 CONNS=16
create_small() { rps -s "$work/create_18112.lua" "http://127.0.0.1:18112/api/v1/videos"; }
create_large() { rps -s "$work/create_18113.lua" "http://127.0.0.1:18113/api/v1/videos"; }
read -r cs cl < <(alternate "$ROUNDS" create_small create_large)
WRK_THREADS=1 CONNS=32
poll_small() { rps -s "$work/poll_18112.lua" "http://127.0.0.1:18112"; }
poll_large() { rps -s "$work/poll_18113.lua" "http://127.0.0.1:18113"; }
read -r ps pl < <(alternate "$ROUNDS" poll_small poll_large)

echo "## The store at 10^4 and 10^6 videos"
echo
echo "\`bench/scale.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores shared with other work; the two stores"
echo "filled in ${filled} s): $ROUNDS rounds in turn, medians. Polls pick among $DISTINCT distinct"
echo "videos spread over the whole store. Goal: within 20%."
echo
echo "| per second | $SMALL videos | $LARGE videos | ratio |"
echo "|---|---|---|---|"
echo "| POST /api/v1/videos (wrk -t2 -c16, synchronous=FULL) | $cs | $cl | $(ratio "$cl" "$cs") |"
echo "| GET /api/v1/videos/{id}, random videos (wrk -t1 -c32) | $ps | $pl | $(ratio "$pl" "$ps") |"
