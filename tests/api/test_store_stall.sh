#!/usr/bin/env bash
# test_store_stall.sh - a stalled or broken database must not freeze the
# server. Another process (the sqlite3 CLI) holds the database's write lock
# with BEGIN EXCLUSIVE for as long as the test wants:
#  - requests that need the lock wait on the work pool, not on the threads
#    that serve sockets: /healthz answers while eight creates are still
#    waiting (with a wait longer than the test, so the order is certain);
#  - with a short wait (--store-wait-ms), they are answered 503
#    service_unavailable with Retry-After, while reads still answer;
#  - once the lock is gone everything works again.
# And /readyz reports the store and the disk: it fails with a corrupt
# database page and with the disk below --min-free-mb, while /healthz
# stays 200.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"
command -v sqlite3 >/dev/null || fail "the sqlite3 CLI is required"

DATA=$HH_TMP/data
DB=$DATA/happyhorse.db
hh admin user create --email stall@example.com --plan max --credits 100000 >/dev/null
KEY=$(hh admin key create --email stall@example.com)
AUTH=(-H "Authorization: Bearer $KEY" -H "Content-Type: application/json")
CREATE='{"prompt":"a horse in the rain","durationSec":3}'

# lock_db / unlock_db: another process takes the database's write lock and holds it.
lock_db() {
  rm -f "$HH_TMP/lock.fifo"
  mkfifo "$HH_TMP/lock.fifo"
  sqlite3 "$DB" <"$HH_TMP/lock.fifo" >"$HH_TMP/lock.out" 2>&1 &
  LOCK_PID=$!
  exec 3>"$HH_TMP/lock.fifo"
  echo "BEGIN EXCLUSIVE; SELECT 'locked';" >&3
  local _
  for _ in $(seq 1 100); do
    grep -q locked "$HH_TMP/lock.out" && return 0
    sleep 0.1
  done
  fail "sqlite3 did not take the lock: $(cat "$HH_TMP/lock.out")"
}
unlock_db() {
  echo "COMMIT;" >&3
  exec 3>&-
  wait "$LOCK_PID"
  LOCK_PID=""
}
_unlock_cleanup() { [ -n "${LOCK_PID:-}" ] && kill "$LOCK_PID" 2>/dev/null; true; }
hh_on_exit _unlock_cleanup

# --- a wait longer than the test: creates stay waiting, /healthz answers meanwhile ---
start_server --workers 0 --http-threads 2 --store-wait-ms 600000
lock_db
for i in 1 2 3 4 5 6 7 8; do
  curl -s -o "$HH_TMP/c.$i.body" -w '%{http_code}' --max-time 300 -X POST "${AUTH[@]}" \
    -d "$CREATE" "$BASE/api/v1/videos" >"$HH_TMP/c.$i.code" &
  eval "CREATE_PID_$i=$!"
done
# Every create has reached the server (its request is logged only when it ends, so count the
# connections instead: eight established ones besides ours).
PORT=${BASE##*:}
for _ in $(seq 1 100); do
  n=$(ss -Htn state established "( sport = :$PORT )" | wc -l)
  [ "$n" -ge 8 ] && break
  sleep 0.1
done
[ "$n" -ge 8 ] || fail "only $n creates connected"
HH_ASSERTS=$((HH_ASSERTS + 1))
sleep 0.5 # let them reach the database and wait on its lock
for i in 1 2 3 4 5 6 7 8; do
  [ -s "$HH_TMP/c.$i.code" ] && fail "create $i answered while the lock was held: $(cat "$HH_TMP/c.$i.code")"
done
hh_run curl -s -o "$HH_TMP/h.body" -w '%{http_code} %{time_total}' --max-time 30 "$BASE/healthz"
assert_eq 0 "$RUN_RC" "/healthz answered while eight creates wait on the lock"
assert_eq 200 "${RUN_OUT%% *}" "/healthz status under the lock"
echo "healthz under the lock, eight creates waiting: ${RUN_OUT#* } s" >&2
req GET /api/v1/account "${AUTH[@]}"
assert_eq 200 "$STATUS" "a read answers under the write lock"
for i in 1 2 3 4 5 6 7 8; do
  [ -s "$HH_TMP/c.$i.code" ] && fail "create $i answered while the lock was held: $(cat "$HH_TMP/c.$i.code")"
done
HH_ASSERTS=$((HH_ASSERTS + 1))
unlock_db
for i in 1 2 3 4 5 6 7 8; do
  pid_var=CREATE_PID_$i
  wait "${!pid_var}" || true
  assert_eq 202 "$(cat "$HH_TMP/c.$i.code")" "create $i once the lock is gone"
done
stop_server

# --- a short wait: 503 service_unavailable with Retry-After; reads still answer ---
start_server --workers 0 --store-wait-ms 200
lock_db
req POST /api/v1/videos "${AUTH[@]}" -d "$CREATE"
assert_eq 503 "$STATUS" "create under the lock"
assert_eq service_unavailable "$(error_code)" "create under the lock: code"
assert_eq 1 "$(header Retry-After)" "create under the lock: Retry-After"
req POST /api/v1/uploads/presign "${AUTH[@]}" -d '{"kind":"image","contentType":"image/png","sizeBytes":100}'
assert_eq 503 "$STATUS" "presign under the lock"
assert_eq 1 "$(header Retry-After)" "presign under the lock: Retry-After"
req GET /api/v1/account "${AUTH[@]}"
assert_eq 200 "$STATUS" "a read under the lock"
req GET /healthz
assert_eq 200 "$STATUS" "/healthz under the lock"
unlock_db
req POST /api/v1/videos "${AUTH[@]}" -d "$CREATE"
assert_eq 202 "$STATUS" "create after the lock"
req GET /readyz
assert_eq 200 "$STATUS" "/readyz on a healthy store and disk"
assert_eq true "$(jq -r .store.ok "$BODY")" "/readyz: store ok"
assert_eq true "$(jq -r .disk.ok "$BODY")" "/readyz: disk ok"
stop_server

# --- /readyz: the disk below --min-free-mb ---
start_server --workers 0 --min-free-mb 100000000
req GET /readyz
assert_eq 503 "$STATUS" "/readyz with the disk below the minimum"
assert_eq "disk almost full" "$(jq -r .reason "$BODY")" "/readyz says why"
assert_eq false "$(jq -r .disk.ok "$BODY")" "/readyz: disk not ok"
assert_eq 1 "$(header Retry-After)" "/readyz 503 has Retry-After"
req GET /healthz
assert_eq 200 "$STATUS" "/healthz with the disk low"
stop_server

# --- /readyz: a corrupt page of the ledger ---
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
page=$(sqlite3 "$DB" "SELECT rootpage FROM sqlite_schema WHERE name = 'ledger'")
size=$(sqlite3 "$DB" "PRAGMA page_size")
head -c "$size" /dev/urandom | dd of="$DB" bs="$size" seek=$((page - 1)) conv=notrunc status=none
start_server --workers 0
req GET /readyz
assert_eq 503 "$STATUS" "/readyz with a corrupt page"
assert_contains "$(jq -r .reason "$BODY")" "database corrupt" "/readyz says why"
assert_eq false "$(jq -r .store.ok "$BODY")" "/readyz: store not ok"
req GET /healthz
assert_eq 200 "$STATUS" "/healthz with a corrupt database"
stop_server
hh_done
