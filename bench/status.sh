#!/usr/bin/env bash
# Status polls: GET /api/v1/videos/{id} with a Bearer key (key check, rate
# limit, the video's JSON, ~380 bytes) against nginx serving the same bytes
# as a static file, nginx with one worker per core as we have one HTTP
# thread per core, wrk -t1 -c32 for both. The two are measured in turn,
# $ROUNDS times, and the medians compared. Twice: with the access log off on
# both sides, and on on both (ours at the default level, nginx's access_log,
# each to a file).
CONNS=${BENCH_CONNECTIONS:-32}
WRK_THREADS=1
DUR=${BENCH_SECONDS:-5}
HH_PORT=18106 NGINX_PORT=18107 HH_LOG_PORT=18108 NGINX_LOG_PORT=18109
. "$(dirname "$0")/lib.sh"

bench_serve $HH_PORT
ID=$(curl -sf -X POST "http://127.0.0.1:$HH_PORT/api/v1/videos" -H "Authorization: Bearer $KEY" \
  -H "Content-Type: application/json" -d "$BODY" | jq -r .id)
URL="http://127.0.0.1:$HH_PORT/api/v1/videos/$ID"
curl -sf -H "Authorization: Bearer $KEY" "$URL" >"$work/status.json"
bench_nginx $NGINX_PORT "$work/status.json"
ours() { rps -H "Authorization: Bearer $KEY" "$URL"; }
ref() { rps "http://127.0.0.1:$NGINX_PORT/status.json"; }
read -r hh ng < <(alternate "$ROUNDS" ours ref)

# The same with the access logs on: a second server at info, a second nginx logging.
"$BIN" serve --listen "127.0.0.1:$HH_LOG_PORT" --workers 0 --log-level info 2>"$work/serve-info.log" &
wait_http "http://127.0.0.1:$HH_LOG_PORT/healthz"
sed -i "s|access_log off;|access_log $work/nginx-access.log;|; s|$NGINX_PORT|$NGINX_LOG_PORT|" \
  "$work/nginx.conf"
sed -i "s|^pid .*|pid $work/nginx2.pid;|" "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work" &
wait_http "http://127.0.0.1:$NGINX_LOG_PORT/status.json"
URL="http://127.0.0.1:$HH_LOG_PORT/api/v1/videos/$ID"
NGINX_PORT=$NGINX_LOG_PORT
read -r hhl ngl < <(alternate "$ROUNDS" ours ref)

echo "## Status polls vs nginx"
echo
echo "\`bench/status.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores shared with other work): wrk -t1"
echo "-c$CONNS -d${DUR}s against each, $ROUNDS rounds in turn, medians. \`GET /api/v1/videos/{id}\`"
echo "with a Bearer key, $(stat -c %s "$work/status.json") bytes of JSON; nginx $(nginx -v 2>&1 | cut -d/ -f2)"
echo "with $(nproc) workers serving the same bytes from a file; happyhorse with one HTTP thread per"
echo "core. Goal: ≥ 0.80."
echo
echo "| access log | nginx, static file (req/s) | happyhorse, status (req/s) | ratio |"
echo "|---|---|---|---|"
echo "| off (ours at warn) | $ng | $hh | $(ratio "$hh" "$ng") |"
echo "| on, to a file (ours at info) | $ngl | $hhl | $(ratio "$hhl" "$ngl") |"
