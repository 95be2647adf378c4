#!/usr/bin/env bash
# test_uploads.sh - contract section 2 (and the serving half of 5) over real
# HTTP against the built binary: presign for every row of the upload table
# at limit-1/limit/limit+1 and every rejection; a real file of every type
# PUT and served back byte for byte; every refusal of the signed PUT leaving
# no object and no temporary file; a client that hangs up mid-upload; an
# expired URL; a 50 MiB video streamed while the server's memory stays flat;
# the customer documentation's own curl example, as written; ranges, HEAD,
# ETag/304, caching and CORS on the served assets.
# Fixtures are made here with ffmpeg and tests/api/pad_media.py (exact sizes,
# still valid media); nothing binary is committed.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
FX=$HH_TMP/fixtures
mkdir -p "$FX"
MIB=1048576
hh admin user create --email up@example.com --plan max --credits 1000 >/dev/null
KEY=$(hh admin key create --email up@example.com --name uploads)
USER_ID=$(hh admin user show --email up@example.com | jq -r .id)
start_server --workers 0
UUID='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

# ---------------------------------------------------------------- helpers

# presign JSON : POST the presign body; sets STATUS, BODY.
presign() {
  req POST /api/v1/uploads/presign -H "Authorization: Bearer $KEY" \
    -H "Content-Type: application/json" -d "$1"
}

# put URL TYPE FILE [curl args] : sets PUT_STATUS and PUT_BODY (a file).
put() {
  local url=$1 type=$2 file=$3
  shift 3
  PUT_BODY=$(mktemp -p "$HH_TMP")
  PUT_STATUS=$(curl -sS -o "$PUT_BODY" -w '%{http_code}' -X PUT "$url" -H "Content-Type: $type" \
    --data-binary "@$file" "$@" || true)
}

# expect_put_refused STATUS CODE WHAT KEY : the last PUT was refused as said, nothing left behind.
expect_put_refused() {
  assert_status "$1" "$PUT_STATUS" "$3: status"
  assert_eq "$2" "$(jq -r .error.code "$PUT_BODY")" "$3: error code"
  no_leftovers "$4" "$3"
}

# no_leftovers KEY WHAT : no object under KEY, no temporary file anywhere, GET says 404.
no_leftovers() {
  [ ! -e "$DATA/objects/$1" ] || fail "$2: object $1 left behind"
  local tmp
  tmp=$(find "$DATA/objects" -name '*.part-*' | head -1)
  [ -z "$tmp" ] || fail "$2: temporary file left behind: $tmp"
  local st
  st=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/files/$1")
  assert_status 404 "$st" "$2: GET of the refused key"
}

# fixture NAME : path of a small real file of that kind, made once.
fixture() {
  local f=$FX/$1
  [ -s "$f" ] && { echo "$f"; return; }
  local lavfi_v=(-f lavfi -i "testsrc2=s=320x180:r=24") lavfi_a=(-f lavfi -i "sine=frequency=440:duration=1")
  case $1 in
    a.png) ffmpeg -nostdin -v error -y "${lavfi_v[@]}" -frames:v 1 "$f" ;;
    a.jpg) ffmpeg -nostdin -v error -y "${lavfi_v[@]}" -frames:v 1 "$f" ;;
    a.webp) ffmpeg -nostdin -v error -y "${lavfi_v[@]}" -frames:v 1 -c:v libwebp "$f" ;;
    a.mp4 | a.mov) ffmpeg -nostdin -v error -y "${lavfi_v[@]}" -t 1 -c:v libx264 -pix_fmt yuv420p "$f" ;;
    a.webm) ffmpeg -nostdin -v error -y "${lavfi_v[@]}" -t 1 -c:v libvpx -b:v 200k "$f" ;;
    a.mp3) ffmpeg -nostdin -v error -y "${lavfi_a[@]}" -c:a libmp3lame "$f" ;;            # opens with ID3
    b.mp3) ffmpeg -nostdin -v error -y "${lavfi_a[@]}" -c:a libmp3lame -id3v2_version 0 "$f" ;; # frame sync
    a.wav) ffmpeg -nostdin -v error -y "${lavfi_a[@]}" "$f" ;;
    a.weba) ffmpeg -nostdin -v error -y "${lavfi_a[@]}" -c:a libopus -f webm "$f" ;;
    *) fail "no fixture $1" ;;
  esac
  echo "$f"
}

# padded NAME SIZE : the fixture grown to exactly SIZE bytes, still valid media.
padded() {
  local out=$FX/$2-$1
  [ -s "$out" ] || python3 "$HH_SRC/tests/api/pad_media.py" "$(fixture "$1")" "$out" "$2"
  echo "$out"
}

# upload_ok KIND TYPE FILE : presign + PUT succeed; sets UP_KEY, UP_PUBLIC.
upload_ok() {
  local size
  size=$(stat -c %s "$3")
  presign "{\"kind\":\"$1\",\"contentType\":\"$2\",\"sizeBytes\":$size}"
  assert_status 200 "$STATUS" "presign $2 $size: $(cat "$BODY")"
  UP_KEY=$(jq -r .key "$BODY")
  UP_PUBLIC=$(jq -r .publicUrl "$BODY")
  put "$(jq -r .uploadUrl "$BODY")" "$2" "$3"
  assert_status 200 "$PUT_STATUS" "PUT $2 $size: $(cat "$PUT_BODY")"
}

server_status() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER_PID/status"; }

# ------------------------------------------ presign: the table, row by row

while read -r kind type ext folder mib; do
  limit=$((mib * MIB))
  for size in $((limit - 1)) $limit $((limit + 1)); do
    presign "{\"kind\":\"$kind\",\"contentType\":\"$type\",\"sizeBytes\":$size}"
    if [ "$size" -le "$limit" ]; then
      assert_status 200 "$STATUS" "presign $type at $size"
      assert_eq '["key","kind","publicUrl","uploadUrl"]' "$(jq -c 'keys' "$BODY")" "response fields"
      k=$(jq -r .key "$BODY")
      assert_match "^$folder/$USER_ID/$UUID\\.$ext\$" "$k" "key layout of $type"
      assert_eq "$kind" "$(jq -r .kind "$BODY")" "kind echoed"
      assert_eq "$BASE/files/$k" "$(jq -r .publicUrl "$BODY")" "publicUrl"
      assert_match "^$BASE/uploads/$k\\?expires=[0-9]{10}&sig=[0-9a-f]{64}\$" \
        "$(jq -r .uploadUrl "$BODY")" "uploadUrl"
    else
      assert_status 413 "$STATUS" "presign $type at limit+1"
      assert_eq upload_file_too_large "$(error_code)" "code at limit+1"
      assert_eq sizeBytes "$(jq -r .error.field "$BODY")" "field at limit+1"
    fi
  done
done <<'EOF'
image image/png png videos/inputs 10
image image/jpeg jpg videos/inputs 10
image image/webp webp videos/inputs 10
video video/mp4 mp4 videos/reference-video 50
video video/quicktime mov videos/reference-video 50
video video/webm webm videos/reference-video 50
audio audio/mpeg mp3 videos/reference-audio 15
audio audio/mp3 mp3 videos/reference-audio 15
audio audio/wav wav videos/reference-audio 15
audio audio/webm weba videos/reference-audio 15
EOF

# kind defaults to image; an image of 10 MiB + 1 is refused at presign.
presign '{"contentType":"image/webp","sizeBytes":5}'
assert_status 200 "$STATUS" "kind omitted"
assert_eq image "$(jq -r .kind "$BODY")" "default kind"
presign "{\"contentType\":\"image/png\",\"sizeBytes\":$((10 * MIB + 1))}"
assert_status 413 "$STATUS" "10 MiB + 1 image"

while IFS='|' read -r body status code field why; do
  [ -z "$body" ] && continue
  presign "$body"
  assert_status "$status" "$STATUS" "$why: status"
  assert_eq "$code" "$(error_code)" "$why: code"
  assert_eq "$field" "$(jq -r '.error.field // ""' "$BODY")" "$why: field"
  assert_eq application/json "$(header Content-Type)" "$why: content type"
done <<'EOF'
{"kind":"audio","contentType":"audio/mp4","sizeBytes":1000}|400|upload_type_not_supported|contentType|audio/mp4
{"kind":"video","contentType":"image/png","sizeBytes":1000}|400|upload_type_not_supported|contentType|image type as video
{"contentType":"video/mp4","sizeBytes":1000}|400|upload_type_not_supported|contentType|video type with the default kind
{"contentType":"image/PNG","sizeBytes":1000}|400|upload_type_not_supported|contentType|type in other case
{"kind":"document","contentType":"image/png","sizeBytes":1000}|400|invalid_input|kind|unknown kind
{"kind":7,"contentType":"image/png","sizeBytes":1000}|400|invalid_input|kind|kind not a string
{"contentType":"image/png","sizeBytes":0}|400|invalid_input|sizeBytes|sizeBytes 0
{"contentType":"image/png","sizeBytes":-1}|400|invalid_input|sizeBytes|sizeBytes -1
{"contentType":"image/png","sizeBytes":1.5}|400|invalid_input|sizeBytes|sizeBytes 1.5
{"contentType":"image/png","sizeBytes":"5"}|400|invalid_input|sizeBytes|sizeBytes "5"
{"contentType":"image/png"}|400|invalid_input|sizeBytes|sizeBytes missing
{"sizeBytes":5}|400|invalid_input|contentType|contentType missing
{"contentType":"image/png","sizeBytes":5,"fileName":"x.png"}|400|invalid_input|fileName|unknown field
{"contentType":"image/png","sizeBytes":5,"key":"videos/inputs/x/y.png"}|400|invalid_input|key|client-chosen key
{"contentType":"image/png",|400|invalid_input||bad JSON
["image/png"]|400|invalid_input||not an object
EOF

req POST /api/v1/uploads/presign -H "Content-Type: application/json" -d '{"contentType":"image/png","sizeBytes":5}'
assert_status 401 "$STATUS" "presign without a key"
assert_eq missing_api_key "$(error_code)" "presign without a key"

# ---------------------------- a real file of every type, PUT and served back

while read -r kind type file; do
  f=$(fixture "$file")
  upload_ok "$kind" "$type" "$f"
  assert_eq "$UP_KEY" "$(jq -r .key "$PUT_BODY")" "PUT answer names the key"
  got=$HH_TMP/got
  st=$(curl -sS -o "$got" -D "$HH_TMP/got.h" -w '%{http_code}' "$UP_PUBLIC")
  assert_status 200 "$st" "GET $type"
  cmp -s "$f" "$got" || fail "$type served back differs from what was uploaded"
  served=$(grep -i '^content-type:' "$HH_TMP/got.h" | cut -d' ' -f2 | tr -d '\r')
  want=$type
  [ "$type" = audio/mp3 ] && want=audio/mpeg # served with the registered type
  assert_eq "$want" "$served" "served Content-Type of $type"
  [ "$(stat -c %a "$DATA/objects/$UP_KEY")" = 600 ] || fail "object mode of $type"
done <<'EOF'
image image/png a.png
image image/jpeg a.jpg
image image/webp a.webp
video video/mp4 a.mp4
video video/quicktime a.mov
video video/webm a.webm
audio audio/mpeg a.mp3
audio audio/mp3 b.mp3
audio audio/wav a.wav
audio audio/webm a.weba
EOF
no_leftovers "videos/inputs/$USER_ID/00000000-0000-7000-8000-000000000000.png" "after the table"

# -------------------------- 50 MiB video at the limit: the server's memory stays flat

big=$(padded a.mp4 $((50 * MIB)))
upload_ok image image/png "$(fixture a.png)" # warm-up: first-use allocations are not the body's
rss0=$(server_status VmRSS)
hwm0=$(server_status VmHWM)
upload_ok video video/mp4 "$big"
rss1=$(server_status VmRSS)
hwm1=$(server_status VmHWM)
BIG_KEY=$UP_KEY
cmp -s "$big" "$DATA/objects/$BIG_KEY" || fail "the 50 MiB object differs from the upload"
ffprobe -v error -show_entries format=duration -of csv=p=0 "$DATA/objects/$BIG_KEY" >/dev/null ||
  fail "the stored 50 MiB video is not a readable MP4"
echo "RSS during a 50 MiB PUT: VmRSS ${rss0} -> ${rss1} kB, peak VmHWM ${hwm0} -> ${hwm1} kB" >&2
[ $((rss1 - rss0)) -lt 16384 ] || fail "RSS grew by $((rss1 - rss0)) kB during a 50 MiB upload"
[ $((hwm1 - hwm0)) -lt 16384 ] || fail "peak RSS grew by $((hwm1 - hwm0)) kB during a 50 MiB upload"
# Serving it back is zero-copy: memory stays flat too.
st=$(curl -sS -o "$HH_TMP/big.back" -w '%{http_code}' "$BASE/files/$BIG_KEY")
assert_status 200 "$st" "GET the 50 MiB video"
cmp -s "$big" "$HH_TMP/big.back" || fail "the 50 MiB video served back differs"
rm -f "$HH_TMP/big.back"
hwm2=$(server_status VmHWM)
echo "RSS serving it back: peak VmHWM ${hwm1} -> ${hwm2} kB" >&2
[ $((hwm2 - hwm1)) -lt 16384 ] || fail "peak RSS grew by $((hwm2 - hwm1)) kB serving 50 MiB"

# The other kinds at exactly their limits (the audio one streamed by curl -T, with 100-continue).
fresh_for_t=$(padded a.wav $((15 * MIB)))
presign "{\"kind\":\"audio\",\"contentType\":\"audio/wav\",\"sizeBytes\":$((15 * MIB))}"
sent=$(curl -s -o /dev/null -w '%{http_code} %{size_upload}' -X PUT -T "$fresh_for_t" \
  -H "Content-Type: audio/wav" -H "Expect: 100-continue" "$(jq -r .uploadUrl "$BODY")")
assert_eq "200 $((15 * MIB))" "$sent" "15 MiB WAV streamed with Expect: 100-continue"
cmp -s "$fresh_for_t" "$DATA/objects/$(jq -r .key "$BODY")" || fail "streamed WAV differs"
upload_ok image image/jpeg "$(padded a.jpg $((10 * MIB)))"

# ---------------------------------------------------- refusals of the PUT

png=$(fixture a.png)
png_size=$(stat -c %s "$png")
fresh() { # TYPE SIZE [KIND]: presign; sets URL, UKEY
  presign "{\"kind\":\"${3:-image}\",\"contentType\":\"$1\",\"sizeBytes\":$2}"
  assert_status 200 "$STATUS" "presign for a refusal test"
  URL=$(jq -r .uploadUrl "$BODY")
  UKEY=$(jq -r .key "$BODY")
}

fresh image/png "$png_size"
sig=${URL##*sig=}
flipped=$(printf '%s' "${sig:0:1}" | tr '0-9a-f' '1-9a-f0')${sig:1}
put "${URL%sig=*}sig=$flipped" image/png "$png"
expect_put_refused 403 invalid_input "tampered signature" "$UKEY"
put "${URL%&sig=*}" image/png "$png"
expect_put_refused 403 invalid_input "no signature" "$UKEY"
exp=${URL#*expires=}
exp=${exp%%&*}
put "${URL/expires=$exp/expires=$((exp + 3600))}" image/png "$png"
expect_put_refused 403 invalid_input "expiry moved later" "$UKEY"
other_key="videos/inputs/$USER_ID/0190f3a2-7b1c-7d2e-8f3a-4b5c6d7e8f91.png"
put "${URL/$UKEY/$other_key}" image/png "$png"
expect_put_refused 403 invalid_input "signature of another key" "$other_key"
put "$URL" image/jpeg "$png"
expect_put_refused 400 invalid_input "Content-Type other than presigned" "$UKEY"
put "$URL" "image/png; charset=binary" "$png"
expect_put_refused 400 invalid_input "Content-Type with parameters" "$UKEY"
head -c $((png_size - 1)) "$png" >"$HH_TMP/short.png"
put "$URL" image/png "$HH_TMP/short.png"
expect_put_refused 400 invalid_input "short body" "$UKEY"
{ cat "$png"; printf 'x'; } >"$HH_TMP/long.png"
put "$URL" image/png "$HH_TMP/long.png"
expect_put_refused 400 invalid_input "long body" "$UKEY"
put "$URL" image/png "$png" -H "Transfer-Encoding: chunked"
expect_put_refused 400 invalid_input "chunked body without a length" "$UKEY"
# With Expect: 100-continue (curl -T, browsers' large bodies) a refusal comes before any body is sent.
sent=$(curl -s -o "$PUT_BODY" -w '%{http_code} %{size_upload}' -X PUT -T "$png" -H "Content-Type: image/webp" \
  -H "Expect: 100-continue" "$URL")
assert_eq "400 0" "$sent" "refused on the headers, body never sent"
no_leftovers "$UKEY" "refused before 100 Continue"
# After all that the URL still works: refusals do not use it up.
put "$URL" image/png "$png"
assert_status 200 "$PUT_STATUS" "the same URL after refusals"
put "$URL" image/png "$png"
assert_status 409 "$PUT_STATUS" "second PUT to a completed key"
assert_eq invalid_input "$(jq -r .error.code "$PUT_BODY")" "second PUT code"
cmp -s "$png" "$DATA/objects/$UKEY" || fail "the first object changed after a second PUT"

# A PNG declared as JPEG (same size) is refused on its bytes.
same=$(($(stat -c %s "$(fixture a.jpg)") + 100))
fresh image/jpeg "$same"
put "$URL" image/jpeg "$(padded a.png "$same")"
expect_put_refused 400 upload_type_not_supported "PNG declared as JPEG" "$UKEY"
# ...and a real JPEG of that size then goes through the same URL.
put "$URL" image/jpeg "$(padded a.jpg "$same")"
assert_status 200 "$PUT_STATUS" "a real JPEG after the impostor"

# Text pretending to be audio, an MP4 pretending to be WebM.
head -c 4000 /dev/urandom | base64 >"$HH_TMP/noise.txt"
fresh audio/mpeg "$(stat -c %s "$HH_TMP/noise.txt")" audio
put "$URL" audio/mpeg "$HH_TMP/noise.txt"
expect_put_refused 400 upload_type_not_supported "text declared as MP3" "$UKEY"
fresh video/webm "$(stat -c %s "$(fixture a.mp4)")" video
put "$URL" video/webm "$(fixture a.mp4)"
expect_put_refused 400 upload_type_not_supported "MP4 declared as WebM" "$UKEY"

# The PUT route does not take keys it did not make.
for bad in "videos/inputs/$USER_ID/x.png" "../secret.key" "videos/outputs/$(basename "$BIG_KEY" .mp4).mp4"; do
  st=$(curl -s --path-as-is -o "$HH_TMP/bad" -w '%{http_code}' -X PUT -H "Content-Type: image/png" \
    --data-binary "@$png" "$BASE/uploads/$bad?expires=9999999999&sig=$sig")
  case $st in 403 | 404) ;; *) fail "PUT to $bad answered $st" ;; esac
done

# Two PUTs of one URL at once: exactly one object, one 200 and one 409.
race=$(padded a.png $((8 * MIB)))
fresh image/png $((8 * MIB))
racers=()
for i in 1 2; do
  curl -s -o /dev/null -w '%{http_code}\n' -X PUT -T "$race" -H "Content-Type: image/png" \
    -H "Expect:" --limit-rate 40M "$URL" >"$HH_TMP/race.$i" &
  racers+=($!)
done
wait "${racers[@]}" # not a bare wait: the server is a child too
assert_eq "200 409" "$(sort "$HH_TMP"/race.[12] | tr '\n' ' ' | sed 's/ $//')" "two concurrent PUTs of one key"
cmp -s "$race" "$DATA/objects/$UKEY" || fail "the racing upload's object differs"
[ -z "$(find "$DATA/objects" -name '*.part-*')" ] || fail "a racing upload left a temporary file"

# --------------------------- the client hangs up half-way through the body

half_test_size=$((4 * MIB))
truncated=$(padded a.png $half_test_size)
fresh image/png $half_test_size
python3 - "$URL" "$truncated" <<'PY' &
import socket, sys, time, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
data = open(sys.argv[2], "rb").read()
s = socket.create_connection((u.hostname, u.port))
s.sendall((f"PUT {u.path}?{u.query} HTTP/1.1\r\nHost: {u.netloc}\r\n"
           f"Content-Type: image/png\r\nContent-Length: {len(data)}\r\n\r\n").encode())
s.sendall(data[: len(data) // 2])
time.sleep(1.5)  # the half is on disk, not in memory: the test looks for it now
s.close()
PY
py=$!
seen=0
for _ in $(seq 1 30); do
  part=$(find "$DATA/objects" -name '*.part-*' -size +$((MIB))c | head -1)
  [ -n "$part" ] && { seen=1; break; }
  sleep 0.05
done
wait $py
assert_eq 1 "$seen" "half an upload is in a temporary file while it arrives"
[ "$(stat -c %a "$part" 2>/dev/null || echo 600)" = 600 ] || fail "temporary file mode"
for _ in $(seq 1 100); do
  grep -q '"msg":"upload aborted"' "$SERVER_LOG" && break
  sleep 0.05
done
grep -q '"msg":"upload aborted"' "$SERVER_LOG" || fail "the server did not notice the hang-up"
no_leftovers "$UKEY" "client hung up mid-upload"
put "$URL" image/png "$truncated"
assert_status 200 "$PUT_STATUS" "the upload retried after a hang-up"

# ----------------- the documentation's own example, as written (section 2)

DOC=$HH_TMP/doc
mkdir -p "$DOC"
cp "$(padded a.png 5242880)" "$DOC/reference.png"
(
  cd "$DOC"
  export HAPPYHORSE_API_KEY=$KEY HAPPYHORSE_BASE_URL=$BASE
  curl -X POST "$HAPPYHORSE_BASE_URL/api/v1/uploads/presign" \
    -H "Authorization: Bearer $HAPPYHORSE_API_KEY" \
    -H "Content-Type: application/json" \
    -d '{
    "kind": "image",
    "contentType": "image/png",
    "sizeBytes": 5242880
  }' > presign.json

  UPLOAD_URL="$(jq -r '.uploadUrl' presign.json)"
  SOURCE_IMAGE_KEY="$(jq -r '.key' presign.json)"

  curl -X PUT "$UPLOAD_URL" \
    -H "Content-Type: image/png" \
    --data-binary "@reference.png" >put.json
  echo "$SOURCE_IMAGE_KEY" >key.txt
) 2>/dev/null
DOC_KEY=$(cat "$DOC/key.txt")
assert_match "^videos/inputs/$USER_ID/$UUID\\.png\$" "$DOC_KEY" "the documented example's key"
assert_eq "$DOC_KEY" "$(jq -r .key "$DOC/put.json")" "the documented PUT succeeded"
cmp -s "$DOC/reference.png" "$DATA/objects/$DOC_KEY" || fail "documented upload stored differently"
# ...and the key is what create-video takes.
req POST /api/v1/videos -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
  -d "{\"prompt\":\"a horse on a beach\",\"durationSec\":3,\"sourceImageKey\":\"$DOC_KEY\"}"
case $STATUS in 200 | 202) ;; *) fail "create-video with the uploaded key: $STATUS $(cat "$BODY")" ;; esac

# ---------------------------------------------- serving: headers, ranges, HEAD, 304

path=/files/$DOC_KEY
size=5242880
req GET "$path"
assert_status 200 "$STATUS" "GET asset"
assert_eq image/png "$(header Content-Type)" "Content-Type"
assert_eq "$size" "$(header Content-Length)" "Content-Length"
assert_eq bytes "$(header Accept-Ranges)" "Accept-Ranges"
assert_eq "public, max-age=31536000, immutable" "$(header Cache-Control)" "Cache-Control"
assert_eq "*" "$(header Access-Control-Allow-Origin)" "CORS on assets"
assert_match '^"[^"]+"$' "$(header ETag)" "strong ETag"
assert_match '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT$' "$(header Last-Modified)" "Last-Modified"
etag=$(header ETag)
ref=$DOC/reference.png

req GET "$path" -H "Range: bytes=0-99"
assert_status 206 "$STATUS" "first bytes"
assert_eq "bytes 0-99/$size" "$(header Content-Range)" "first bytes: Content-Range"
assert_eq 100 "$(header Content-Length)" "first bytes: length"
cmp -s <(head -c 100 "$ref") "$BODY" || fail "first bytes differ"
req GET "$path" -H "Range: bytes=-500"
assert_status 206 "$STATUS" "suffix range"
assert_eq "bytes $((size - 500))-$((size - 1))/$size" "$(header Content-Range)" "suffix: Content-Range"
cmp -s <(tail -c 500 "$ref") "$BODY" || fail "suffix bytes differ"
req GET "$path" -H "Range: bytes=$((size - 1000))-"
assert_status 206 "$STATUS" "open range"
assert_eq "bytes $((size - 1000))-$((size - 1))/$size" "$(header Content-Range)" "open: Content-Range"
assert_eq 1000 "$(stat -c %s "$BODY")" "open: length"
cmp -s <(tail -c 1000 "$ref") "$BODY" || fail "open range bytes differ"
req GET "$path" -H "Range: bytes=1000-1999"
cmp -s <(tail -c +1001 "$ref" | head -c 1000) "$BODY" || fail "middle range bytes differ"
req GET "$path" -H "Range: bytes=$size-"
assert_status 416 "$STATUS" "unsatisfiable range"
assert_eq "bytes */$size" "$(header Content-Range)" "416 Content-Range"
req GET "$path" -H "Range: bytes=0-1,5-9"
assert_status 200 "$STATUS" "several ranges: the whole object"
req GET "$path" -H "Range: bytes=0-99" -H "If-Range: \"stale\""
assert_status 200 "$STATUS" "If-Range with another ETag: the whole object"

st=$(curl -sS -I -o "$HH_TMP/head.h" -w '%{http_code}' "$BASE$path")
assert_status 200 "$st" "HEAD"
grep -qi "^content-length: $size" "$HH_TMP/head.h" || fail "HEAD Content-Length"
grep -qi "^etag: $etag" "$HH_TMP/head.h" || fail "HEAD ETag"
req GET "$path" -H "If-None-Match: $etag"
assert_status 304 "$STATUS" "If-None-Match"
assert_eq 0 "$(stat -c %s "$BODY")" "304 has no body"
req GET "$path" -H "If-None-Match: \"other\""
assert_status 200 "$STATUS" "If-None-Match with another ETag"

# Only server-made key shapes are served: no secrets, no temporary names, no traversal.
printf 'junk' >"$DATA/objects/$DOC_KEY.part-AbCdEf"
for bad in "$DOC_KEY.part-AbCdEf" secret.key ../secret.key ../store.db "videos/inputs/$USER_ID" \
  "videos/inputs/$USER_ID/00000000-0000-7000-8000-000000000000.png"; do
  st=$(curl -s --path-as-is -o "$HH_TMP/nf" -w '%{http_code}' "$BASE/files/$bad")
  assert_status 404 "$st" "GET /files/$bad"
  assert_eq not_found "$(jq -r .error.code "$HH_TMP/nf")" "GET /files/$bad code"
done
rm -f "$DATA/objects/$DOC_KEY.part-AbCdEf"
req DELETE "$path"
assert_status 405 "$STATUS" "DELETE an asset"

# CORS: a page on another origin may PUT and play.
fresh image/png "$png_size"
req OPTIONS "${URL#$BASE}" -H "Origin: https://app.example" \
  -H "Access-Control-Request-Method: PUT" -H "Access-Control-Request-Headers: content-type"
assert_status 204 "$STATUS" "preflight of the PUT"
assert_eq "*" "$(header Access-Control-Allow-Origin)" "preflight origin"
assert_contains "$(header Access-Control-Allow-Methods)" PUT "preflight methods"
assert_contains "$(header Access-Control-Allow-Headers)" Content-Type "preflight headers"
req OPTIONS "$path" -H "Origin: https://app.example" -H "Access-Control-Request-Method: GET" \
  -H "Access-Control-Request-Headers: range"
assert_status 204 "$STATUS" "preflight of a ranged GET"
assert_contains "$(header Access-Control-Allow-Headers)" Range "preflight allows Range"
put "$URL" image/png "$png" -H "Origin: https://app.example" -D "$HH_TMP/put.h"
assert_status 200 "$PUT_STATUS" "PUT from another origin"
grep -qi '^access-control-allow-origin: \*' "$HH_TMP/put.h" || fail "CORS header on the PUT"

# ------------------- restart: the secret persists; a tiny TTL expires URLs

[ "$(stat -c '%a %s' "$DATA/secret.key")" = "600 32" ] || fail "secret.key must be 0600, 32 bytes"
fresh image/png "$png_size" # signed before the restart, 15 minutes to live
keep_url=$URL keep_key=$UKEY
port=${BASE##*:}
stop_server
start_server --workers 0 --upload-url-ttl 1 --listen "127.0.0.1:$port" # same port: same URLs
put "$keep_url" image/png "$png"
assert_status 200 "$PUT_STATUS" "a URL signed before a restart"
fresh image/png "$png_size"
exp=${URL#*expires=}
exp=${exp%%&*}
now=$(date +%s)
[ $((exp - now)) -le 1 ] || fail "--upload-url-ttl 1 gave a URL living $((exp - now)) s"
while [ "$(date +%s)" -le "$exp" ]; do sleep 0.2; done
put "$URL" image/png "$png"
expect_put_refused 403 invalid_input "expired URL" "$UKEY"
assert_contains "$(jq -r .error.message "$PUT_BODY")" expired "expired URL message"
[ -s "$DATA/objects/$keep_key" ] || fail "object of the pre-restart URL"
stop_server

hh_done
