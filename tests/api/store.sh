# store.sh - the store an API test's server uses, and the test's own look
# into it. Sourced by server.sh. By default the store is SQLite under $DATA;
# with HH_TEST_STORE=pg (the `api/<name>_pg` runs of cmake/tests.cmake) it is
# a fresh database on the suite's PostgreSQL cluster (tests/pg/cluster.sh),
# named after the test, handed to every `serve`, `worker` and `admin` of the
# test through HAPPYHORSE_DATABASE_URL.
#
#   store_is_pg          true when the store is PostgreSQL
#   store_sql SQL        runs SQL (valid in both dialects) on the store; rows
#                        as text, columns joined by |
#   store_dump           the whole store as text (SQL dump)

# Sourced once per test (server.sh sources it too): a second time changes nothing.
[ -n "${_hh_store_sh:-}" ] && return 0
_hh_store_sh=1

store_is_pg() { [ "${HH_TEST_STORE:-}" = pg ]; }

if store_is_pg; then
  # shellcheck source=../pg/lib.sh
  . "$HH_SRC/tests/pg/lib.sh"
  HAPPYHORSE_DATABASE_URL=$(pg_test_db "hh_api_${HH_TEST_NAME}_$$") ||
    { echo "FAIL [$HH_TEST_NAME]: no PostgreSQL database for the test" >&2; exit 1; }
  export HAPPYHORSE_DATABASE_URL
  _store_drop() {
    psql -q -X "$(pg_url)" -c "DROP DATABASE IF EXISTS \"hh_api_${HH_TEST_NAME}_$$\" WITH (FORCE)" \
      >/dev/null 2>&1 || true
  }
  hh_on_exit _store_drop
fi

store_sql() {
  if store_is_pg; then
    psql -q -X -A -t -v ON_ERROR_STOP=1 "$HAPPYHORSE_DATABASE_URL" -c "$1"
  else
    sqlite3 -cmd ".timeout 10000" "${DATA:-$HH_TMP/data}/happyhorse.db" "$1"
  fi
}

store_dump() {
  if store_is_pg; then
    pg_dump --inserts "$HAPPYHORSE_DATABASE_URL"
  else
    sqlite3 -cmd ".timeout 10000" "${DATA:-$HH_TMP/data}/happyhorse.db" .dump
  fi
}
