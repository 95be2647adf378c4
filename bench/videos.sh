#!/usr/bin/env bash
# The customer path's hot routes against same-run references:
#  - POST /api/v1/videos (validate, charge, insert video + job, in one
#    transaction) with wrk and a Lua script posting the documented body,
#    vs the sqlite3 CLI doing the same rows' inserts, one transaction each,
#    on the same schema and settings (WAL, synchronous=NORMAL);
#  - GET /api/v1/videos/{id} vs nginx serving a static JSON of the same size.
CONNS=${BENCH_CONNECTIONS:-16}
HH_PORT=18090 NGINX_PORT=18091
. "$(dirname "$0")/lib.sh"
bench_serve $HH_PORT

BODY='{"prompt":"A cinematic shot of a chestnut horse running through a sunlit meadow","style":"cinematic","durationSec":6,"aspectRatio":"16:9","resolution":"720p"}'
cat >"$work/create.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA
creates=$(rps -s "$work/create.lua" "http://127.0.0.1:$HH_PORT/api/v1/videos")
made=$(curl -s "http://127.0.0.1:$HH_PORT/metrics" | awk '/^happyhorse_videos\{status="queued"\}/ {print $2}')

# The same rows by hand: balance update, ledger row, video row, job row per transaction.
N=5000
uid=$("$BIN" admin user show --email bench@example.com | jq -r .id)
python3 - "$N" "$uid" >"$work/raw.sql" <<'PY'
import sys, uuid
n, uid = int(sys.argv[1]), sys.argv[2]
print("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
for i in range(n):
    vid = str(uuid.uuid4())
    print(f"BEGIN IMMEDIATE;"
          f"UPDATE users SET credits = credits - 6 WHERE id = '{uid}';"
          f"INSERT INTO ledger (user_id, amount, balance_after, kind, ref, note, created_at)"
          f" SELECT '{uid}', -6, credits, 'charge', '{vid}', 'video', {i} FROM users WHERE id = '{uid}';"
          f"INSERT INTO videos (id, user_id, status, prompt, style, duration_sec, aspect_ratio, resolution,"
          f" request, credits_charged, created_at) VALUES ('{vid}', '{uid}', 'queued', 'a horse', 'cinematic',"
          f" 6, '16:9', '720p', '{{}}', 6, {i});"
          f"INSERT INTO jobs (video_id, user_id, plan, state, max_attempts, max_in_flight, enqueued_at,"
          f" updated_at) VALUES ('{vid}', '{uid}', 'bench', 'queued', 3, 1, {i}, {i});"
          f"COMMIT;")
PY
start=$(date +%s.%N)
sqlite3 "$work/data/happyhorse.db" <"$work/raw.sql" >/dev/null
end=$(date +%s.%N)
raw=$(awk -v n=$N -v a="$start" -v b="$end" 'BEGIN {printf "%.0f", n/(b-a)}')

# Status polls against a static file of the same size.
ID=$("$BIN" admin video list --email bench@example.com --limit 1 | jq -r '.[0].id')
curl -sf -H "Authorization: Bearer $KEY" "http://127.0.0.1:$HH_PORT/api/v1/videos/$ID" >"$work/status.json"
bench_nginx $NGINX_PORT "$work/status.json"
gets=$(rps -H "Authorization: Bearer $KEY" "http://127.0.0.1:$HH_PORT/api/v1/videos/$ID")
ng=$(rps "http://127.0.0.1:$NGINX_PORT/status.json")

echo "## Creating videos and polling status"
echo
echo "wrk -t2 -c$CONNS -d${DUR}s on $(nproc) cores; SQLite store; no render workers running."
echo
echo "| what | per second | ratio to reference |"
echo "|---|---|---|"
echo "| sqlite3 CLI: balance update + ledger + video + job rows, one transaction each ($N) | $raw | 1.00 |"
echo "| POST /api/v1/videos, documented body ($made accepted) | $creates | $(ratio "$creates" "$raw") |"
echo "| nginx, static JSON of $(stat -c %s "$work/status.json") bytes | $ng | 1.00 |"
echo "| GET /api/v1/videos/{id} | $gets | $(ratio "$gets" "$ng") |"
