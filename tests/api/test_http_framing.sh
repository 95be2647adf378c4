#!/usr/bin/env bash
# test_http_framing.sh - what the HTTP layer refuses before any handler
# runs, with raw bytes over a real socket (curl would not send these):
# ambiguous framing, oversized bodies, slow and idle clients; and that the
# server keeps serving afterwards.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
hh admin user create --email f@example.com --plan max --credits 100 >/dev/null
KEY=$(hh admin key create --email f@example.com)
start_server --workers 0 --timeout 2
PORT=${BASE##*:}

# raw REQUEST-BYTES: sends them, prints the status line's code ("" if the server hung up).
raw() {
  python3 - "$PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
line = data.split(b"\r\n", 1)[0].decode("latin-1")
print(line.split(" ")[1] if line.startswith("HTTP/") else "")
PY
}

H="Host: x\\r\\nAuthorization: Bearer $KEY\\r\\nContent-Type: application/json\\r\\n"
BODY='{"prompt":"abc","durationSec":3}'
LEN=${#BODY}
assert_eq 202 "$(raw "POST /api/v1/videos HTTP/1.1\\r\\n${H}Content-Length: $LEN\\r\\n\\r\\n$BODY")" "the same request, framed once, is accepted"
assert_eq 400 "$(raw "POST /api/v1/videos HTTP/1.1\\r\\n${H}Content-Length: $LEN\\r\\nContent-Length: $LEN\\r\\n\\r\\n$BODY")" "two Content-Length headers"
assert_eq 400 "$(raw "POST /api/v1/videos HTTP/1.1\\r\\n${H}Content-Length: $LEN\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n")" "Transfer-Encoding with Content-Length"
assert_eq 400 "$(raw "POST /api/v1/videos HTTP/1.1\\r\\n${H}Transfer-Encoding: gzip\\r\\n\\r\\n")" "Transfer-Encoding other than chunked"
assert_eq 400 "$(raw "POST /api/v1/videos HTTP/1.1\\r\\n${H}Content-Length: 70000\\r\\n\\r\\n")" "declared body over 64 KiB refused before it is sent"
# A chunked body over the limit is cut off at the limit.
big=$(python3 -c 'print("a"*70000)')
assert_eq 400 "$(raw "POST /api/v1/videos HTTP/1.1\\r\\n${H}Transfer-Encoding: chunked\\r\\n\\r\\n11170\\r\\n${big}\\r\\n0\\r\\n\\r\\n")" "chunked body over 64 KiB"
# Auth is checked on the headers: an anonymous client cannot make us read its body.
assert_eq 401 "$(raw "POST /api/v1/videos HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 50000000\\r\\n\\r\\n")" "no key, big body: refused on the headers"
# A header block over the per-connection memory is refused, not buffered.
huge=$(python3 -c 'print("x"*70000)')
code=$(raw "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nX-Big: $huge\\r\\n\\r\\n")
[ "$code" = 431 ] || [ "$code" = 413 ] || [ "$code" = 400 ] || [ -z "$code" ] || fail "huge header answered $code"
HH_ASSERTS=$((HH_ASSERTS + 1))

# An idle connection and a slow client are closed by the timeout (2 s here).
python3 - "$PORT" <<'PY' || fail "slow client was not closed by the timeout"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")   # headers never finished
start = time.time()
try:
    closed = s.recv(100) == b""
except ConnectionResetError:
    closed = True
sys.exit(0 if closed and time.time() - start < 8 else 1)
PY
HH_ASSERTS=$((HH_ASSERTS + 1))

# After all that, the server still answers.
req GET /healthz
assert_status 200 "$STATUS" "still serving"
stop_server
hh_done
