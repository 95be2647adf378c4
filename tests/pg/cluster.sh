#!/usr/bin/env bash
# tests/pg/cluster.sh - a throw-away PostgreSQL cluster for the tests: Debian's
# server binaries, a fresh data directory under the build tree, a free port on
# loopback, no fsync (a test never survives a power cut). Started once per
# suite by CTest's `pg` fixture (cmake/tests.cmake) and stopped at its end.
# HH_PG_DURABLE=1 keeps fsync, synchronous_commit and full_page_writes at
# PostgreSQL's defaults (on), for benchmarks that compare durable commits.
#
#   tests/pg/cluster.sh start   init (first time) and start; prints the URL
#   tests/pg/cluster.sh stop    stop and delete the cluster
#   tests/pg/cluster.sh restart stop (fast: sessions cut) and start on the same port
#   tests/pg/cluster.sh down|up the same in two steps, for tests of the time between
#   tests/pg/cluster.sh url     the URL of the running cluster
#
# State lives in $HH_PG_DIR (default $HH_BUILD/pg): data/, the log, and `url`,
# which tests read (tests/pg/lib.sh). Run as root, the server runs as the
# `postgres` user (initdb refuses root).
set -euo pipefail

dir=${HH_PG_DIR:-${HH_BUILD:?HH_BUILD or HH_PG_DIR must be set}/pg}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "cluster.sh: no PostgreSQL server (scripts/deps.sh all)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start() {
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  if [ ! -s "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir/data" -U hh --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  server start "$(free_port)"
  echo "postgres://hh@127.0.0.1:$port/postgres" >"$dir/url"
  cat "$dir/url"
}

# server start|restart PORT: pg_ctl on the cluster, sockets only on loopback
# TCP and in the cluster's own directory.
server() {
  port=$2
  local sync="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${HH_PG_DURABLE:-}" != 1 ] || sync=""
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -m fast \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $sync -c max_connections=400 -c shared_buffers=64MB" \
    "$1" >/dev/null || { tail -20 "$dir/server.log" >&2; exit 1; }
}

# The port of the running cluster, from its URL.
url_port() {
  local url
  url=$(cat "$dir/url")
  url=${url##*:}
  echo "${url%%/*}"
}

restart() { server restart "$(url_port)"; }
# The server goes away (its data stays) and comes back on the same port.
down() { as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null; }
up() { server start "$(url_port)"; }

stop() {
  if [ -s "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  down) down ;;
  up) up ;;
  url) cat "$dir/url" ;;
  *) echo "usage: tests/pg/cluster.sh start|stop|restart|down|up|url" >&2; exit 2 ;;
esac
