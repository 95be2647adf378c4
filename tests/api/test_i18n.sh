#!/usr/bin/env bash
# test_i18n.sh - the language catalogues (web/i18n/zh-CN.json, en.json):
# both have exactly the same keys, every text is non-empty and names the
# same {placeholders} in both; every key the pages use exists: data-i18n
# and data-i18n-attr in web/*.html, t('...') in web/assets/*.js, the keys
# made from data (an error code of the contract, a video status, a ledger
# kind, a camera motion and a style preset of web/assets/presets.json, a
# reference slot, an intensity) and the docs site's keys in
# src/api/docs_site.c; and the server serves both at /i18n/<lang>.json.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

ZH=$HH_SRC/web/i18n/zh-CN.json
EN=$HH_SRC/web/i18n/en.json
for f in "$ZH" "$EN"; do
  jq -e 'type == "object" and ([.[] | type == "string" and length > 0] | all)' "$f" >/dev/null ||
    fail "$f is not an object of non-empty strings"
  HH_ASSERTS=$((HH_ASSERTS + 1))
done
missing=$(jq -rn --slurpfile a "$ZH" --slurpfile b "$EN" \
  '(($a[0] | keys) - ($b[0] | keys) | map("only in zh-CN: " + .)) + (($b[0] | keys) - ($a[0] | keys) | map("only in en: " + .)) | .[]')
[ -z "$missing" ] || fail "the catalogues differ: $missing"
HH_ASSERTS=$((HH_ASSERTS + 1))
# The same {placeholders} in both languages.
diffs=$(jq -rn --slurpfile a "$ZH" --slurpfile b "$EN" \
  '$a[0] | to_entries[] | select(([.value | scan("\\{[a-zA-Z]+\\}")] | sort) != ([$b[0][.key] | scan("\\{[a-zA-Z]+\\}")] | sort)) | .key')
[ -z "$diffs" ] || fail "placeholders differ between the languages in: $diffs"
HH_ASSERTS=$((HH_ASSERTS + 1))

KEYS=$(jq -r 'keys[]' "$EN")
# need KEY WHERE : KEY is in the catalogues.
need() {
  HH_ASSERTS=$((HH_ASSERTS + 1))
  grep -qxF -- "$1" <<<"$KEYS" || fail "$2 uses the key '$1', which the catalogues lack"
}
used=0
while read -r k; do need "$k" "web/*.html (data-i18n)"; used=$((used + 1)); done < \
  <(grep -ohE 'data-i18n="[^"]+"' "$HH_SRC"/web/*.html | sed -E 's/data-i18n="([^"]+)"/\1/' | sort -u)
while read -r k; do need "$k" "web/*.html (data-i18n-attr)"; used=$((used + 1)); done < \
  <(grep -ohE 'data-i18n-attr="[^"]+"' "$HH_SRC"/web/*.html | sed -E 's/data-i18n-attr="([^"]+)"/\1/' |
    tr ';' '\n' | sed -E 's/^[^:]*://' | sort -u)
while read -r k; do need "$k" "web/assets/*.js (t or has)"; used=$((used + 1)); done < \
  <(grep -ohE "\b(t|has)\('[a-zA-Z0-9._-]+'" "$HH_SRC"/web/assets/*.js | sed -E "s/^(t|has)\('//; s/'$//" | sort -u)
[ "$used" -ge 150 ] || fail "only $used keys found in the pages"
# Keys made from data.
for c in $(grep -oE '\{"[a-z_]+", [0-9]{3}\}' "$HH_SRC/src/domain/api_error.c" | cut -d'"' -f2) network aborted; do
  need "error.$c" "errorText (error code $c)"
done
for s in queued processing ready failed; do need "status.$s" "the gallery"; done
for k in grant charge refund adjustment; do need "kind.$k" "the ledger"; done
for c in $(jq -r '.cameras[]' "$HH_SRC/web/assets/presets.json"); do
  need "camera.$c" "the camera grid"
  need "camera.$c.help" "the camera grid"
done
for s in none custom $(jq -r '.styles[].id' "$HH_SRC/web/assets/presets.json"); do
  need "style.$s" "the style chips"
  need "style.$s.help" "the style chips"
done
for s in sourceImage lastFrame referenceVideo referenceAudio; do
  need "upload.$s" "the upload slots"
  need "upload.$s.hint" "the upload slots"
done
for k in image video audio; do need "upload.choose.$k" "the upload slots"; done
for n in 1 2 3 4 5; do need "intensity.$n" "the intensity help"; done
for a in 16-9 9-16 1-1; do need "aspect.$a" "the aspect ratio help"; done
for l in zh-CN en; do need "lang.$l" "the language switch"; done
for g in start create operate integrate; do need "docs.group.$g" "the docs navigation"; done
while read -r k; do need "$k" "src/api/docs_site.c"; done < \
  <(grep -oE 'T\(s, [a-z]+, "[a-zA-Z.]+"\)' "$HH_SRC/src/api/docs_site.c" | cut -d'"' -f2 | sort -u)

# Served as they are.
start_server --workers 0
for l in zh-CN en; do
  req GET "/i18n/$l.json"
  assert_status 200 "$STATUS" "/i18n/$l.json"
  assert_match '^application/json' "$(header Content-Type)" "catalogue type"
  cmp -s "$BODY" "$HH_SRC/web/i18n/$l.json" || fail "/i18n/$l.json differs from the file"
done
req GET /i18n/../index.html
assert_status 404 "$STATUS" "no climbing out of i18n/"
stop_server
hh_done
