#!/usr/bin/env bash
# Authenticated request throughput: wrk against GET /api/v1/account (Bearer
# key lookup, rate limiter, JSON reply) vs nginx serving a static file of
# the same size, same connections, same duration, same machine, same run.
CONNS=${BENCH_CONNECTIONS:-32}
. "$(dirname "$0")/lib.sh"
bench_serve 18102
curl -sf -H "Authorization: Bearer $KEY" "http://127.0.0.1:18102/api/v1/account" >"$work/account.json"
bench_nginx 18103 "$work/account.json"
hh=$(rps -H "Authorization: Bearer $KEY" "http://127.0.0.1:18102/api/v1/account")
ng=$(rps "http://127.0.0.1:18103/account.json")

echo "## Authenticated request vs nginx static file"
echo
echo "wrk -t2 -c$CONNS -d${DUR}s; response body $(stat -c %s "$work/account.json") bytes; HappyHorse"
echo "with one HTTP thread per core, SQLite store, \`GET /api/v1/account\` with a Bearer key."
echo
echo "| server | requests/s | ratio to nginx |"
echo "|---|---|---|"
echo "| nginx, static file | $ng | 1.00 |"
echo "| happyhorse, authenticated | $hh | $(ratio "$hh" "$ng") |"
