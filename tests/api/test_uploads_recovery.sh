#!/usr/bin/env bash
# test_uploads_recovery.sh - what uploads leave behind, and crashes:
#  - a pending upload is forgotten once its URL has expired and no body can
#    still be on its way (the grace, then its size at the minimum rate),
#    with the temporary file a crashed body left (row and .part both go);
#    one whose body is streaming past its URL's expiry still completes;
#  - at start, temporary files a crash left anywhere in storage are swept;
#  - a crash between linking the object and marking the upload complete
#    no longer leaves the upload stuck: the next PUT finishes the commit
#    (409 already complete), and a create may use the key; an object of the
#    wrong size is removed, so the upload can be sent again.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"
command -v sqlite3 >/dev/null || fail "the sqlite3 CLI is required"

DATA=$HH_TMP/data
hh admin user create --email rec@example.com --plan pro --credits 1000 >/dev/null
KEY=$(hh admin key create --email rec@example.com)
AUTH=(-H "Authorization: Bearer $KEY" -H "Content-Type: application/json")
DB=$DATA/happyhorse.db

# A real 1x1 PNG.
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82' >"$HH_TMP/one.png"
SIZE=$(stat -c %s "$HH_TMP/one.png")

presign() { # sets UP_URL, UP_KEY
  req POST /api/v1/uploads/presign "${AUTH[@]}" \
    -d "{\"kind\":\"image\",\"contentType\":\"image/png\",\"sizeBytes\":$SIZE}"
  assert_eq 200 "$STATUS" "presign"
  UP_URL=$(jq -r .uploadUrl "$BODY")
  UP_KEY=$(jq -r .key "$BODY")
}
rows() { sqlite3 "$DB" "SELECT count(*) FROM uploads WHERE key = '$1'"; }
state() { sqlite3 "$DB" "SELECT state FROM uploads WHERE key = '$1'"; }

# --- expired pending uploads are forgotten, with their leftovers ---
start_server --workers 0 --upload-url-ttl 5 --timeout 2 --upload-min-rate 100
presign
stale_key=$UP_KEY
mkdir -p "$(dirname "$DATA/objects/$stale_key")"
echo "half a body" >"$DATA/objects/$stale_key.part-AbC123" # what a crashed body leaves
LIVE_SIZE=100000
req POST /api/v1/uploads/presign "${AUTH[@]}" \
  -d "{\"kind\":\"image\",\"contentType\":\"image/png\",\"sizeBytes\":$LIVE_SIZE}"
live_url=$(jq -r .uploadUrl "$BODY") live_key=$(jq -r .key "$BODY")
# This one's body starts now and streams past its URL's expiry.
PORT=${BASE##*:}
python3 - "$PORT" "$live_url" "$HH_TMP/one.png" "$DB" "$live_key" "$LIVE_SIZE" <<'PY' >"$HH_TMP/live.out" &
import socket, sqlite3, sys, time
port, url, png, db, key = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read(), sys.argv[4], sys.argv[5]
body = png + b"\0" * (int(sys.argv[6]) - len(png))   # a PNG's magic, then padding
path = url.split(str(port), 1)[1]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.sendall((f"PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
           f"Content-Length: {len(body)}\r\n\r\n").encode())
# Until the janitor has forgotten the other (stale) upload, the body keeps streaming, at about
# 2000 bytes a second: above the minimum rate, and far from done when its URL expires.
sent = 0
for _ in range(300):
    n = sqlite3.connect(db).execute("SELECT count(*) FROM uploads WHERE key != ?", (key,)).fetchone()[0]
    if n == 0:
        break
    s.sendall(body[sent:sent + 200])
    sent += 200
    time.sleep(0.1)
s.sendall(body[sent:])
print(s.recv(4096).split(b"\r\n", 1)[0].decode())
PY
LIVE_PID=$!
for _ in $(seq 1 300); do
  [ "$(rows "$stale_key")" = 0 ] && break
  sleep 0.1
done
assert_eq 0 "$(rows "$stale_key")" "the expired upload's row is forgotten"
[ -e "$DATA/objects/$stale_key.part-AbC123" ] && fail "the expired upload's leftover is still there"
HH_ASSERTS=$((HH_ASSERTS + 1))
wait "$LIVE_PID"
assert_contains "$(cat "$HH_TMP/live.out")" "200" "the body streaming past its URL's expiry completes"
assert_eq complete "$(state "$live_key")" "and its upload is complete"
grep -q '"msg":"janitor: expired uploads forgotten"' "$SERVER_LOG" || fail "the janitor does not log"
HH_ASSERTS=$((HH_ASSERTS + 1))
stop_server

# --- at start, leftovers of a crash are swept ---
mkdir -p "$DATA/objects/videos/inputs/x"
echo old >"$DATA/objects/videos/inputs/x/a.png.part-Zz9Zz9"
echo old >"$DATA/objects/videos/inputs/x/b.mp4.tmp-Yy8Yy8"
echo keep >"$DATA/objects/videos/inputs/x/c.png"
touch -d '10 minutes ago' "$DATA/objects/videos/inputs/x/"*
start_server --workers 0
[ -e "$DATA/objects/videos/inputs/x/a.png.part-Zz9Zz9" ] && fail "an old .part survived the start"
[ -e "$DATA/objects/videos/inputs/x/b.mp4.tmp-Yy8Yy8" ] && fail "an old .tmp survived the start"
[ -e "$DATA/objects/videos/inputs/x/c.png" ] || fail "the sweep removed an object"
HH_ASSERTS=$((HH_ASSERTS + 3))

# --- a crash between the link and the completion ---
presign
cp "$HH_TMP/one.png" "$DATA/objects/$UP_KEY" # linked, never marked complete
assert_eq pending "$(state "$UP_KEY")" "the stuck upload is pending"
req PUT "${UP_URL#"$BASE"}" -H "Content-Type: image/png" --data-binary "@$HH_TMP/one.png"
assert_eq 409 "$STATUS" "a PUT of the stuck upload"
assert_contains "$(jq -r .error.message "$BODY")" "already complete" "it says so"
assert_eq complete "$(state "$UP_KEY")" "the PUT finished the commit"
req POST /api/v1/videos "${AUTH[@]}" -d "{\"prompt\":\"a horse\",\"durationSec\":3,\"sourceImageKey\":\"$UP_KEY\"}"
assert_eq 202 "$STATUS" "a create with the recovered upload"
# The same crash, met first by a create.
presign
cp "$HH_TMP/one.png" "$DATA/objects/$UP_KEY"
req POST /api/v1/videos "${AUTH[@]}" -d "{\"prompt\":\"a horse\",\"durationSec\":3,\"sourceImageKey\":\"$UP_KEY\"}"
assert_eq 202 "$STATUS" "a create meeting the stuck upload first"
# An object of the wrong size is not the upload: removed, and the upload can be sent again.
presign
head -c 10 "$HH_TMP/one.png" >"$DATA/objects/$UP_KEY"
req PUT "${UP_URL#"$BASE"}" -H "Content-Type: image/png" --data-binary "@$HH_TMP/one.png"
assert_eq 200 "$STATUS" "a PUT after an object of the wrong size"
cmp -s "$HH_TMP/one.png" "$DATA/objects/$UP_KEY" || fail "the object is not the upload's body"
HH_ASSERTS=$((HH_ASSERTS + 1))
stop_server
hh_done
