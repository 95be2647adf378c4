#!/usr/bin/env bash
# test_multinode_pg.sh - several nodes on one PostgreSQL and one S3 bucket,
# sharing nothing else: two `serve` (no render threads) and two `worker`
# processes, each with its own scratch --data directory, on a cluster of
# this test's own (it is restarted mid-run, which the suite's shared one
# must not be) and the tests' S3 server that checks SigV4.
#   - 200 videos created through both API nodes, each with an
#     Idempotency-Key and retried with it on a 503 or a dropped connection;
#   - PostgreSQL stopped: both API nodes' /readyz and creates answer 503;
#     then started again, and later restarted while creates and renders go
#     on: every node recovers, and no acknowledged create is lost or doubled;
#   - a worker kill -9-ed in the middle of a job: its lease runs out and the
#     other worker finishes that job (attempt 2);
#   - at the end every video is ready, rendered to the end exactly once (the
#     workers' job log lines), both workers rendered some, the ledger has one charge per
#     video and no refund, every user's balance equals its ledger's sum,
#     and the MP4s are in the bucket.
# The generator is a small exec script: frames from ffmpeg; a prompt with
# "slow" waits (writing a marker named by its worker's pid) until released.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/s3/server.sh"

command -v node >/dev/null || fail "node is required (scripts/deps.sh installs nodejs)"
"$HH_SRC/tests/s3/setup.sh" || fail "npm ci of tests/s3 failed"
s3_start

# --- the cluster of this test, restarted below ---
# (under the build tree, like the suite's: the server's user must reach it, and HH_TMP is 0700)
export HH_PG_DIR=$HH_BUILD/pg-multinode-$$
URL=$("$HH_SRC/tests/pg/cluster.sh" start) || fail "no PostgreSQL cluster"
hh_on_exit '"$HH_SRC/tests/pg/cluster.sh" stop'
export HAPPYHORSE_DATABASE_URL=$URL
unset HAPPYHORSE_DATA

# --- the generator and the plan that uses it ---
MARK=$HH_TMP/marks
mkdir -p "$MARK"
cat >"$HH_TMP/gen.sh" <<'SH'
#!/usr/bin/env bash
# The exec contract: the job on stdin, the output directory last.
set -euo pipefail
out=${!#}
job=$(cat)
if grep -q slow <<<"$job"; then
  # $PPID: the worker process that runs this generator.
  touch "$MARK/started.$PPID"
  for _ in $(seq 1 1200); do [ -e "$MARK/release" ] && break; sleep 0.1; done
fi
ffmpeg -nostdin -v error -f lavfi -i color=c=0x336699:s=320x180 -frames:v 2 "$out/frame_%05d.png"
SH
chmod +x "$HH_TMP/gen.sh"
export MARK
cat >"$HH_TMP/plans.json" <<JSON
{"plans":[{"name":"pro","maxDurationSec":12,"requestsPerMinute":100000,"jobsInFlight":50,
  "allow":{"1080p":true,"sourceImage":true,"lastFrame":true,"referenceVideo":true,"referenceAudio":true},
  "creditsPerSecond":{"720p":10,"1080p":20},
  "engine":{"name":"exec","command":["$HH_TMP/gen.sh"],"timeoutSec":300,"preset":"ultrafast"}}]}
JSON
export HAPPYHORSE_PLANS=$HH_TMP/plans.json
# A short lease, so the killed worker's job comes back soon.
export HAPPYHORSE_JOB_LEASE_MS=3000

admin() { HAPPYHORSE_DATA=$HH_TMP/admin "$HH_BIN" admin "$@"; }
admin user create --email a@example.com --plan pro --credits 100000 >/dev/null
admin user create --email b@example.com --plan pro --credits 100000 >/dev/null
KEY_A=$(admin key create --email a@example.com)
KEY_B=$(admin key create --email b@example.com)

# --- the nodes ---
PIDS=()
node_start() { # NAME CMD ARGS...: starts a node with its own data dir; sets NODE_PID
  local name=$1
  shift
  mkdir -p "$HH_TMP/$name"
  "$HH_BIN" "$@" --data "$HH_TMP/$name" 2>"$HH_TMP/$name.log" >/dev/null &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
}
_nodes_stop() { local p; for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
hh_on_exit _nodes_stop
port_of() { # LOG: the port a serve node listens on
  local i port=""
  for i in $(seq 1 200); do
    port=$(grep -m1 '"msg":"listening"' "$1" 2>/dev/null | jq -r .port || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || fail "no listening line in $1: $(tail -5 "$1")"
  echo "$port"
}
node_start api1 serve --listen 127.0.0.1:0 --workers 0
node_start api2 serve --listen 127.0.0.1:0 --workers 0
API=("http://127.0.0.1:$(port_of "$HH_TMP/api1.log")" "http://127.0.0.1:$(port_of "$HH_TMP/api2.log")")
node_start w1 worker --workers 1
W1=$NODE_PID
node_start w2 worker --workers 1
W2=$NODE_PID

# create N KEY PROMPT [NODE]: POST through API node NODE (default N%2) until acknowledged, with one
# Idempotency-Key per video; prints the id. 503 and a dropped connection are
# retried (the database may be restarting); any other answer fails the test.
create() {
  local n=$1 key=$2 prompt=$3 base=${API[${4:-$(($1 % 2))}]} i code
  for i in $(seq 1 600); do
    code=$(curl -s -o "$HH_TMP/create.json" -w '%{http_code}' -X POST "$base/api/v1/videos" \
      -H "Authorization: Bearer $key" -H "Content-Type: application/json" \
      -H "Idempotency-Key: video-$n" \
      -d "{\"prompt\":\"$prompt $n\",\"durationSec\":3}" || true)
    case $code in
      200 | 201 | 202) jq -r .id "$HH_TMP/create.json"; return 0 ;;
      503 | 000) sleep 0.1 ;;
      *) fail "create $n answered $code: $(cat "$HH_TMP/create.json")" ;;
    esac
  done
  fail "create $n never acknowledged"
}

IDS=$HH_TMP/ids
: >"$IDS"
for n in $(seq 1 200); do
  key=$KEY_A
  [ $((n % 3)) -eq 0 ] && key=$KEY_B
  create "$n" "$key" "a horse in a field" >>"$IDS"
  # The slow video (see the generator) goes in mid-run, for the kill below.
  [ "$n" -eq 100 ] && SLOW=$(create 1000 "$KEY_B" "slow")
  if [ "$n" -eq 70 ]; then
    # The database goes away while both workers render: both API nodes say
    # they are not ready and refuse creates with 503 (never a 500), then it
    # comes back and the creates go on.
    "$HH_SRC/tests/pg/cluster.sh" down || fail "stop of PostgreSQL failed"
    for base in "${API[@]}"; do
      assert_eq 503 "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" \
        "$base/readyz without the database"
      assert_eq 503 "$(curl -s -o "$HH_TMP/down.json" -w '%{http_code}' -X POST "$base/api/v1/videos" \
        -H "Authorization: Bearer $KEY_A" -H "Content-Type: application/json" \
        -d '{"prompt":"while the database is away","durationSec":3}')" \
        "$base: a create without the database"
      assert_json "$(cat "$HH_TMP/down.json")" .error.code service_unavailable "$base: the 503's envelope"
    done
    "$HH_SRC/tests/pg/cluster.sh" up || fail "start of PostgreSQL failed"
  fi
  [ "$n" -eq 140 ] && { "$HH_SRC/tests/pg/cluster.sh" restart || fail "restart of PostgreSQL failed"; }
done
assert_eq 200 "$(sort -u "$IDS" | wc -l | tr -d ' ')" "200 distinct acknowledged creates"

# A replay of an acknowledged create answers the same video, on either node.
first=$(head -1 "$IDS")
assert_eq "$first" "$(create 1 "$KEY_A" "a horse in a field" 0)" "create 1 replayed on the other node"

# --- kill -9 a worker in the middle of a job ---
victim="" survivor=""
for _ in $(seq 1 3000); do
  if [ -e "$MARK/started.$W1" ]; then victim=$W1 survivor=$W2; fi
  if [ -e "$MARK/started.$W2" ]; then victim=$W2 survivor=$W1; fi
  [ -n "$victim" ] && break
  sleep 0.1
done
[ -n "$victim" ] || fail "no worker started the slow job"
kill -9 "$victim"
touch "$MARK/release"

# --- every video ready ---
wait_ready() { # ID KEY
  local i s
  for i in $(seq 1 1800); do
    s=$(curl -s "${API[0]}/api/v1/videos/$1" -H "Authorization: Bearer $2" | jq -r .status)
    case $s in
      ready) return 0 ;;
      failed) fail "video $1 failed" ;;
    esac
    sleep 0.2
  done
  fail "video $1 not ready in time"
}
wait_ready "$SLOW" "$KEY_B"
assert_eq 2 "$(psql -qAtX "$URL" -c "SELECT attempts FROM jobs WHERE video_id = '$SLOW'")" \
  "the killed worker's job finished by the other on its second attempt"
kill -0 "$survivor" || fail "the surviving worker died"
for _ in $(seq 1 1800); do
  left=$(psql -qAtX "$URL" -c "SELECT count(*) FROM videos WHERE status <> 'ready'")
  [ "$left" = 0 ] && break
  sleep 0.2
done
assert_eq 0 "$left" "every video ready"
assert_eq 201 "$(psql -qAtX "$URL" -c "SELECT count(*) FROM videos")" "201 videos, none doubled"

# Rendered exactly once each: one successful job line per video across the workers' logs.
done_lines() { grep -h '"msg":"job"' "$@" | jq -r 'select(.outcome == "done" or .outcome == "ready") | .video'; }
assert_eq 201 "$(done_lines "$HH_TMP/w1.log" "$HH_TMP/w2.log" | sort -u | wc -l | tr -d ' ')" \
  "every video rendered"
assert_eq 201 "$(done_lines "$HH_TMP/w1.log" "$HH_TMP/w2.log" | wc -l | tr -d ' ')" \
  "no video rendered to the end twice"
for w in w1 w2; do
  n=$(done_lines "$HH_TMP/$w.log" | wc -l | tr -d ' ')
  [ "$n" -gt 0 ] || fail "worker $w rendered nothing"
done
HH_ASSERTS=$((HH_ASSERTS + 1))

# --- the money ---
assert_eq 201 "$(psql -qAtX "$URL" -c "SELECT count(*) FROM ledger WHERE kind = 'charge'")" \
  "one charge per video"
assert_eq 0 "$(psql -qAtX "$URL" -c "SELECT count(*) FROM ledger WHERE kind = 'refund'")" "no refund"
assert_eq 0 "$(psql -qAtX "$URL" -c "SELECT count(*) FROM users u WHERE credits <>
  (SELECT coalesce(sum(amount), 0) FROM ledger l WHERE l.user_id = u.id)")" \
  "every balance equals its ledger"

# --- the bytes are in the bucket ---
for id in "$first" "$(tail -1 "$IDS")"; do
  url=$(curl -s "${API[1]}/api/v1/videos/$id" -H "Authorization: Bearer $KEY_A" | jq -r .videoUrl)
  case $url in "$S3_ENDPOINT"/*) ;; *) fail "videoUrl $url is not the bucket's" ;; esac
  curl -sf -o "$HH_TMP/v.mp4" "$url" || fail "the MP4 of $id is not in the bucket"
  assert_eq h264 "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$HH_TMP/v.mp4")" \
    "the MP4 of $id"
done

# Both API nodes answer ready after all that.
for base in "${API[@]}"; do
  assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" "$base/readyz"
done
hh_done
