#!/usr/bin/env bash
# The PostgreSQL store, on a throw-away cluster with fsync and
# synchronous_commit on (durable like bench/create.sh's SQLite figure):
# 1. Creates (POST /api/v1/videos, each with its own Idempotency-Key, by one
#    of $ACCOUNTS accounts at random) with wrk against one serve node, and against two nodes on the same database
#    (a wrk against each at once, half the connections each, summed), against
#    pgbench writing the same rows per transaction (charge and ledger row,
#    video, job, idempotency record) with as many clients; then p50/p99 of
#    one client alone on one node.
# 2. The shared rate limit: GET /api/v1/videos/{id} on one node, against the
#    take alone (bench/pg/rate_take.c: store_rate_take from as many threads
#    as wrk has connections) and a bare round trip (pgbench of SELECT 1).
# Everything is measured in turn, $ROUNDS rounds, medians.
CONNS=${BENCH_CONNECTIONS:-16}
ACCOUNTS=${BENCH_PG_ACCOUNTS:-32}
DUR=${BENCH_SECONDS:-5}
PORT1=18120 PORT2=18121
. "$(dirname "$0")/lib.sh"
[ -f build/libhhcore.a ] || { echo "build first (make build)" >&2; exit 1; }
bench_hhcore_cc "$work/rate_take" bench/pg/rate_take.c
bench_pg
DB=$HAPPYHORSE_DATABASE_URL
bench_serve $PORT1 # bench@example.com: the key of part 2
bench_node $PORT2
status_key=$KEY

# ---- 1. creates ----

# $ACCOUNTS accounts, each create charging one at random (one account's creates queue on its row).
keys=""
for i in $(seq "$ACCOUNTS"); do
  bench_user "bench$i@example.com"
  keys+="$KEY "
done
KEY=$status_key
psql -qAt "$DB" -c "CREATE TABLE bench_accounts (n int PRIMARY KEY, id text NOT NULL);
  INSERT INTO bench_accounts SELECT row_number() OVER (), id FROM users
  WHERE email <> 'bench@example.com'" >/dev/null

# A fresh Idempotency-Key prefix per wrk run: a key used before would be a replay, not a create.
post() { # PORT CONNS
  create_lua "$work/create-$1.lua" "$keys" "$(date +%s%N)-$1"
  CONNS=$2 rps -s "$work/create-$1.lua" "http://127.0.0.1:$1/api/v1/videos"
}
one_node() { post $PORT1 "$CONNS"; }
two_nodes() {
  post $PORT1 $((CONNS / 2)) >"$work/n1" &
  local a=$!
  post $PORT2 $((CONNS - CONNS / 2)) >"$work/n2" &
  wait $a && wait $! || exit 1
  awk '{s += $1} END {printf "%.2f\n", s}' "$work/n1" "$work/n2"
}

# The rows of store_pg_videos.c's create_tx, written the way it writes them (the charge and
# its ledger row in one statement), for an account picked at random as wrk does; the ids are
# random numbers made by pgbench, the account's id looked up within each statement.
uid="(SELECT id FROM bench_accounts WHERE n = :a)"
cat >"$work/create.sql" <<SQL
\set a random(1, $ACCOUNTS)
\set r random(1, 9000000000000000000)
BEGIN;
WITH u AS (UPDATE users SET credits = credits - 6 WHERE id = $uid RETURNING id, credits)
  INSERT INTO ledger (user_id, amount, balance_after, kind, ref, note, created_at)
  SELECT id, -6, credits, 'charge', :r, 'video', hh_now_ms() FROM u;
INSERT INTO videos (id, user_id, status, prompt, style, duration_sec, aspect_ratio, resolution,
  request, credits_charged, created_at)
  VALUES (:r, $uid, 'queued', 'A horse', 'cinematic', 6, '16:9', '720p', '$BODY', 6, hh_now_ms());
INSERT INTO jobs (video_id, user_id, plan, state, max_attempts, max_in_flight, enqueued_at,
  updated_at) VALUES (:r, $uid, 'bench', 'queued', 3, 1, hh_now_ms(), hh_now_ms());
INSERT INTO idempotency (user_id, key, request_hash, response, created_at)
  VALUES ($uid, :r, sha256(:r::text::bytea), :r, hh_now_ms());
COMMIT;
SQL
echo "SELECT 1;" >"$work/select1.sql"
pgb() { # SCRIPT CLIENTS [-D var=value]
  local f=$1 c=$2
  shift 2
  pgbench -n -M prepared -c "$c" -j 2 -T "$DUR" -f "$f" "$@" "$DB" 2>"$work/pgbench.err" |
    awk '/^tps = / {printf "%.2f\n", $3; ok = 1} END {exit !ok}' || { cat "$work/pgbench.err" >&2; exit 1; }
}
ref_create() { pgb "$work/create.sql" "$CONNS"; }
read -r one two pgc < <(alternate "$ROUNDS" one_node two_nodes ref_create)
create_lua "$work/alone.lua" "$keys" "$(date +%s%N)-alone"
lat() { latency "$work/alone.lua" "http://127.0.0.1:$PORT1/api/v1/videos"; }
p50s=() p99s=()
for _ in $(seq "$ROUNDS"); do
  read -r a b < <(lat)
  p50s+=("$a") p99s+=("$b")
done
made=$(psql -qAt "$DB" -c "SELECT count(*) FROM videos")

# ---- 2. the shared rate limit ----

ID=$(curl -sf -X POST "http://127.0.0.1:$PORT1/api/v1/videos" -H "Authorization: Bearer $KEY" \
  -H "Content-Type: application/json" -d "$BODY" | jq -r .id)
status() { rps -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT1/api/v1/videos/$ID"; }
take() { "$work/rate_take" "$DB" "$CONNS" "$DUR"; }
bare() { pgb "$work/select1.sql" "$CONNS"; }
read -r st tk rt < <(alternate "$ROUNDS" status take bare)
us() { awk -v c="$CONNS" -v r="$1" 'BEGIN {printf "%.0f", c / r * 1e6}'; }

echo "## PostgreSQL: creates on one and two nodes, the shared rate limit"
echo
echo "\`BENCH_SECONDS=$DUR BENCH_ROUNDS=$ROUNDS make bench BENCH=pg\` ($(date -u +%Y-%m-%d), $(nproc) cores"
echo "shared with other work: the database, both nodes and the load generators all run on them, so"
echo "the figures are low and noisy; read the ratios). A throw-away PostgreSQL"
echo "$(pg_config --version | awk '{print $2}') cluster on loopback with fsync and synchronous_commit on"
echo "(each commit durable, like SQLite's FULL above); $ROUNDS rounds in turn of ${DUR} s each,"
echo "medians; $CONNS connections or clients in all."
echo
echo "Creates: wrk posting the documented body, each with its own Idempotency-Key, by one of"
echo "$ACCOUNTS accounts at random (an account's creates queue on its row), to one \`serve\`"
echo "(--workers 0), and to two on the same database at once (half the connections each, summed)."
echo "The reference is \`pgbench -n -M prepared -c $CONNS -j 2\` of one transaction writing what a"
echo "create writes for an account at random: the charge with its ledger row (one statement, as"
echo "store_pg_videos.c does), the video, the job, the idempotency record. A create also reads what"
echo "it decides on (the clock, the account's lock and balance, the key's record, the account's"
echo "caps): those round trips are what the ratio costs. $made videos made."
echo
echo "| what | creates/s | ratio to pgbench |"
echo "|---|---|---|"
echo "| pgbench, the same rows per transaction | $pgc | 1.00 |"
echo "| POST /api/v1/videos, one node | $one | $(ratio "$one" "$pgc") |"
echo "| POST /api/v1/videos, two nodes | $two | $(ratio "$two" "$pgc") |"
echo
echo "One client alone on one node (wrk -t1 -c1 --latency, $ROUNDS runs, medians): p50"
echo "$(median "${p50s[@]}") ms, p99 $(median "${p99s[@]}") ms."
echo
echo "The shared rate limit: each authenticated request takes a token from its key's bucket row"
echo "(one \`INSERT ... ON CONFLICT DO UPDATE ... RETURNING\`, store_pg_shared.c). Measured:"
echo "\`GET /api/v1/videos/{id}\` on one node (wrk -c$CONNS, one key); the take alone"
echo "(\`bench/pg/rate_take.c\`: store_rate_take on one bucket from $CONNS threads through one"
echo "store's pool); a bare round trip (\`pgbench -M prepared\` of \`SELECT 1\`, $CONNS clients)."
echo "Time of one = $CONNS / rate, in microseconds."
echo
echo "| what | per second | µs each | time / SELECT 1's |"
echo "|---|---|---|---|"
echo "| SELECT 1 | $rt | $(us "$rt") | 1.00 |"
echo "| store_rate_take | $tk | $(us "$tk") | $(ratio "$rt" "$tk") |"
echo "| GET /api/v1/videos/{id} | $st | $(us "$st") | $(ratio "$rt" "$st") |"
echo
echo "The take's share of a status request's time: $(ratio "$st" "$tk") (its µs over the request's)."
