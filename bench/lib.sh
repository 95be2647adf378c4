# lib.sh - what the HTTP benchmarks share: a scratch dir, a HappyHorse
# server on a plan whose rate limit is never the bottleneck, nginx serving
# a reference file, and wrk. Source it from a bench/*.sh script.
#   bench_serve PORT             starts serve; sets KEY (a key of user bench@example.com)
#   bench_nginx PORT FILE        nginx serving FILE at http://127.0.0.1:PORT/<basename>
#   rps [wrk args...]            requests/s of a wrk run of $DUR s with $CONNS connections
#   ratio A B                    A/B with two decimals
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${HH_BIN:-build/happyhorse}
DUR=${BENCH_SECONDS:-10}
work=$(mktemp -d)
chmod 755 "$work" # nginx's workers run as www-data and must reach www/
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT

wait_http() {
  for _ in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done
  echo "bench: $1 does not answer 200" >&2
  exit 1
}

bench_serve() {
  cat >"$work/plans.json" <<'JSON'
{"plans":[{"name":"bench","maxDurationSec":12,"requestsPerMinute":1000000,"jobsInFlight":1,
 "allow":{"1080p":true,"sourceImage":true,"lastFrame":true,"referenceVideo":true,"referenceAudio":true},
 "creditsPerSecond":{"720p":1,"1080p":2}}]}
JSON
  export HAPPYHORSE_DATA="$work/data" HAPPYHORSE_PLANS="$work/plans.json"
  "$BIN" admin user create --email bench@example.com --plan bench --credits 1000000000 >/dev/null
  KEY=$("$BIN" admin key create --email bench@example.com --name bench)
  "$BIN" serve --listen "127.0.0.1:$1" --workers 0 --log-level warn 2>"$work/serve.log" &
  wait_http "http://127.0.0.1:$1/healthz"
}

bench_nginx() {
  mkdir -p "$work/www"
  cp "$2" "$work/www/"
  chmod -R a+rX "$work/www"
  cat >"$work/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err warn;
events { worker_connections 1024; }
http { access_log off; default_type application/json;
  server { listen 127.0.0.1:$1; root $work/www; } }
CONF
  nginx -c "$work/nginx.conf" -p "$work" &
  wait_http "http://127.0.0.1:$1/$(basename "$2")"
}

# Refuses a run with any non-2xx answer: an error page is not a request served.
rps() {
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${DUR}s" "$@")
  if grep -q 'Non-2xx' <<<"$out"; then
    echo "bench: non-2xx answers in: wrk $*" >&2
    exit 1
  fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
