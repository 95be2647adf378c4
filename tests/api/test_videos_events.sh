#!/usr/bin/env bash
# test_videos_events.sh - the status stream GET /api/v1/videos/{id}/events
# over real HTTP (curl -N):
#   1. served by `serve --workers 0` while a separate `happyhorse worker`
#      process renders: every change is seen through the shared SQLite file,
#      events queued .. processing .. ready, each data the video object, the
#      stream closed by the server after the terminal event;
#   2. a keep-alive comment on a video that does not move (15 s), even with
#      a connection --timeout shorter than that;
#   3. a ready video: one event, closed;
#   4. the bound: 8 streams per key, the 9th rate_limited 429 with
#      Retry-After; another key still gets one; a place comes back once its
#      client is gone;
#   5. not_found (unknown, malformed, another account's), missing_api_key;
#   6. `serve` stops (exit 0) with streams open.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
hh admin user create --email sse@example.com --plan pro --credits 100000 >/dev/null
hh admin user create --email other@example.com --plan pro --credits 100000 >/dev/null
KEY=$(hh admin key create --email sse@example.com)
KEY2=$(hh admin key create --email sse@example.com)
OTHER=$(hh admin key create --email other@example.com)
start_server --workers 0 --timeout 5

create() {
  req POST /api/v1/videos -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d "{\"prompt\":\"A horse on a beach at dawn\",\"durationSec\":${1:-3}}"
  assert_status 202 "$STATUS" "create"
  jq -r .id "$BODY"
}

# stream ID OUT [curl args]: curl -N the stream of ID into OUT with $SKEY (default $KEY), in the
# background; sets SPID.
stream() {
  local id=$1 out=$2
  shift 2
  curl -sS -N -o "$out" -D "$out.h" -H "Authorization: Bearer ${SKEY:-$KEY}" "$@" \
    "$BASE/api/v1/videos/$id/events" &
  SPID=$!
}

# wait_for_text FILE TEXT SECONDS: until FILE holds TEXT, or fail.
wait_for_text() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    [[ -f $1 && $(cat "$1") == *"$2"* ]] && return 0
    sleep 0.1
  done
  fail "no '$2' in $1 after $3 s: $(cat "$1" 2>/dev/null)"
}

# statuses FILE: the status of each event's data, one a line.
statuses() { sed -n 's/^data: //p' "$1" | jq -r .status; }

# --- 2. keep-alive on a video nobody renders (no worker yet) ---
ID=$(create 3)
stream "$ID" "$HH_TMP/idle.txt" --max-time 18
wait_for_text "$HH_TMP/idle.txt" "event: status" 10
rc=0
wait "$SPID" || rc=$?
assert_status 28 "$rc" "the idle stream stays open until curl's own --max-time"
idle=$(cat "$HH_TMP/idle.txt")
has_line ": keep-alive" "$idle" || fail "no keep-alive comment in 18 s: $idle"
HH_ASSERTS=$((HH_ASSERTS + 1))
assert_eq "queued" "$(statuses "$HH_TMP/idle.txt")" "one event while nothing changes"
assert_contains "$(cat "$HH_TMP/idle.txt.h")" "Content-Type: text/event-stream" "content type"

# --- 1. until ready, rendered by another process ---
stream "$ID" "$HH_TMP/live.txt" --max-time 120
wait_for_text "$HH_TMP/live.txt" "event: status" 10
# The binary itself in the background (not the hh function's subshell), so its pid is the one killed.
HAPPYHORSE_DATA="$DATA" "$HH_BIN" worker --workers 1 >/dev/null 2>"$HH_TMP/worker.log" &
WORKER_PID=$!
hh_on_exit "kill -9 $WORKER_PID"
rc=0
wait "$SPID" || rc=$?
assert_status 0 "$rc" "the server closes the stream after the terminal event"
mapfile -t seen < <(statuses "$HH_TMP/live.txt")
assert_eq queued "${seen[0]}" "the first event is the video as it was"
assert_eq ready "${seen[-1]}" "the last event is ready"
has_line processing "${seen[@]}" || fail "no processing event: ${seen[*]}"
HH_ASSERTS=$((HH_ASSERTS + 1))
n_events=$(grep -c '^event: status$' "$HH_TMP/live.txt")
assert_eq "${#seen[@]}" "$n_events" "every event has a data line"
last=$(sed -n 's/^data: //p' "$HH_TMP/live.txt" | tail -1)
req GET "/api/v1/videos/$ID" -H "Authorization: Bearer $KEY"
assert_eq "$(jq -c 'del(.progress)' "$BODY")" "$(printf '%s' "$last" | jq -c 'del(.progress)')" \
  "the last event's data is the video object of GET /api/v1/videos/{id}"
progress=$(sed -n 's/^data: //p' "$HH_TMP/live.txt" | jq -r .progress | paste -sd' ')
sorted=$(printf '%s\n' $progress | sort -n | paste -sd' ')
assert_eq "$sorted" "$progress" "progress never goes back"
kill "$WORKER_PID"
wait "$WORKER_PID" || true

# --- 3. a finished video: its one event, then the end ---
assert_exit 0 curl -sS -N --max-time 10 -H "Authorization: Bearer $KEY" "$BASE/api/v1/videos/$ID/events"
assert_eq "event: status" "$(printf '%s\n' "$RUN_OUT" | head -1)" "one event"
assert_eq 1 "$(printf '%s\n' "$RUN_OUT" | grep -c '^data: ')" "only one"

# --- 5. errors in the envelope ---
req GET /api/v1/videos/00000000-0000-7000-8000-000000000000/events -H "Authorization: Bearer $KEY"
assert_status 404 "$STATUS" "unknown id"
assert_eq not_found "$(error_code)" "unknown id"
req GET /api/v1/videos/nope/events -H "Authorization: Bearer $KEY"
assert_status 404 "$STATUS" "malformed id"
req GET "/api/v1/videos/$ID/events" -H "Authorization: Bearer $OTHER"
assert_status 404 "$STATUS" "another account's video"
assert_eq not_found "$(error_code)" "another account's video"
req GET "/api/v1/videos/$ID/events"
assert_status 401 "$STATUS" "no key"
assert_eq missing_api_key "$(error_code)" "no key"

# --- 4. the bound per key ---
Q=$(create 3)
pids=()
for i in 1 2 3 4 5 6 7 8; do
  stream "$Q" "$HH_TMP/b$i.txt" --max-time 120
  pids+=("$SPID")
done
for i in 1 2 3 4 5 6 7 8; do wait_for_text "$HH_TMP/b$i.txt" "event: status" 10; done
req GET "/api/v1/videos/$Q/events" -H "Authorization: Bearer $KEY" --max-time 10
assert_status 429 "$STATUS" "the 9th stream of one key"
assert_eq rate_limited "$(error_code)" "the 9th stream"
assert_eq 8 "$(jq -r .error.maxStreams "$BODY")" "maxStreams"
assert_eq 5 "$(header Retry-After)" "Retry-After"
SKEY=$KEY2 stream "$Q" "$HH_TMP/k2.txt" --max-time 120
K2_PID=$SPID
wait_for_text "$HH_TMP/k2.txt" "event: status" 10
# A client that goes away gives its place back (noticed at its next write: the keep-alive).
kill "${pids[0]}"
wait "${pids[0]}" || true
back=""
for i in $(seq 1 80); do
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 1 -H "Authorization: Bearer $KEY" \
    "$BASE/api/v1/videos/$Q/events" || true)
  # 000: curl's own --max-time on an open stream (the place was free); 429: not yet.
  if [ "$code" = 000 ] || [ "$code" = 200 ]; then back=1 && break; fi
  assert_eq 429 "$code" "while the dead stream holds its place"
  sleep 0.5
done
assert_eq 1 "$back" "the place of a client gone comes back within the keep-alive"

# --- 6. stopping with streams open ---
stop_server
for p in "${pids[@]:1}" "$K2_PID"; do
  rc=0
  wait "$p" || rc=$?
  assert_status 0 "$rc" "a stream ends cleanly when the server stops"
done
hh_done
