#!/usr/bin/env bash
# Authenticated request throughput: wrk against GET /api/v1/account (Bearer
# key lookup, rate limiter, JSON reply) vs nginx serving a static file of
# the same size, same connections, same duration, same machine, same run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${HH_BIN:-build/happyhorse}
DUR=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
HH_PORT=18080 NGINX_PORT=18081
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

# A plan whose rate limit cannot be the bottleneck.
cat >"$work/plans.json" <<'JSON'
{"plans":[{"name":"bench","maxDurationSec":12,"requestsPerMinute":1000000,"jobsInFlight":1,
 "allow":{"1080p":true,"sourceImage":true,"lastFrame":true,"referenceVideo":true,"referenceAudio":true},
 "creditsPerSecond":{"720p":10,"1080p":20}}]}
JSON
export HAPPYHORSE_DATA="$work/data" HAPPYHORSE_PLANS="$work/plans.json"
"$BIN" admin user create --email bench@example.com --plan bench --credits 100 >/dev/null
KEY=$("$BIN" admin key create --email bench@example.com --name bench)
"$BIN" serve --listen 127.0.0.1:$HH_PORT --workers 0 --log-level warn 2>"$work/serve.log" &
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$HH_PORT/healthz" >/dev/null && break; sleep 0.1; done

curl -sf -H "Authorization: Bearer $KEY" "http://127.0.0.1:$HH_PORT/api/v1/account" >"$work/account.json"
mkdir -p "$work/www"
cp "$work/account.json" "$work/www/account.json"
cat >"$work/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  server { listen 127.0.0.1:$NGINX_PORT; root $work/www; }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" &
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$NGINX_PORT/account.json" >/dev/null && break; sleep 0.1; done

rps() { wrk -t2 -c"$CONNS" -d"${DUR}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
hh=$(rps -H "Authorization: Bearer $KEY" "http://127.0.0.1:$HH_PORT/api/v1/account")
ng=$(rps "http://127.0.0.1:$NGINX_PORT/account.json")
size=$(stat -c %s "$work/account.json")

echo "## Authenticated request vs nginx static file"
echo
echo "wrk -t2 -c$CONNS -d${DUR}s; response body $size bytes; HappyHorse with 2 HTTP threads"
echo "(one per core), SQLite store, \`GET /api/v1/account\` with a Bearer key."
echo
echo "| server | requests/s | ratio to nginx |"
echo "|---|---|---|"
echo "| nginx, static file | $ng | 1.00 |"
echo "| happyhorse, authenticated | $hh | $(awk -v a="$hh" -v b="$ng" 'BEGIN {printf "%.2f", a/b}') |"
