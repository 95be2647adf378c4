#!/usr/bin/env bash
# test_publish.sh - publishing to public share pages over real HTTP
# (contract section 8, an addition):
#  - only a ready video of the caller's account: a queued one is
#    invalid_input, another account's is not_found (publish and unpublish),
#    a plan without "publish" is plan_gate_exceeded with field "publish";
#  - POST .../publish -> {"shareUrl"} at /v/<22 base64url characters>; the
#    page has the player, Open Graph and Twitter player tags, the prompt
#    only when the owner chose, and nothing of the account;
#  - publishing again keeps the link; unpublishing answers 204 and the page
#    is 404; a new publish gets a new random slug (ten in a row all
#    differ) and the old links stay 404; guessed slugs are 404;
#  - the dashboard publishes through its session routes (CSRF checked)
#    and its gallery list carries each video's shareUrl.
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
cat >"$HH_TMP/grey.sh" <<'GEN'
#!/usr/bin/env bash
set -eu
cat >/dev/null
ffmpeg -nostdin -v error -f lavfi -i color=c=0x406080:size=320x180:rate=8 -frames:v 8 \
  "${!#}/frame_%05d.png"
GEN
chmod +x "$HH_TMP/grey.sh"
plan() { # NAME PUBLISH
  printf '{"name":"%s","maxDurationSec":5,"requestsPerMinute":10000,"jobsInFlight":4,' "$1"
  printf '"allow":{"1080p":false,"sourceImage":true,"lastFrame":false,"referenceVideo":false,'
  printf '"referenceAudio":false},"creditsPerSecond":{"720p":10,"1080p":20},"publish":%s,' "$2"
  printf '"engine":{"name":"exec","command":["%s"],"preset":"ultrafast"}}' "$HH_TMP/grey.sh"
}
printf '{"plans":[%s,%s]}\n' "$(plan nopub false)" "$(plan starter true)" >"$HH_TMP/plans.json"
export HAPPYHORSE_PLANS=$HH_TMP/plans.json
PASS='a-long-enough-password'
hh admin user create --email owner@example.com --plan starter --credits 1000 --password-stdin \
  <<<"$PASS" >/dev/null
hh admin user create --email other@example.com --plan starter --credits 1000 >/dev/null
hh admin user create --email locked@example.com --plan nopub --credits 1000 >/dev/null
KEY=$(hh admin key create --email owner@example.com)
KEY_OTHER=$(hh admin key create --email other@example.com)
KEY_LOCKED=$(hh admin key create --email locked@example.com)

auth() { printf 'Authorization: Bearer %s' "$1"; }
create() { # KEY PROMPT -> id
  req POST /api/v1/videos -H "$(auth "$1")" -H 'Content-Type: application/json' \
    -d "$(jq -nc --arg p "$2" '{prompt:$p, durationSec:3}')"
  assert_status 202 "$STATUS" "create: $(cat "$BODY")"
  jq -r .id "$BODY"
}
publish() { # KEY ID [JSON]
  if [ $# -gt 2 ]; then
    req POST "/api/v1/videos/$2/publish" -H "$(auth "$1")" -H 'Content-Type: application/json' -d "$3"
  else
    req POST "/api/v1/videos/$2/publish" -H "$(auth "$1")"
  fi
}
unpublish() { req DELETE "/api/v1/videos/$2/publish" -H "$(auth "$1")"; }
expect_error() { # STATUS CODE WHAT
  assert_status "$1" "$STATUS" "$3: $(cat "$BODY")"
  assert_eq "$2" "$(error_code)" "$3: code"
}
page() { req GET "/v/$1"; }
slug_of() { sed -n 's|.*/v/||p' <<<"$1"; }

# --- a queued video cannot be published (no workers yet) ---
start_server --workers 0
PROMPT='a <b>red</b> kite over "Dune" & sea'
V=$(create "$KEY" "$PROMPT")
publish "$KEY" "$V"
expect_error 400 invalid_input "publish of a queued video"
stop_server

start_server --workers 2
V_LOCKED=$(create "$KEY_LOCKED" "locked plan video")
wait_ready() {
  local i s
  for i in $(seq 900); do
    s=$(curl -s "$BASE/api/v1/videos/$2" -H "$(auth "$1")" | jq -r .status)
    [ "$s" = ready ] && return 0
    [ "$s" = failed ] && fail "video $2 failed"
    sleep 0.2
  done
  fail "video $2 never became ready"
}
wait_ready "$KEY" "$V"
wait_ready "$KEY_LOCKED" "$V_LOCKED"
VIDEO=$(curl -s "$BASE/api/v1/videos/$V" -H "$(auth "$KEY")")

# --- who may publish ---
req POST "/api/v1/videos/$V/publish"
expect_error 401 missing_api_key "publish without a key"
publish "$KEY_OTHER" "$V"
expect_error 404 not_found "another account publishes my video"
unpublish "$KEY_OTHER" "$V"
expect_error 404 not_found "another account unpublishes my video"
publish "$KEY" "not-a-uuid"
expect_error 404 not_found "malformed id"
publish "$KEY" "$(uuidgen 2>/dev/null || echo 01890000-0000-7000-8000-000000000000)"
expect_error 404 not_found "unknown id"
publish "$KEY_LOCKED" "$V_LOCKED"
expect_error 403 plan_gate_exceeded "a plan without publish"
assert_json "$(cat "$BODY")" '.error | [.field, .requiredPlan, .currentPlan] | join(",")' \
  "publish,starter,nopub" "the gate's fields"
publish "$KEY" "$V" '{"showPrompt":"yes"}'
expect_error 400 invalid_input "showPrompt not a boolean"
assert_json "$(cat "$BODY")" .error.field showPrompt "the field named"
publish "$KEY" "$V" '{"showPrompt":true,"public":1}'
expect_error 400 invalid_input "unknown field"
publish "$KEY" "$V" '{"showPrompt":'
expect_error 400 invalid_input "broken JSON"

# --- publish with the prompt shown ---
publish "$KEY" "$V" '{"showPrompt":true}'
assert_status 200 "$STATUS" "publish: $(cat "$BODY")"
URL=$(jq -r .shareUrl "$BODY")
assert_match "^$BASE/v/[A-Za-z0-9_-]{22}\$" "$URL" "shareUrl: 128 random bits in base64url"
assert_json "$(cat "$BODY")" .showPrompt true "showPrompt echoed"
SLUG=$(slug_of "$URL")
page "$SLUG"
assert_status 200 "$STATUS" "share page"
assert_match '^text/html' "$(header Content-Type)" "share page type"
HTML=$(cat "$BODY")
VURL=$(jq -r .videoUrl <<<"$VIDEO")
TURL=$(jq -r .thumbnailUrl <<<"$VIDEO")
for tag in "property=\"og:type\" content=\"video.other\"" \
  "property=\"og:url\" content=\"$URL\"" \
  "property=\"og:video\" content=\"$VURL\"" \
  "property=\"og:video:type\" content=\"video/mp4\"" \
  "property=\"og:video:width\" content=\"1280\"" \
  "property=\"og:video:height\" content=\"720\"" \
  "property=\"og:image\" content=\"$TURL\"" \
  "name=\"twitter:card\" content=\"player\"" \
  "name=\"twitter:player\" content=\"$URL\"" \
  "name=\"twitter:player:stream\" content=\"$VURL\"" \
  "name=\"twitter:image\" content=\"$TURL\""; do
  assert_contains "$HTML" "<meta $tag>" "meta tag"
done
assert_contains "$HTML" "<video class=\"share-video\"" "the player"
assert_contains "$HTML" "src=\"$VURL\"" "the player plays the video"
assert_contains "$HTML" 'a &lt;b&gt;red&lt;/b&gt; kite over &quot;Dune&quot; &amp; sea' "the prompt, escaped"
assert_not_contains "$HTML" "<b>red</b>" "no raw HTML from the prompt"
for secret in owner@example.com starter credits "$(hh admin user show --email owner@example.com | jq -r .id)"; do
  assert_not_contains "$HTML" "$secret" "nothing of the account on the page"
done
assert_not_contains "$(header Content-Security-Policy)" "frame-ancestors 'none'" "players may frame the page"
curl -sf -o /dev/null "$VURL" || fail "the page's video is not reachable"

# --- again, without the prompt: same link ---
publish "$KEY" "$V" '{"showPrompt":false}'
assert_status 200 "$STATUS" "publish again"
assert_eq "$URL" "$(jq -r .shareUrl "$BODY")" "publishing again keeps the link"
page "$SLUG"
assert_status 200 "$STATUS" "share page"
assert_not_contains "$(cat "$BODY")" "kite" "the prompt is hidden when the owner chose"
publish "$KEY" "$V"
assert_json "$(cat "$BODY")" .showPrompt false "no body: the prompt is not shown"

# --- guessing ---
# Neighbours of the slug: its last character swapped for two others (a fixed "A" would be the slug
# itself whenever the slug ends in A, one time in four: its last character carries 2 random bits).
LAST=${SLUG: -1}
NEAR=()
for c in A B Q; do
  [ "$c" != "$LAST" ] && NEAR+=("${SLUG:0:21}$c")
done
for guess in "${NEAR[@]:0:2}" AAAAAAAAAAAAAAAAAAAAAA "$V" "../$SLUG" "$SLUG.html"; do
  page "$guess"
  assert_status 404 "$STATUS" "guessed slug $guess"
done

# --- unpublish: 404, and every new publish a new random slug ---
OLD=("$SLUG")
for i in $(seq 10); do
  unpublish "$KEY" "$V"
  assert_status 204 "$STATUS" "unpublish $i"
  page "${OLD[-1]}"
  expect_error 404 not_found "page after unpublish $i"
  publish "$KEY" "$V"
  assert_status 200 "$STATUS" "publish $i"
  OLD+=("$(slug_of "$(jq -r .shareUrl "$BODY")")")
done
assert_eq 11 "$(printf '%s\n' "${OLD[@]}" | sort -u | wc -l)" "eleven publishes, eleven different slugs"
for s in "${OLD[@]:0:10}"; do
  page "$s"
  assert_status 404 "$STATUS" "an old link stays dead"
done
page "${OLD[-1]}"
assert_status 200 "$STATUS" "the newest link works"
unpublish "$KEY" "$V"
unpublish "$KEY" "$V"
assert_status 204 "$STATUS" "unpublishing twice is fine"

# --- the dashboard: session routes, CSRF, the gallery's shareUrl ---
req POST /api/dashboard/login -H 'Content-Type: application/json' \
  -d "$(jq -nc --arg p "$PASS" '{email:"owner@example.com",password:$p}')"
assert_status 200 "$STATUS" "login"
COOKIE=$(header Set-Cookie | sed -n 's/^hh_session=\([^;]*\);.*/\1/p')
CSRF=$(jq -r .csrfToken "$BODY")
req POST "/api/dashboard/videos/$V/publish" -H "Cookie: hh_session=$COOKIE"
expect_error 403 forbidden "dashboard publish without the CSRF token"
req POST "/api/dashboard/videos/$V/publish" -H "Cookie: hh_session=$COOKIE" -H "X-CSRF-Token: $CSRF" \
  -H 'Content-Type: application/json' -d '{"showPrompt":true}'
assert_status 200 "$STATUS" "dashboard publish"
DURL=$(jq -r .shareUrl "$BODY")
req GET /api/dashboard/videos -H "Cookie: hh_session=$COOKIE"
assert_json "$(cat "$BODY")" ".videos[] | select(.id == \"$V\") | .shareUrl" "$DURL" "the gallery knows the link"
req DELETE "/api/dashboard/videos/$V/publish" -H "Cookie: hh_session=$COOKIE" -H "X-CSRF-Token: $CSRF"
assert_status 204 "$STATUS" "dashboard unpublish"
req GET /api/dashboard/videos -H "Cookie: hh_session=$COOKIE"
assert_json "$(cat "$BODY")" ".videos[] | select(.id == \"$V\") | .shareUrl" null "unpublished in the gallery"
page "$(slug_of "$DURL")"
assert_status 404 "$STATUS" "dashboard unpublish removed the page"
stop_server
hh_done
