#!/usr/bin/env bash
# test_http_limits.sh - the HTTP layer's limits on the real binary: JSON
# bodies on an authenticated route (POST /api/v1/uploads/presign) that are
# too big, malformed, with duplicate keys or too deep; a client trickling
# its headers a byte a second is cut off by the timeout; 1000 idle
# connections do not keep a new client from being served; SIGTERM with a
# request in flight lets it complete and exits 0.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
hh admin user create --email limits@example.com --plan max --credits 100 >/dev/null
KEY=$(hh admin key create --email limits@example.com)
start_server --workers 0 --timeout 2
PORT=${BASE##*:}

# presign_raw FILE: POSTs FILE's bytes as the presign body; sets STATUS, BODY.
presign_raw() {
  req POST /api/v1/uploads/presign -H "Authorization: Bearer $KEY" \
    -H "Content-Type: application/json" --data-binary "@$1"
}
expect_invalid() { # description
  assert_eq 400 "$STATUS" "$1: status"
  assert_eq invalid_input "$(error_code)" "$1: error code"
  assert_eq string "$(jq -r '.error.message | type' "$BODY")" "$1: message"
}

f=$HH_TMP/body.json
printf '{"kind":"image","contentType":"image/png","sizeBytes":1000}' >"$f"
presign_raw "$f"
assert_eq 200 "$STATUS" "a well-formed presign body is accepted"

# 64 KiB + 1: valid JSON padded with spaces, one byte over the cap
python3 - "$f" <<'PY'
import sys
body = b'{"kind":"image","contentType":"image/png","sizeBytes":1000}'
open(sys.argv[1], "wb").write(body + b" " * (65536 + 1 - len(body)))
PY
presign_raw "$f"
expect_invalid "body of 64 KiB + 1"
assert_contains "$(jq -r .error.message "$BODY")" "too large" "says why"
# exactly 64 KiB is fine
truncate -s 65536 "$f"
presign_raw "$f"
assert_eq 200 "$STATUS" "body of exactly 64 KiB"

printf '{"kind":"image",' >"$f"
presign_raw "$f"
expect_invalid "malformed JSON"
printf '{"kind":"image","contentType":"image/png","sizeBytes":1000,"sizeBytes":1}' >"$f"
presign_raw "$f"
expect_invalid "duplicate keys"
assert_contains "$(jq -r .error.message "$BODY")" "duplicate" "names the duplicate"
python3 -c 'import sys; sys.stdout.write("{\"kind\":\"image\",\"x\":" + "["*40 + "]"*40 + "}")' >"$f"
presign_raw "$f"
expect_invalid "JSON nested 41 deep"
printf '[1,2]' >"$f"
presign_raw "$f"
expect_invalid "top level not an object"

# A client trickling its headers a byte a second is never idle, yet the
# timeout (2 s) still cuts it off.
python3 - "$PORT" <<'PY' || fail "a client sending its headers a byte a second was not cut off"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 40
start = time.time()
try:
    for b in req:
        s.send(bytes([b]))
        time.sleep(1)
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                break
        except BlockingIOError:
            pass
        s.setblocking(True)
    else:
        sys.exit(1)
except (BrokenPipeError, ConnectionResetError):
    pass
took = time.time() - start
sys.exit(0 if 1.5 < took < 6 else 1)
PY
HH_ASSERTS=$((HH_ASSERTS + 1))

# 1000 idle connections (from ten addresses, under the limit per address) do not keep a new
# client from being served.
python3 - "$PORT" "$BASE" <<'PY' || fail "a new client was not served beside 1000 idle connections"
import socket, sys, time, urllib.request
port = int(sys.argv[1])
def idle_from(src):
    s = socket.socket(); s.settimeout(5); s.bind((src, 0)); s.connect(("127.0.0.1", port))
    return s
idle = [idle_from("127.0.0.%d" % (2 + i % 10)) for i in range(1000)]
start = time.time()
with urllib.request.urlopen(sys.argv[2] + "/healthz", timeout=5) as r:
    ok = r.status == 200
took = time.time() - start
for s in idle:
    s.close()
print(f"healthz beside 1000 idle connections: {took * 1000:.0f} ms", file=sys.stderr)
sys.exit(0 if ok and took < 2 else 1)
PY
HH_ASSERTS=$((HH_ASSERTS + 1))
req GET /healthz
assert_status 200 "$STATUS" "still serving after the idle crowd left"

# SIGTERM with a request in flight: the request completes, the server exits 0.
python3 - "$PORT" "$KEY" "$SERVER_PID" <<'PY' || fail "the request in flight at SIGTERM did not complete"
import os, signal, socket, sys, time
port, key, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
body = b'{"kind":"image","contentType":"image/png","sizeBytes":1000}'
head = (f"POST /api/v1/uploads/presign HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(head + body[:10])          # headers in, body half-sent: in flight
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
s.sendall(body[10:])
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
    if b"\r\n\r\n" in data and b'"uploadUrl"' in data:
        break
sys.exit(0 if data.startswith(b"HTTP/1.1 200") else 1)
PY
HH_ASSERTS=$((HH_ASSERTS + 1))
# the server was told to stop: it must exit 0 by itself
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=""
assert_eq 0 "$rc" "exit status after SIGTERM with a request in flight"
hh_done
