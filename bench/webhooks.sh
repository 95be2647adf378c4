#!/usr/bin/env bash
# Webhooks: how fast the dispatcher drains the outbox, and how long after a
# video turns ready its event reaches the endpoint. The endpoint is the
# tests' receiver (tests/api/webhook_receiver.py: Python, verifying every
# signature) on loopback; its own ceiling, measured with wrk on the same
# machine in the same run, is the reference the drain rate is compared to.
#   drain   $EVENTS videos failed by the operator CLI while no serve runs
#           (each is $ENDPOINTS deliveries), then serve started: deliveries/s
#           from its start until the receiver has them all
#   delay   $VIDEOS procedural renders, one at a time: the receiver's clock at
#           arrival minus the event's timestamp (the commit of "ready")
EVENTS=${BENCH_HOOK_EVENTS:-100}
ENDPOINTS=${BENCH_HOOK_ENDPOINTS:-10}
VIDEOS=${BENCH_HOOK_VIDEOS:-10}
HH_PORT=18130
. "$(dirname "$0")/lib.sh"

rx=$work/rx
mkdir -p "$rx"
echo '{}' >"$rx/secrets.json"
python3 tests/api/webhook_receiver.py "$rx" 2>"$work/rx.err" &
for _ in $(seq 100); do [ -s "$rx/port" ] && break; sleep 0.05; done
RX=http://127.0.0.1:$(cat "$rx/port")
api="http://127.0.0.1:$HH_PORT/api/v1"
# until WHAT CMD...: runs CMD every 0.05 s until it succeeds; gives up after 600 s, saying what.
until_ok() {
  local what=$1 i
  shift
  for i in $(seq 12000); do "$@" && return 0; sleep 0.05; done
  echo "bench/webhooks.sh: $what did not happen in 600 s" >&2
  exit 1
}

bench_serve $HH_PORT --webhook-allow-private
secrets='{}'
for i in $(seq "$ENDPOINTS"); do
  res=$(curl -sf -X POST "$api/webhooks" -H "Authorization: Bearer $KEY" -d "{\"url\":\"$RX/ok/$i\"}")
  secrets=$(jq -c --arg p "/ok/$i" --arg s "$(jq -r .secret <<<"$res")" '.[$p] = $s' <<<"$secrets")
done
echo "$secrets" >"$rx/secrets.json"
BODY1='{"prompt":"a lighthouse at night in the rain","durationSec":3}'
ids=()
for _ in $(seq "$EVENTS"); do
  ids+=("$(curl -sf -X POST "$api/videos" -H "Authorization: Bearer $KEY" -d "$BODY1" | jq -r .id)")
done
kill "$SERVE_PID"
wait "$SERVE_PID" || true

# --- drain: the outbox filled while no dispatcher runs ---
for id in "${ids[@]}"; do "$BIN" admin video fail --id "$id" >/dev/null; done
want=$((EVENTS * ENDPOINTS))
count() { [ -s "$rx/log.jsonl" ] && wc -l <"$rx/log.jsonl" || echo 0; }
start=$(date +%s.%N)
"$BIN" serve --listen "127.0.0.1:$HH_PORT" --workers 0 --log-level warn --webhook-allow-private \
  2>>"$work/serve.log" &
SERVE_PID=$!
drained() { [ "$(count)" -ge "$want" ]; }
until_ok "the drain of $want deliveries" drained
end=$(date +%s.%N)
drain=$(awk -v n="$want" -v a="$start" -v b="$end" 'BEGIN {printf "%.0f", n / (b - a)}')
bad=$(jq -s '[.[] | select(.sigOk != true or .duplicate)] | length' "$rx/log.jsonl")
kill "$SERVE_PID"
wait "$SERVE_PID" || true

# The receiver's own ceiling: wrk posting an event body (unsigned, so answered 400 after the same checks).
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"type":"video.failed","timestamp":"2026-01-01T00:00:00.000Z","data":{"id":"x"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["webhook-id"] = "msg_bench"
wrk.headers["webhook-timestamp"] = "0"
wrk.headers["webhook-signature"] = "v1,AAAA"
LUA
ceiling=$(wrk -t1 -c32 -d"${BENCH_SECONDS:-5}s" -s "$work/post.lua" "$RX/ok/1" |
  awk '/Requests\/sec/ {printf "%.0f", $2}')

# --- delay: ready -> delivered, one video at a time ---
: >"$rx/log.jsonl"
"$BIN" serve --listen "127.0.0.1:$HH_PORT" --workers 1 --log-level warn --webhook-allow-private \
  2>>"$work/serve.log" &
SERVE_PID=$!
wait_http "http://127.0.0.1:$HH_PORT/healthz"
delivered() { [ "$(jq -s '[.[] | select(.type == "video.ready")] | length' "$rx/log.jsonl")" -ge "$1" ]; }
for i in $(seq "$VIDEOS"); do
  curl -sf -X POST "$api/videos" -H "Authorization: Bearer $KEY" -d "$BODY1" >/dev/null
  until_ok "video.ready of video $i" delivered $((i * ENDPOINTS))
done
read -r p50 p99 < <(python3 - "$rx/log.jsonl" <<'PY'
import json, sys, datetime
d = []
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["type"] != "video.ready":
        continue
    t = datetime.datetime.strptime(e["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    d.append((e["recvAt"] - t.timestamp()) * 1000)
d.sort()
print(f"{d[len(d) // 2]:.0f} {d[min(len(d) - 1, int(len(d) * 0.99))]:.0f}")
PY
)
kill "$SERVE_PID"
wait "$SERVE_PID" || true

echo "## Webhooks: outbox drain and ready-to-delivery delay"
echo
echo "\`bench/webhooks.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores shared with other work): $ENDPOINTS"
echo "endpoints on loopback served by the tests' Python receiver, which checks every signature."
echo "Drain: $EVENTS events ($want deliveries) written while no \`serve\` ran, then one \`serve\`"
echo "started; the reference is the receiver's own ceiling (wrk -t1 -c32). Delay: $VIDEOS procedural"
echo "videos one after another, each event to $ENDPOINTS endpoints; the receiver's clock at arrival"
echo "minus the event's \`timestamp\` (the commit of \`ready\`). Bad signatures or duplicates: $bad."
echo
echo "| figure | value |"
echo "|---|---|"
echo "| outbox drain (deliveries/s) | $drain |"
echo "| receiver ceiling, wrk (req/s) | $ceiling |"
echo "| drain / ceiling | $(ratio "$drain" "$ceiling") |"
echo "| ready → delivered, p50 (ms) | $p50 |"
echo "| ready → delivered, p99 (ms) | $p99 |"
