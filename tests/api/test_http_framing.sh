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

# exchange MODE REQUEST-BYTES: sends them; MODE first prints the status code of the first
# response ("" if the server hung up), MODE all the codes of every response until the server
# closes the connection.
exchange() {
  python3 - "$PORT" "$1" "$2" <<'PY'
import re, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[3].encode().decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while sys.argv[2] == "all" or b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except (socket.timeout, ConnectionResetError):
    pass
codes = re.findall(rb"HTTP/1\.[01] ([0-9]{3})", data)
print(" ".join(c.decode() for c in (codes if sys.argv[2] == "all" else codes[:1])))
PY
}
raw() { exchange first "$1"; }
responses() { exchange all "$1"; }

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
# A field name with whitespace before the colon, or another malformed name, is a 400 and the
# connection closes: the body of "Content-Length : N" must never be read as a second request
# (RFC 9112 5.1).
SMUGGLED="GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
SLEN=$(printf "$SMUGGLED" | wc -c)
PRESIGN='{"kind":"image","contentType":"image/png","sizeBytes":1000}'
for name in "Content-Length :" "Content-Length\\t:"; do
  assert_eq 400 "$(responses "POST /api/v1/uploads/presign HTTP/1.1\\r\\n${H}${name} $SLEN\\r\\n\\r\\n$SMUGGLED")" \
    "'$name': one response, a 400; the body is not read as a second request"
done
# Other malformed names, on a request that is otherwise fine (200 without them).
for name in "X Pad:" "X(Pad):" "X@Pad:" "X/Pad:"; do
  assert_eq 400 "$(responses "POST /api/v1/uploads/presign HTTP/1.1\\r\\n${H}${name} 1\\r\\nContent-Length: ${#PRESIGN}\\r\\n\\r\\n$PRESIGN")" \
    "field name '$name'"
done
assert_eq 200 "$(responses "POST /api/v1/uploads/presign HTTP/1.1\\r\\n${H}X-Pad_1.~: 1\\r\\nContent-Length: ${#PRESIGN}\\r\\nConnection: close\\r\\n\\r\\n$PRESIGN")" \
  "a name of token characters is fine"

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
