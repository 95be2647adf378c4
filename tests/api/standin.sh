# standin.sh - start and stop the provider stand-in (tests/standin/providers.py)
# for API tests of the upstream engines. Source after lib.sh.
#
#   start_standin [extra args...]  sets STANDIN (its base URL), STANDIN_PID, STANDIN_KEY
#   standin_log                    every request it saw, as a JSON array
#   standin_reset                  forgets the log and the tasks
#   standin_outage SECONDS STATUS  every provider call fails that way for a while

STANDIN_KEY=sk-standin-$RANDOM$RANDOM

start_standin() {
  local portfile=$HH_TMP/standin.port i
  rm -f "$portfile"
  python3 "$HH_SRC/tests/standin/providers.py" --port-file "$portfile" --key "$STANDIN_KEY" "$@" \
    >"$HH_TMP/standin.log" 2>&1 &
  STANDIN_PID=$!
  for i in $(seq 1 100); do
    [ -s "$portfile" ] && break
    kill -0 "$STANDIN_PID" 2>/dev/null || { cat "$HH_TMP/standin.log" >&2; fail "the stand-in died at start"; }
    sleep 0.05
  done
  [ -s "$portfile" ] || fail "the stand-in did not start"
  STANDIN="http://127.0.0.1:$(cat "$portfile")"
}

standin_log() { curl -sf "$STANDIN/_standin/log"; }
standin_reset() { curl -sf -X POST "$STANDIN/_standin/reset" >/dev/null; }
standin_release() { curl -sf -X POST "$STANDIN/_standin/release" >/dev/null; }
standin_outage() { curl -sf -X POST "$STANDIN/_standin/outage" -d "{\"seconds\":$1,\"status\":$2}" >/dev/null; }

_standin_cleanup() { [ -n "${STANDIN_PID:-}" ] && kill "$STANDIN_PID" 2>/dev/null; true; }
hh_on_exit _standin_cleanup
