#!/usr/bin/env bash
# The remote-task driver's pace: N (default 1000) videos on a DashScope plan
# against the provider stand-in, each task taking TASK seconds at the
# provider, polled every second. A gateway's top complaint is polling that
# crawls as tasks pile up, so the figures are:
#  - the poll lag: from a task finishing at the provider to our first poll
#    that sees it, against the poll interval (the ideal is at most one
#    interval, whatever N);
#  - all N ready: the wall time from the first create to the last video
#    ready, against the ideal interval + TASK + the re-encode work of the
#    N results spread over the render threads (one result's re-encode is
#    timed alone in the same run).
N=${BENCH_REMOTE_TASKS:-1000}
TASK=${BENCH_REMOTE_TASK_SECONDS:-20}
THREADS=2
HH_PORT=18096
. "$(dirname "$0")/lib.sh"

python3 tests/standin/providers.py --port-file "$work/standin.port" --key sk-bench \
  --task-seconds "$TASK" >"$work/standin.log" 2>&1 &
for _ in $(seq 100); do [ -s "$work/standin.port" ] && break; sleep 0.05; done
STANDIN=http://127.0.0.1:$(cat "$work/standin.port")
cat >"$work/plans.json" <<JSON
{"plans":[{"name":"bench","maxDurationSec":12,"requestsPerMinute":1000000,"jobsInFlight":10000,
 "allow":{"1080p":true,"sourceImage":false,"lastFrame":false,"referenceVideo":false,"referenceAudio":false},
 "creditsPerSecond":{"720p":1,"1080p":2},
 "engine":{"name":"dashscope","baseUrl":"$STANDIN/dashscope/api/v1","apiKeyEnv":"BENCH_PROVIDER_KEY",
  "model":"happyhorse-1.0-t2v","pollIntervalSec":1,"createPerSecond":200,"pollPerSecond":1000,
  "maxInFlight":256,"preset":"ultrafast"}}]}
JSON
export HAPPYHORSE_DATA="$work/data" HAPPYHORSE_PLANS="$work/plans.json" BENCH_PROVIDER_KEY=sk-bench
"$BIN" admin user create --email bench@example.com --plan bench --credits 1000000000 >/dev/null
KEY=$("$BIN" admin key create --email bench@example.com --name bench)

# One result's re-encode alone: the work each of the N does after the provider.
"$BIN" serve --listen "127.0.0.1:$HH_PORT" --workers "$THREADS" --log-level "${BENCH_LOG_LEVEL:-warn}" 2>"$work/serve.log" &
wait_http "http://127.0.0.1:$HH_PORT/healthz"
BODY='{"prompt":"a chestnut horse runs through a meadow","durationSec":3}'
t0=$(date +%s.%N)
seq "$N" | xargs -P 16 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST \
  "http://127.0.0.1:$HH_PORT/api/v1/videos" -H "Authorization: Bearer $KEY" \
  -H "Content-Type: application/json" -d "$BODY" >"$work/codes"
t_created=$(date +%s.%N)
[ "$(sort -u "$work/codes")" = 202 ] || { echo "bench: a create was refused" >&2; exit 1; }
while :; do
  ready=$(curl -s "http://127.0.0.1:$HH_PORT/metrics" | awk '/^happyhorse_videos\{status="ready"\}/ {print $2}')
  [ "${ready:-0}" -ge "$N" ] && break
  sleep 0.5
done
t_all=$(date +%s.%N)
metrics=$(curl -s "http://127.0.0.1:$HH_PORT/metrics")
one=$(awk '/^happyhorse_job_render_seconds_sum/ {s = $2} /^happyhorse_job_render_seconds_count/ {c = $2}
  END {printf "%.2f", s / c}' <<<"$metrics")
curl -s "$STANDIN/_standin/tasks" >"$work/tasks.json"
lags=$(jq -r '[.[] | select(.seen != null) | .seen - .due] | sort |
  "\(.[length / 2 | floor]) \(.[length * 99 / 100 | floor]) \(.[-1]) \(length)"' "$work/tasks.json")
read -r lag50 lag99 lagmax seen <<<"$lags"
polls=$(jq '[.[].polls] | add' "$work/tasks.json")
wall=$(awk -v a="$t0" -v b="$t_all" 'BEGIN {printf "%.1f", b - a}')
create_s=$(awk -v a="$t0" -v b="$t_created" 'BEGIN {printf "%.1f", b - a}')
ideal=$(awk -v t="$TASK" -v one="$one" -v n="$N" -v th="$THREADS" 'BEGIN {printf "%.1f", 1 + t + n * one / th}')

cat <<MD
## Remote tasks: $N videos at a provider (stand-in), one worker process

\`bench/upstream.sh\`: $N creates on a DashScope plan, each task $TASK s at the provider, polled
every 1 s; $THREADS render threads re-encode the results; one driver thread does every create and poll.

| figure | ours | reference | ratio |
|---|---|---|---|
| poll lag, task done → first poll that sees it (p50 / p99 / max, $seen tasks) | $(printf '%.2f / %.2f / %.2f s' "$lag50" "$lag99" "$lagmax") | the poll interval, 1 s | $(ratio "$lag99" 1) (p99) |
| all $N ready, from the first create | $wall s | ideal 1 s + $TASK s + $N × ${one} s / $THREADS threads = $ideal s | $(ratio "$wall" "$ideal") |

Creating all $N took $create_s s; the provider answered $polls polls in all
($(awk -v p="$polls" -v n="$N" 'BEGIN {printf "%.1f", p / n}') per task). The per-video work in the ideal,
${one} s, is the mean time a render thread spent downloading and re-encoding a result in this same run
(\`happyhorse_job_render_seconds\` of \`/metrics\`).
MD
