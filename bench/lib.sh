# lib.sh - what the HTTP benchmarks share: a scratch dir, a HappyHorse
# server on a plan whose rate limit is never the bottleneck, nginx serving
# a reference file, and wrk. Source it from a bench/*.sh script.
#   bench_plans                  the plan "bench" (no rate limit in the way), as HAPPYHORSE_PLANS
#   bench_serve PORT [serve flags]  starts serve; sets KEY (a key of user bench@example.com), SERVE_PID
#   bench_nginx PORT FILE [LOG]  nginx, one worker per core, serving FILE at
#                                http://127.0.0.1:PORT/<basename> (access log to LOG, else off)
#   rps [wrk args...]            requests/s of a wrk run of $DUR s, $CONNS connections, $WRK_THREADS threads
#   alternate N FN_A FN_B        runs the two (each prints a number) N times in turn: "median_A median_B"
#   create_lua FILE KEY          a wrk script posting the documented create body ($BODY)
#   ratio A B                    A/B with two decimals
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${HH_BIN:-build/happyhorse}
DUR=${BENCH_SECONDS:-10}
WRK_THREADS=${WRK_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-5}
work=$(mktemp -d)
chmod 755 "$work" # nginx's workers run as www-data and must reach www/
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT

wait_http() {
  for _ in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done
  echo "bench: $1 does not answer 200" >&2
  exit 1
}

# The plan "bench": a rate limit that is never the bottleneck. Exported as HAPPYHORSE_PLANS.
bench_plans() {
  cat >"$work/plans.json" <<'JSON'
{"plans":[{"name":"bench","maxDurationSec":12,"requestsPerMinute":1000000,"jobsInFlight":1,
 "allow":{"1080p":true,"sourceImage":true,"lastFrame":true,"referenceVideo":true,"referenceAudio":true},
 "creditsPerSecond":{"720p":1,"1080p":2}}]}
JSON
  export HAPPYHORSE_PLANS="$work/plans.json"
}

bench_serve() {
  bench_plans
  export HAPPYHORSE_DATA="$work/data"
  "$BIN" admin user create --email bench@example.com --plan bench --credits 1000000000 >/dev/null
  KEY=$("$BIN" admin key create --email bench@example.com --name bench)
  local port=$1
  shift
  "$BIN" serve --listen "127.0.0.1:$port" --workers 0 --log-level warn "$@" 2>"$work/serve.log" &
  SERVE_PID=$!
  wait_http "http://127.0.0.1:$port/healthz"
}

bench_nginx() {
  mkdir -p "$work/www"
  cp "$2" "$work/www/"
  chmod -R a+rX "$work/www"
  local log="access_log off;"
  [ -z "${3:-}" ] || log="access_log $3;"
  cat >"$work/nginx.conf" <<CONF
worker_processes $(nproc);
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err warn;
events { worker_connections 1024; }
http { $log default_type application/json;
  server { listen 127.0.0.1:$1; root $work/www; } }
CONF
  nginx -c "$work/nginx.conf" -p "$work" &
  wait_http "http://127.0.0.1:$1/$(basename "$2")"
}

# Refuses a run with any non-2xx answer: an error page is not a request served.
rps() {
  local out
  out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DUR}s" "$@")
  if grep -q 'Non-2xx' <<<"$out"; then
    echo "bench: non-2xx answers in: wrk $*" >&2
    exit 1
  fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}
# The documented create body, and a wrk script posting it with KEY: create_lua FILE KEY.
BODY='{"prompt":"A cinematic shot of a chestnut horse running through a sunlit meadow","style":"cinematic","durationSec":6,"aspectRatio":"16:9","resolution":"720p"}'
create_lua() {
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $2"
LUA
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
alternate() {
  local n=$1 a=$2 b=$3 i
  local -a va=() vb=()
  for i in $(seq "$n"); do
    va+=("$($a)")
    vb+=("$($b)")
  done
  echo "$(median "${va[@]}") $(median "${vb[@]}")"
}
