# tests/pg/lib.sh - sourced by tests that use the suite's PostgreSQL cluster
# (tests/pg/cluster.sh, started by CTest's `pg` fixture).
#
#   pg_url              the cluster's URL (its `postgres` database)
#   pg_test_db NAME     a fresh, empty database NAME (dropped first if there);
#                       prints its URL

pg_url() {
  cat "${HH_PG_DIR:-$HH_BUILD/pg}/url"
}

pg_test_db() {
  local name=$1 base
  base=$(pg_url)
  psql -q -X -v ON_ERROR_STOP=1 "$base" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" \
    -c "CREATE DATABASE \"$name\"" >/dev/null
  echo "${base%/*}/$name"
}
