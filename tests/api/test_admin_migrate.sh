#!/usr/bin/env bash
# test_admin_migrate.sh - `happyhorse admin migrate` from a single node's
# data directory to another data directory (SQLite to SQLite, objects
# copied into the target's objects): the test of migrate_body.sh (killed
# half-way and resumed, verified, refusals, a serve on the target).
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
unset HH_TEST_STORE HAPPYHORSE_DATABASE_URL HAPPYHORSE_DATA
. "$HH_SRC/tests/api/server.sh"
. "$HH_SRC/tests/api/media_fixtures.sh"

TARGET=$HH_TMP/target
TARGET_DATA=$TARGET
MIGRATE_FLAGS=()
target_sql() { sqlite3 -cmd ".timeout 10000" "$TARGET/happyhorse.db" "$1"; }
target_env() { :; }
before_migrate() { :; }
after_copy() {
  # Objects are resumable too: one the target lost is copied again, the rest skipped.
  rm "$TARGET/objects/videos/outputs/$VID.mp4"
  assert_exit 0 migrate
  assert_json "$RUN_OUT" .objects.copied 1 "the lost object copied again"
  assert_json "$RUN_OUT" .objects.present 2 "the others skipped"
}

. "$HH_SRC/tests/api/migrate_body.sh"

# A store no serve ever opened gets its webhook seal key (from its secret.key) before it is
# copied, so nodes on the target, which have no secret.key, open its webhooks' keys.
assert_exit 0 "$HH_BIN" admin migrate --data "$OTHER" --to "$HH_TMP/target2"
assert_eq 1 "$(sqlite3 "$OTHER/happyhorse.db" 'SELECT count(*) FROM secrets')" "the key made at the source"
assert_eq "$(sqlite3 "$OTHER/happyhorse.db" 'SELECT hex(value) FROM secrets')" \
  "$(sqlite3 "$HH_TMP/target2/happyhorse.db" 'SELECT hex(value) FROM secrets')" "the key copied"

hh_done
