#!/usr/bin/env bash
# test_docs_site.sh - the docs site served by the binary at /docs/: every
# page exists in both languages (zh-CN, en) as HTML in the dashboard's
# style; /docs/ and /docs/<slug> send a visitor to their language (the
# hh_lang cookie, else Accept-Language by q, else zh-CN); every internal
# link of every page resolves (pages, headings, assets, the dashboard, the
# operator documents); and the Customer API page cannot drift from the
# contract, docs/customer-api.md: every endpoint, request field, upload
# kind, error code with its HTTP status, status value, camera motion and
# error field of the contract appears in both languages' page.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

SLUGS=(quick-start workbench prompts-and-references prompt-templates style-and-camera output-quality
  credits-plans-publishing security-and-limits customer-api overview)
start_server --workers 0

# --- the visitor's language ---
# lang_of HEADER... : the language /docs/ redirects to with those request headers.
lang_of() {
  local loc
  loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$@" "$BASE/docs/")
  loc=${loc#"$BASE"/docs/}
  echo "${loc%/}"
}
assert_eq en "$(lang_of -H 'Accept-Language: en-US,en;q=0.9')" "English browser"
assert_eq zh-CN "$(lang_of -H 'Accept-Language: zh-CN,zh;q=0.9,en;q=0.8')" "Chinese browser"
assert_eq zh-CN "$(lang_of -H 'Accept-Language: zh-TW')" "traditional Chinese gets zh-CN"
assert_eq zh-CN "$(lang_of -H 'Accept-Language: en;q=0.5, zh;q=0.9')" "q-values decide"
assert_eq en "$(lang_of -H 'Accept-Language: fr-FR, en-GB;q=0.7')" "the first one we have"
assert_eq zh-CN "$(lang_of -H 'Accept-Language: fr-FR')" "none of ours: the product's language"
assert_eq zh-CN "$(lang_of)" "no header"
assert_eq en "$(lang_of -H 'Accept-Language: zh-CN' -H 'Cookie: a=1; hh_lang=en')" "the remembered choice wins"
assert_eq zh-CN "$(lang_of -H 'Accept-Language: zh-CN' -H 'Cookie: hh_lang=xx')" "a bad cookie is ignored"
req GET /docs -H 'Accept-Language: en'
assert_status 302 "$STATUS" "/docs"
assert_eq /docs/en/ "$(header Location)" "/docs redirect"
assert_contains "$(header Vary)" Accept-Language "redirect varies"
req GET /docs/style-and-camera -H 'Accept-Language: en'
assert_eq /docs/en/style-and-camera "$(header Location)" "a slug without a language"

# --- every page, both languages ---
declare -A SEEN
PAGES=()
for lang in zh-CN en; do
  PAGES+=("/docs/$lang/")
  for s in "${SLUGS[@]}"; do PAGES+=("/docs/$lang/$s"); done
done
for p in "${PAGES[@]}"; do
  req GET "$p"
  assert_status 200 "$STATUS" "$p"
  assert_match '^text/html; charset=utf-8' "$(header Content-Type)" "$p type"
  lang=$(cut -d/ -f3 <<<"$p")
  assert_eq "$lang" "$(header Content-Language)" "$p language"
  assert_contains "$(header Content-Security-Policy)" "script-src 'self'" "$p CSP"
  html=$(cat "$BODY")
  assert_contains "$html" "<html lang=\"$lang\">" "$p html lang"
  assert_contains "$html" '<link rel="stylesheet" href="/assets/style.css">' "$p uses the dashboard's style"
  assert_contains "$html" 'name="viewport" content="width=device-width, initial-scale=1"' "$p phone viewport"
  assert_contains "$html" 'href="/app"' "$p links to the dashboard"
  assert_contains "$html" '<h1' "$p has a title"
  other=$([ "$lang" = en ] && echo zh-CN || echo en)
  assert_contains "$html" "href=\"/docs/$other/" "$p links to the other language"
  printf '%s' "$html" >"$HH_TMP/page$(tr / _ <<<"$p").html"
done
# The Chinese pages are written in Chinese, the English ones in English.
assert_contains "$(cat "$HH_TMP/page_docs_zh-CN_quick-start.html")" "快速开始" "zh-CN title"
assert_contains "$(cat "$HH_TMP/page_docs_en_quick-start.html")" "Quick start" "en title"
for s in "${SLUGS[@]}"; do
  if grep -qP '[\x{4e00}-\x{9fff}]' <(sed 's/<a[^>]*lang="zh-CN"[^>]*>[^<]*<\/a>//g; s/中文//g' "$HH_TMP/page_docs_en_$s.html"); then
    fail "/docs/en/$s has Chinese text: $(grep -oP '.{0,20}[\x{4e00}-\x{9fff}]+.{0,20}' "$HH_TMP/page_docs_en_$s.html" | head -3)"
  fi
  HH_ASSERTS=$((HH_ASSERTS + 1))
done

# --- every internal link resolves ---
# resolve PAGE HREF : the absolute path of HREF on PAGE ("" for external links).
resolve() {
  local page=$1 href=$2
  case "$href" in
  http://* | https://* | mailto:*) echo "" ;;
  /*) echo "$href" ;;
  '#'*) echo "$page$href" ;;
  *) echo "${page%/*}/$href" ;;
  esac
}
links=0
for p in "${PAGES[@]}"; do
  f="$HH_TMP/page$(tr / _ <<<"$p").html"
  while read -r href; do
    target=$(resolve "$p" "$href")
    [ -n "$target" ] || continue
    path=${target%%#*}
    frag=""
    [[ $target == *"#"* ]] && frag=${target#*#}
    if [ -z "${SEEN[$path]:-}" ]; then
      SEEN[$path]=$(curl -s -o "$HH_TMP/target" -w '%{http_code}' -L "$BASE$path")
      cp "$HH_TMP/target" "$HH_TMP/target$(md5sum <<<"$path" | cut -c1-8)"
    fi
    assert_status 200 "${SEEN[$path]}" "link $href on $p"
    if [ -n "$frag" ]; then
      grep -qF "id=\"$frag\"" "$HH_TMP/target$(md5sum <<<"$path" | cut -c1-8)" ||
        fail "link $href on $p: no element with id \"$frag\""
      HH_ASSERTS=$((HH_ASSERTS + 1))
    fi
    links=$((links + 1))
  done < <(grep -oE '(href|src)="[^"]*"' "$f" | sed -E 's/^(href|src)="//; s/"$//' | sed 's/&amp;/\&/g')
done
[ "$links" -ge 300 ] || fail "only $links internal links checked"

# --- the Customer API page against the contract ---
CONTRACT=$HH_SRC/docs/customer-api.md
for lang in zh-CN en; do
  page=$(cat "$HH_TMP/page_docs_${lang}_customer-api.html")
  # Endpoints.
  while read -r ep; do
    assert_contains "$page" "<code>$ep</code>" "$lang customer-api: endpoint"
  done < <(grep -oE '(GET|POST|PUT|DELETE) /api/v1/[a-z/{}]+' "$CONTRACT" | sort -u)
  # Every field of the create-video table with its type.
  fields=0
  while IFS='|' read -r _ field type _; do
    field=$(xargs <<<"$field") type=$(xargs <<<"$type")
    assert_contains "$page" "<td>$field</td><td>$type</td>" "$lang customer-api: field $field"
    fields=$((fields + 1))
  done < <(awk '/^## 3\./ { s = 1 } /^## 4\./ { s = 0 } s && /^\| [a-zA-Z]+ \| (string|integer|enum|number) \|/' "$CONTRACT")
  assert_eq 12 "$fields" "fields in the contract's table"
  # Every upload kind with its content types and size.
  while IFS='|' read -r _ kind types size _; do
    kind=$(xargs <<<"$kind") types=$(xargs <<<"$types") size=$(xargs <<<"$size")
    assert_contains "$page" "<td>$kind</td><td>$types</td><td>$size</td>" "$lang customer-api: upload $kind"
  done < <(grep -E '^\| (image|video|audio) +\|' "$CONTRACT")
  # Every error code with its HTTP status.
  codes=0
  while IFS='|' read -r _ code http _; do
    code=$(xargs <<<"$code") http=$(xargs <<<"$http")
    assert_contains "$page" "<td>$code</td><td>$http</td>" "$lang customer-api: error $code"
    codes=$((codes + 1))
  done < <(awk '/^## 6\./ { s = 1 } /^## 7\./ { s = 0 } s && /^\| [a-z_]+ \| [0-9][0-9][0-9] \|/' "$CONTRACT")
  assert_eq 12 "$codes" "error codes in the contract's table (the documented ten, service_unavailable, conflict)"
  for w in queued processing ready failed field requiredPlan currentPlan required balance \
    Idempotency-Key Retry-After sourceImageKey category placeholders settings; do
    assert_contains "$page" "<code>$w</code>" "$lang customer-api: $w"
  done
  for cam in $(grep -oE 'none, static, pan-left[a-z, -]+orbit' "$CONTRACT" | head -1 | tr -d ','); do
    assert_contains "$page" "$cam" "$lang customer-api: camera $cam"
  done
done

# --- the operator documents, as their Markdown ---
req GET /docs/source/customer-api.md
assert_status 200 "$STATUS" "contract source"
assert_match '^text/plain; charset=utf-8' "$(header Content-Type)" "source type"
cmp -s "$BODY" "$CONTRACT" || fail "/docs/source/customer-api.md is not docs/customer-api.md"
HH_ASSERTS=$((HH_ASSERTS + 1))

# --- what is not a page ---
for p in /docs/en/nope /docs/xx/quick-start /docs/en/quick-start/x /docs/source/nope.md \
  /docs/source/..%2FREADME.md /docs/source/site /docs/en/../../README.md /docs/nope/deeper; do
  req GET "$p"
  assert_status 404 "$STATUS" "$p"
done

# --- validators ---
req GET /docs/en/overview
etag=$(header ETag)
assert_match '^"[0-9a-f]{16}"$' "$etag" "ETag"
req GET /docs/en/overview -H "If-None-Match: $etag"
assert_status 304 "$STATUS" "revalidated"
stop_server
hh_done
