#!/usr/bin/env bash
# test_admin_migrate_pg.sh - `happyhorse admin migrate --to postgres://...
# --s3`: a single node's SQLite store to a fresh database on the suite's
# PostgreSQL cluster and its objects to the tests' S3 server, through
# migrate_body.sh (killed half-way and resumed, verified, refusals, a serve
# on the database and the bucket answering the old key with the old video's
# bytes). Then what only PostgreSQL has: the generated ids' sequences moved
# past the copied ids, so the target appends new ledger rows after them.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
unset HH_TEST_STORE HAPPYHORSE_DATABASE_URL HAPPYHORSE_DATA
. "$HH_SRC/tests/api/server.sh"
. "$HH_SRC/tests/api/media_fixtures.sh"
. "$HH_SRC/tests/s3/server.sh"
. "$HH_SRC/tests/pg/lib.sh"

command -v node >/dev/null || fail "node is required (scripts/deps.sh installs nodejs)"
"$HH_SRC/tests/s3/setup.sh" || fail "npm ci of tests/s3 failed"
DB=hh_migrate_$$
TARGET=$(pg_test_db "$DB") || fail "no PostgreSQL database for the test"
_drop_db() { psql -q -X "$(pg_url)" -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"; }
hh_on_exit _drop_db
TARGET_DATA=$HH_TMP/node
MIGRATE_FLAGS=(--s3)
target_sql() { psql -q -X -A -t -v ON_ERROR_STOP=1 "$TARGET" -c "$1"; }
target_env() { export HAPPYHORSE_DATABASE_URL=$TARGET; }
before_migrate() { s3_start; }
after_copy() {
  # The objects are in the bucket, not in a directory of the node.
  [ ! -e "$TARGET_DATA/objects" ] || fail "objects went to the node's directory"
  HH_ASSERTS=$((HH_ASSERTS + 1))
}

. "$HH_SRC/tests/api/migrate_body.sh"

# Generated ids: each sequence stands at the largest copied id, so new rows follow.
for t in ledger audit_log webhook_deliveries webhook_attempts; do
  assert_eq "$(target_sql "SELECT coalesce(max(id), 0) FROM $t")" \
    "$(target_sql "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM ${t}_id_seq")" \
    "the sequence of $t"
done
MAX=$(target_sql 'SELECT max(id) FROM ledger')
assert_exit 0 hh admin credits grant --email a@example.com --amount 7
assert_eq "$((MAX + 1))" "$(target_sql 'SELECT max(id) FROM ledger')" "a new ledger row after the copied ones"
hh_done
