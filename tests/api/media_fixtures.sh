# media_fixtures.sh - small real media files made on the fly with ffmpeg
# for the API tests (nothing binary is committed). Source after lib.sh.
#   make_png FILE [WxH]    a PNG test card
#   make_mp4 FILE [secs]   an H.264 MP4
#   make_wav FILE [secs]   a PCM WAV tone
#   upload KEYVAR KIND TYPE FILE   presign + PUT with $KEY; the storage key goes into KEYVAR

make_png() { ffmpeg -v error -y -f lavfi -i "testsrc2=s=${2:-320x180}" -frames:v 1 "$1"; }
make_mp4() { ffmpeg -v error -y -f lavfi -i "testsrc2=s=320x180:r=24" -t "${2:-1}" -c:v libx264 -pix_fmt yuv420p "$1"; }
make_wav() { ffmpeg -v error -y -f lavfi -i "sine=frequency=440:duration=${2:-1}" "$1"; }

upload() {
  local var=$1 kind=$2 type=$3 file=$4 size
  size=$(stat -c %s "$file")
  req POST /api/v1/uploads/presign -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d "{\"kind\":\"$kind\",\"contentType\":\"$type\",\"sizeBytes\":$size}"
  assert_status 200 "$STATUS" "presign $kind"
  local url key
  url=$(jq -r .uploadUrl "$BODY")
  key=$(jq -r .key "$BODY")
  local put
  put=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$url" -H "Content-Type: $type" --data-binary "@$file")
  assert_status 200 "$put" "PUT $kind"
  printf -v "$var" '%s' "$key"
}
