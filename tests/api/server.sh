# server.sh - start and stop a real `happyhorse serve` for API tests.
# Source after lib.sh. Uses $DATA, by default a data dir in the test's HH_TMP,
# and port 0 (the kernel picks a free port; we read it from the log).
#
#   start_server [extra serve flags...]   sets BASE, DATA, SERVER_PID, SERVER_LOG
#   stop_server                           SIGTERM, waits, asserts exit 0
#   hh ARGS...                            runs the CLI against $DATA

: "${HH_BIN:?HH_BIN must point at the happyhorse binary}"

# shellcheck source=store.sh
. "$HH_SRC/tests/api/store.sh"

hh() { HAPPYHORSE_DATA="$DATA" "$HH_BIN" "$@"; }

start_server() {
  DATA=${DATA:-$HH_TMP/data}
  mkdir -p "$DATA"
  # A fresh log per start: the port is read from it, and an old "listening"
  # line of a previous start must never be mistaken for this one's.
  SERVER_STARTS=$((${SERVER_STARTS:-0} + 1))
  SERVER_LOG="$DATA/server.$SERVER_STARTS.log"
  HAPPYHORSE_DATA="$DATA" "$HH_BIN" serve --listen 127.0.0.1:0 "$@" 2>"$SERVER_LOG" &
  SERVER_PID=$!
  local port="" i
  for i in $(seq 1 200); do
    port=$(grep -m1 '"msg":"listening"' "$SERVER_LOG" 2>/dev/null | jq -r .port || true)
    [ -n "$port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; echo "server died at start" >&2; exit 1; }
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$SERVER_LOG" >&2; echo "server did not start" >&2; exit 1; }
  BASE="http://127.0.0.1:$port"
}

stop_server() {
  [ -n "${SERVER_PID:-}" ] || return 0
  kill -TERM "$SERVER_PID"
  local rc=0
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  if [ "$rc" -ne 0 ]; then
    tail -50 "$SERVER_LOG" >&2
    echo "server exited with $rc after SIGTERM (want 0)" >&2
    exit 1
  fi
}

# Kill a server left running when a test fails half-way.
_server_cleanup() { [ -n "${SERVER_PID:-}" ] && kill -9 "$SERVER_PID" 2>/dev/null; true; }
hh_on_exit _server_cleanup

# req METHOD PATH [curl args...]: sets STATUS, BODY (file), HEADERS (file).
req() {
  local method=$1 path=$2; shift 2
  BODY=$(mktemp -p "$DATA") HEADERS=$(mktemp -p "$DATA")
  STATUS=$(curl -sS -o "$BODY" -D "$HEADERS" -w '%{http_code}' -X "$method" "$@" "$BASE$path")
}

# header NAME: value of a response header of the last req (case-insensitive).
header() { grep -i "^$1:" "$HEADERS" | head -1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'; }

# error_code: the envelope's code of the last response body.
error_code() { jq -r '.error.code' "$BODY"; }

# dash_login EMAIL PASSWORD: signs in to the dashboard; sets S (curl args: the
# session cookie and the CSRF token), STATUS and BODY.
dash_login() {
  req POST /api/dashboard/login -H 'Content-Type: application/json' \
    --data-binary "$(jq -nc --arg e "$1" --arg p "$2" '{email:$e,password:$p}')"
  local cookie
  cookie=$(header Set-Cookie | sed -n 's/^hh_session=\([^;]*\);.*/\1/p')
  S=(-H "Cookie: hh_session=$cookie" -H "X-CSRF-Token: $(jq -r .csrfToken "$BODY")")
}

# curl_each METHOD KEY [JSON] < PATHS: one request with the API key per path
# read from stdin, all through one curl on one kept-alive connection (fast
# enough for a thousand), a JSON body on each when given; prints each
# response body on a line of its own.
curl_each() {
  local method=$1 key=$2 body=${3:-} path sep=""
  while read -r path; do
    printf '%surl = "%s%s"\nrequest = "%s"\nheader = "Authorization: Bearer %s"\nwrite-out = "\\n"\n' \
      "$sep" "$BASE" "$path" "$method" "$key"
    [ -z "$body" ] || printf 'header = "Content-Type: application/json"\ndata = "%s"\n' "${body//\"/\\\"}"
    sep=$'next\n'
  done >"$HH_TMP/curl_each.cfg"
  curl -sS -K "$HH_TMP/curl_each.cfg"
}

# seed_videos KEY N: creates N queued 3-second videos of KEY's account
# (start the server with --workers 0 to keep them queued); prints their ids
# in creation order. The account's plan must allow N requests a minute.
seed_videos() {
  seq "$2" | sed 's|.*|/api/v1/videos|' |
    curl_each POST "$1" '{"prompt":"A seeded horse in a field","durationSec":3}' | jq -r .id
}
