# migrate_body.sh - the test of `happyhorse admin migrate`, shared by
# test_admin_migrate.sh (to another data directory) and
# test_admin_migrate_pg.sh (to PostgreSQL, objects to S3). Sourced after
# lib.sh, server.sh and media_fixtures.sh, with these set by the caller:
#
#   TARGET          the --to location
#   TARGET_DATA     the data directory of a serve on the target
#   MIGRATE_FLAGS   extra flags of every migrate run (an array)
#   target_sql SQL  runs SQL on the target's store, rows as text
#   target_env      exports what a node on the target needs (its store, its bucket)
#   before_migrate  runs once the source is made (e.g. starts the bucket)
#   after_copy      runs once the copy is whole and verified (the caller's own checks)
#
# A single node (SQLite) with two users, keys, a dashboard session, 3000+
# ledger rows, a ready video made from an upload, starred, a webhook and its
# failed attempts; a migrate with a small batch killed with -9 half-way
# through the ledger, then run again to the end, verified; a third run
# copies nothing; a tampered target (a credit more) is named by the
# verification; a target with another installation's users or more rows
# is refused, and so are a source at another schema version and bad flags;
# finally a serve on the target answers the old key with the old video and
# its bytes, the old session, the webhook and the favourite.

SRC=$HH_TMP/data
DATA=$SRC
src_sql() { sqlite3 -cmd ".timeout 10000" "$SRC/happyhorse.db" "$1"; }
PASS='correct horse battery staple'

# ---- the single node ----
hh admin user create --email a@example.com --plan pro --credits 1000 --password-stdin <<<"$PASS" >/dev/null
hh admin user create --email b@example.com --plan basic --credits 10 >/dev/null
KEY=$(hh admin key create --email a@example.com)
hh admin key create --email b@example.com >/dev/null
start_server --workers 1 --webhook-allow-private
AUTH=(-H "Authorization: Bearer $KEY")

req POST /api/v1/webhooks "${AUTH[@]}" --data-binary '{"url":"http://127.0.0.1:9/hook","events":["video.ready"]}'
assert_status 201 "$STATUS" "webhook registered"
HOOK=$(jq -r .id "$BODY")
make_png "$HH_TMP/card.png"
upload IMG image image/png "$HH_TMP/card.png"
req POST /api/v1/videos "${AUTH[@]}" -d "{\"prompt\":\"a horse that moves house\",\"durationSec\":3,\"sourceImageKey\":\"$IMG\"}"
assert_status 202 "$STATUS" "video created"
VID=$(jq -r .id "$BODY")
for _ in $(seq 240); do
  [ "$(curl -s "$BASE/api/v1/videos/$VID" "${AUTH[@]}" | jq -r .status)" = ready ] && break
  sleep 0.25
done
req GET "/api/v1/videos/$VID" "${AUTH[@]}"
assert_json "$(cat "$BODY")" .status ready "the video is ready before the move"
curl -sf -o "$HH_TMP/before.mp4" "$(jq -r .videoUrl "$BODY")" || fail "the video's bytes at the source"
req POST "/api/v1/videos/$VID/favorite" "${AUTH[@]}"
assert_status 200 "$STATUS" "starred"
dash_login a@example.com "$PASS"
SESSION=("${S[@]}")
for _ in $(seq 200); do
  [ "$(src_sql 'SELECT count(*) FROM webhook_attempts')" -ge 1 ] && break
  sleep 0.1
done
assert_ne 0 "$(src_sql 'SELECT count(*) FROM webhook_attempts')" "the webhook was attempted"
stop_server

# A long ledger (grants of 1, balances kept), so a small batch takes a while.
A_ID=$(hh admin user show --email a@example.com | jq -r .id)
BAL=$(hh admin user show --email a@example.com | jq -r .credits)
src_sql "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
  INSERT INTO ledger (user_id, amount, balance_after, kind, note, created_at)
  SELECT '$A_ID', 1, $BAL + i, 'grant', 'bulk', 1700000000000 + i FROM n;
  UPDATE users SET credits = credits + 3000 WHERE id = '$A_ID'; COMMIT;"
ROWS=$(src_sql 'SELECT count(*) FROM ledger')
[ "$ROWS" -gt 3000 ] || fail "the source's ledger has $ROWS rows"

before_migrate
migrate() { "$HH_BIN" admin migrate --data "$SRC" --to "$TARGET" "${MIGRATE_FLAGS[@]}" "$@"; }

# ---- killed half-way, then resumed ----
# (the binary itself in the background, not a subshell: kill -9 must reach it)
"$HH_BIN" admin migrate --data "$SRC" --to "$TARGET" "${MIGRATE_FLAGS[@]}" --batch 2 \
  >"$HH_TMP/m1.out" 2>"$HH_TMP/m1.err" &
MPID=$!
for _ in $(seq 600); do
  n=$(target_sql 'SELECT count(*) FROM ledger' 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 50 ] && break
  kill -0 "$MPID" 2>/dev/null || break
  sleep 0.02
done
kill -9 "$MPID" 2>/dev/null || fail "the migration ended before it could be killed: $(tail -3 "$HH_TMP/m1.err")"
wait "$MPID" 2>/dev/null || true
PART=$(target_sql 'SELECT count(*) FROM ledger')
if [ "$PART" -eq 0 ] || [ "$PART" -ge "$ROWS" ]; then
  fail "killed with $PART of $ROWS ledger rows copied"
fi
HH_ASSERTS=$((HH_ASSERTS + 1))
assert_eq 0 "$(($(target_sql 'SELECT count(*) FROM ledger') % 2))" "whole batches only"

assert_exit 0 migrate --batch 50
SUMMARY=$RUN_OUT
assert_json "$SUMMARY" .ok true "the resumed run verifies"
assert_json "$SUMMARY" .tables.ledger.copied "$((ROWS - PART))" "the resumed run copies only the rest"
assert_json "$SUMMARY" .tables.ledger.targetRows "$ROWS" "every ledger row"
assert_json "$SUMMARY" .tables.ledger.sum "$(src_sql 'SELECT sum(amount) FROM ledger')" "the ledger's sum"
assert_json "$SUMMARY" .tables.users.targetSum "$(src_sql 'SELECT sum(credits) FROM users')" "users' credits"
for t in users api_keys ledger uploads videos jobs sessions webhooks webhook_deliveries \
  webhook_attempts audit_log secrets; do
  assert_json "$SUMMARY" ".tables.$t.ok" true "$t verified"
  assert_eq "$(src_sql "SELECT count(*) FROM $t")" "$(target_sql "SELECT count(*) FROM $t")" "$t rows"
done
assert_json "$SUMMARY" '.objects.referenced' 3 "the output, the thumbnail and the upload"
assert_json "$SUMMARY" '.objects.missingAtTarget' 0 "every object at the target"
assert_contains "$RUN_ERR" "migrate: ledger: $ROWS rows" "a progress line per table"
assert_contains "$RUN_ERR" "migrate: verified" "the verdict on stderr"

# ---- run again: nothing left to copy ----
assert_exit 0 migrate
assert_json "$RUN_OUT" '[.tables[].copied] | add' 0 "a third run copies no row"
assert_json "$RUN_OUT" .objects.copied 0 "nor any object"
assert_json "$RUN_OUT" .objects.present 3 "the objects are there with their sizes"
after_copy

# ---- a tampered target is named ----
target_sql "UPDATE users SET credits = credits + 1 WHERE id = '$A_ID'" >/dev/null
assert_exit 1 migrate
assert_contains "$RUN_ERR" "verification failed: rows or sums differ in users" "the table is named"
assert_json "$RUN_OUT" .tables.users.ok false "the summary says which"
target_sql "UPDATE users SET credits = credits - 1 WHERE id = '$A_ID'" >/dev/null

# ---- another installation's store is not a target ----
OTHER=$HH_TMP/other
HAPPYHORSE_DATA=$OTHER "$HH_BIN" admin user create --email a@example.com >/dev/null
assert_exit 1 "$HH_BIN" admin migrate --data "$OTHER" --to "$TARGET" "${MIGRATE_FLAGS[@]}"
assert_contains "$RUN_ERR" "which this store lacks: it is neither empty nor an earlier copy" \
  "a target with another installation's users refused"
# ... and so is one with more rows than the source's (someone used it already).
target_sql "INSERT INTO audit_log (at, actor, action) VALUES (1, 'someone', 'else')" >/dev/null
assert_exit 1 migrate
assert_contains "$RUN_ERR" "its table audit_log holds $(($(src_sql 'SELECT count(*) FROM audit_log') + 1)) rows" \
  "a used target refused"
assert_exit 2 migrate --batch 0
assert_exit 2 "$HH_BIN" admin migrate --data "$SRC"
assert_exit 2 "$HH_BIN" admin migrate --data "$SRC" --to "$SRC"
assert_contains "$RUN_ERR" "the source's own data directory" "not onto itself"
assert_exit 2 "$HH_BIN" admin migrate --data "$SRC" --to s3://bucket/x
assert_exit 1 "$HH_BIN" admin migrate --data "$HH_TMP/nothing" --to "$TARGET"
assert_contains "$RUN_ERR" "no data directory at" "a source that is not there"
# A source at another schema version than this binary's is refused (its user_version moved).
OLD=$HH_TMP/old
HAPPYHORSE_DATA=$OLD "$HH_BIN" admin user create --email old@example.com >/dev/null
sqlite3 "$OLD/happyhorse.db" 'PRAGMA user_version = 3'
assert_exit 1 "$HH_BIN" admin migrate --data "$OLD" --to "$TARGET" "${MIGRATE_FLAGS[@]}"
assert_contains "$RUN_ERR" "is at schema version 3, this binary's is" "an older source refused"
assert_contains "$RUN_ERR" "run \`happyhorse serve --data $OLD\` once" "what to do about it"
sqlite3 "$OLD/happyhorse.db" 'PRAGMA user_version = 999'
assert_exit 1 "$HH_BIN" admin migrate --data "$OLD" --to "$TARGET" "${MIGRATE_FLAGS[@]}"
assert_contains "$RUN_ERR" "newer than this binary: upgrade happyhorse" "a newer source refused"

# ---- a node on the target serves the old account ----
DATA=$TARGET_DATA
target_env
start_server --workers 0
req GET "/api/v1/videos/$VID" "${AUTH[@]}"
assert_status 200 "$STATUS" "the old key reads the old video"
assert_json "$(cat "$BODY")" .status ready "still ready"
assert_json "$(cat "$BODY")" .favorite true "still starred"
curl -sf -o "$HH_TMP/after.mp4" "$(jq -r .videoUrl "$BODY")" || fail "the video's bytes at the target"
cmp -s "$HH_TMP/before.mp4" "$HH_TMP/after.mp4" || fail "the video's bytes differ after the move"
HH_ASSERTS=$((HH_ASSERTS + 1))
req GET /api/v1/webhooks "${AUTH[@]}"
assert_json "$(cat "$BODY")" .data[0].id "$HOOK" "the webhook moved"
req GET /api/dashboard/me "${SESSION[@]}"
assert_status 200 "$STATUS" "the dashboard session moved"
assert_json "$(cat "$BODY")" .user.credits "$(src_sql "SELECT credits FROM users WHERE id = '$A_ID'")" "the balance"
stop_server
