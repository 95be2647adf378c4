# server.sh - start and stop the tests' S3 server (server.mjs). Source after
# tests/api/lib.sh; needs node and the packages of setup.sh.
#
#   s3_start   sets S3_PORT, S3_ENDPOINT (path style), S3_BUCKET, S3_PID, S3_DIR,
#              S3_LOG (the server's log of requests);
#              exports the HAPPYHORSE_S3_* a node needs to use it
#   s3_stop    SIGTERM, waits

S3_BUCKET=hh-test

s3_start() {
  S3_DIR=$HH_TMP/s3
  mkdir -p "$S3_DIR/data"
  S3_LOG=$S3_DIR/log
  node "$HH_SRC/tests/s3/server.mjs" "$S3_DIR/data" "$S3_BUCKET" "$S3_DIR/port" >"$S3_LOG" 2>&1 &
  S3_PID=$!
  local i
  S3_PORT=""
  for i in $(seq 1 1200); do
    S3_PORT=$(jq -r .port "$S3_DIR/port" 2>/dev/null || true)
    [ -n "$S3_PORT" ] && break
    kill -0 "$S3_PID" 2>/dev/null || { cat "$S3_LOG" >&2; fail "the S3 server died at start"; }
    sleep 0.05
  done
  [ -n "$S3_PORT" ] || fail "the S3 server did not start: $(tail -5 "$S3_LOG")"
  S3_ENDPOINT=http://127.0.0.1:$S3_PORT
  export HAPPYHORSE_S3_ENDPOINT=$S3_ENDPOINT HAPPYHORSE_S3_BUCKET=$S3_BUCKET
  export HAPPYHORSE_S3_REGION=us-east-1 HAPPYHORSE_S3_FORCE_PATH_STYLE=1
  export HAPPYHORSE_S3_ACCESS_KEY_ID=S3RVER HAPPYHORSE_S3_SECRET_ACCESS_KEY=S3RVER
  hh_on_exit s3_stop
}

s3_stop() {
  [ -n "${S3_PID:-}" ] || return 0
  kill -TERM "$S3_PID" 2>/dev/null || true
  wait "$S3_PID" 2>/dev/null || true
  S3_PID=""
}
