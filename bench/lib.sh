# lib.sh - what the HTTP benchmarks share: a scratch dir, a HappyHorse
# server on a plan whose rate limit is never the bottleneck, nginx serving
# a reference file, and wrk. Source it from a bench/*.sh script.
#   bench_plans                  the plan "bench" (no rate limit in the way), as HAPPYHORSE_PLANS
#   bench_serve PORT [serve flags]  bench_user, then bench_node PORT
#   bench_user [EMAIL]           the plan and a user (bench@example.com) in the store; sets KEY (its key)
#   bench_node PORT [serve flags]  starts one more serve on the same store (the PostgreSQL one of
#                                bench_pg when started, else $work/data's SQLite); sets SERVE_PID
#   bench_pg                     a durable throw-away PostgreSQL cluster under $work, stopped at exit,
#                                its database exported as HAPPYHORSE_DATABASE_URL
#   bench_nginx PORT FILE [LOG]  nginx, one worker per core, serving FILE at
#                                http://127.0.0.1:PORT/<basename> (access log to LOG, else off)
#   rps [wrk args...]            requests/s of a wrk run of $DUR s, $CONNS connections, $WRK_THREADS threads
#   latency LUA URL              p50 and p99 (ms) of one client alone (wrk -t1 -c1 --latency, $DUR s)
#   alternate N FN...            runs the functions (each prints a number) N times in turn:
#                                "median_1 median_2 ..."
#   create_lua FILE KEYS [IDEM]  a wrk script posting the documented create body ($BODY) with the key
#                                KEYS; with IDEM, each request carries its own Idempotency-Key
#                                IDEM-<thread>-<n> and one of KEYS (space-separated) picked at random
#   ratio A B                    A/B with two decimals
#   bench_hhcore_cc OUT SRC      builds a bench program SRC linking build/libhhcore.a
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${HH_BIN:-build/happyhorse}
DUR=${BENCH_SECONDS:-10}
WRK_THREADS=${WRK_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-5}
work=$(mktemp -d)
chmod 755 "$work" # nginx's workers run as www-data and must reach www/
bench_exit() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  [ ! -s "$work/pg/url" ] || HH_PG_DIR="$work/pg" tests/pg/cluster.sh stop
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap bench_exit EXIT

# The flags and libraries of CMakeLists.txt's hhcore (_GNU_SOURCE, as the project builds).
bench_hhcore_cc() {
  # shellcheck disable=SC2046
  cc -O2 -std=c17 -D_GNU_SOURCE -Isrc "$2" build/libhhcore.a \
    $(pkg-config --libs libmicrohttpd jansson sqlite3 libargon2 libcrypto libpq libcurl libcmark \
      libavformat libavcodec libavutil libswscale libswresample) -lpthread -lm -o "$1"
}

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

bench_user() {
  local email=${1:-bench@example.com}
  bench_plans
  export HAPPYHORSE_DATA="$work/data"
  "$BIN" admin user create --email "$email" --plan bench --credits 1000000000 >/dev/null
  KEY=$("$BIN" admin key create --email "$email" --name bench)
}

# Nodes after the first log to serve-PORT.log; all share $HAPPYHORSE_DATA (scratch with PostgreSQL).
bench_node() {
  local port=$1 log="$work/serve.log"
  shift
  [ -z "${SERVE_PID:-}" ] || log="$work/serve-$port.log"
  "$BIN" serve --listen "127.0.0.1:$port" --workers 0 --log-level warn "$@" 2>"$log" &
  SERVE_PID=$!
  wait_http "http://127.0.0.1:$port/healthz"
}

bench_serve() {
  bench_user
  bench_node "$@"
}

# fsync and synchronous_commit on (HH_PG_DURABLE), so a commit is as durable as SQLite's FULL.
bench_pg() {
  local url
  url=$(HH_PG_DIR="$work/pg" HH_PG_DURABLE=1 tests/pg/cluster.sh start)
  psql -qAt "$url" -c "CREATE DATABASE bench" >/dev/null
  export HAPPYHORSE_DATABASE_URL="${url%/*}/bench"
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
# p50 and p99 of one client alone (ms), from wrk --latency: latency LUA URL.
latency() {
  wrk -t1 -c1 -d"${DUR}s" --latency -s "$1" "$2" |
    awk '$1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2}
      function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
      END {printf "%.2f %.2f\n", ms(p50), ms(p99)}'
}
# The documented create body, and a wrk script posting it: create_lua FILE KEYS [IDEM].
BODY='{"prompt":"A cinematic shot of a chestnut horse running through a sunlit meadow","style":"cinematic","durationSec":6,"aspectRatio":"16:9","resolution":"720p"}'
create_lua() {
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${2%% *}"
LUA
  [ -n "${3:-}" ] || return 0
  local keys
  # shellcheck disable=SC2086 # one key a word
  keys=$(printf '"%s",' $2)
  # setup() runs in wrk's main Lua state, once per thread: it numbers them.
  cat >>"$1" <<LUA
local keys = {${keys%,}}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
function request()
  n = n + 1
  wrk.headers["Authorization"] = "Bearer " .. keys[math.random(#keys)]
  wrk.headers["Idempotency-Key"] = "$3-" .. tid .. "-" .. n
  return wrk.format()
end
LUA
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
alternate() {
  local n=$1 i f out=""
  shift
  local -A vals=()
  for i in $(seq "$n"); do
    for f in "$@"; do vals[$f]+=" $($f)"; done
  done
  for f in "$@"; do
    # shellcheck disable=SC2086 # the values are numbers, split on purpose
    out+="$(median ${vals[$f]}) "
  done
  echo "${out% }"
}
