#!/usr/bin/env bash
# test_templates.sh - the prompt template library over real HTTP (contract
# section 8): GET /api/v1/templates needs a key like every customer route;
# the built-in library has at least 24 templates in the six categories,
# both languages everywhere, every placeholder declared and used; every
# template, filled with its defaults in either language and sent with its
# settings, is accepted by POST /api/v1/videos; ?category filters and an
# unknown one is invalid_input; the dashboard's session route answers the
# same; an operator's --templates file (or HAPPYHORSE_TEMPLATES) replaces
# the library, and a broken one stops `serve` at start naming what is wrong.
set -euo pipefail
. "$HH_SRC/tests/api/lib.sh"
. "$HH_SRC/tests/api/server.sh"

DATA=$HH_TMP/data
hh admin user create --email pro@example.com --plan pro --credits 100000 --password-stdin \
  <<<'pro-user-password' >/dev/null
KEY=$(hh admin key create --email pro@example.com)
start_server --workers 0

# --- auth like every customer route ---
req GET /api/v1/templates
assert_status 401 "$STATUS" "no key"
assert_eq missing_api_key "$(error_code)" "no key code"

# --- the built-in library ---
req GET /api/v1/templates -H "Authorization: Bearer $KEY"
assert_status 200 "$STATUS" "templates"
assert_match '^application/json' "$(header Content-Type)" "content type"
LIB=$(cat "$BODY")
n=$(jq '.templates | length' <<<"$LIB")
[ "$n" -ge 24 ] || fail "only $n templates (want at least 24)"
for cat in product landscape character food architecture abstract; do
  c=$(jq --arg c "$cat" '[.templates[] | select(.category == $c)] | length' <<<"$LIB")
  [ "$c" -ge 1 ] || fail "no template in category $cat"
  assert_json "$LIB" "[.categories[] | select(.id == \"$cat\") | .label[\"zh-CN\"], .label.en | length > 0] | all" true "label of $cat"
done
assert_json "$LIB" '[.templates[].id] | length == (unique | length)' true "ids are unique"
for lang in zh-CN en; do
  assert_json "$LIB" "[.templates[] | .title[\"$lang\"], .prompt[\"$lang\"] | type == \"string\" and length > 0] | all" true "$lang texts"
  # Every {name} of every prompt is declared, and every declared name is used.
  assert_json "$LIB" "[.templates[] | ([.prompt[\"$lang\"] | scan(\"\\\\{([a-z][a-z0-9_]*)\\\\}\") | .[0]] | unique) == ([.placeholders[].name] | unique)] | all" true "$lang placeholders"
done

# Every template, filled with its defaults, is a request the API takes.
i=0
while read -r body; do
  req POST /api/v1/videos -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" -d "$body"
  assert_status 202 "$STATUS" "template $i: $body -> $(cat "$BODY")"
  i=$((i + 1))
done < <(jq -c --arg lang "$( ((RANDOM % 2)) && echo en || echo zh-CN)" '.templates[] |
  . as $t | (reduce (.placeholders // [])[] as $p (.prompt[$lang]; gsub("\\{" + $p.name + "\\}"; $p.default[$lang])))
  as $prompt | ({durationSec: 5} + (.settings // {}) + {prompt: $prompt})' <<<"$LIB")
assert_eq "$n" "$i" "every template was sent"

# --- one category; an unknown one ---
req GET '/api/v1/templates?category=food' -H "Authorization: Bearer $KEY"
assert_status 200 "$STATUS" "food"
assert_json "$(cat "$BODY")" '[.templates[].category] | unique | tojson' '["food"]' "only food"
assert_json "$(cat "$BODY")" '.categories | length' 6 "categories still listed"
req GET '/api/v1/templates?category=nope' -H "Authorization: Bearer $KEY"
assert_status 400 "$STATUS" "unknown category"
assert_eq invalid_input "$(error_code)" "unknown category code"
assert_json "$(cat "$BODY")" .error.field category "unknown category field"

# --- the dashboard's route: a session, the same library ---
curl -s -c "$HH_TMP/jar" -o /dev/null -H 'Content-Type: application/json' \
  -d '{"email":"pro@example.com","password":"pro-user-password"}' "$BASE/api/dashboard/login"
req GET /api/dashboard/templates -b "$HH_TMP/jar"
assert_status 200 "$STATUS" "dashboard templates"
assert_eq "$(jq -S . <<<"$LIB")" "$(jq -S . "$BODY")" "the dashboard gets the API's library"
req GET /api/dashboard/templates
assert_status 401 "$STATUS" "dashboard templates without a session"
stop_server

# --- an operator's library ---
cat >"$HH_TMP/mine.json" <<'JSON'
{"categories": [{"id": "fashion", "label": {"zh-CN": "时装", "en": "Fashion"}}],
 "templates": [{"id": "runway", "category": "fashion",
   "title": {"zh-CN": "T 台", "en": "Runway"},
   "prompt": {"zh-CN": "模特穿着{outfit}走上 T 台", "en": "A model walking the runway in {outfit}"},
   "placeholders": [{"name": "outfit", "label": {"zh-CN": "服装", "en": "Outfit"},
                     "default": {"zh-CN": "红色长裙", "en": "a red gown"}}],
   "settings": {"cameraMotion": "tilt-up", "durationSec": 4}}]}
JSON
start_server --workers 0 --templates "$HH_TMP/mine.json"
req GET /api/v1/templates -H "Authorization: Bearer $KEY"
assert_json "$(cat "$BODY")" '[.templates[].id] | tojson' '["runway"]' "the operator's library"
stop_server
HAPPYHORSE_TEMPLATES="$HH_TMP/mine.json" start_server --workers 0
req GET /api/v1/templates -H "Authorization: Bearer $KEY"
assert_json "$(cat "$BODY")" '.categories[0].id' fashion "HAPPYHORSE_TEMPLATES"
stop_server

# broken FILTER MESSAGE : a copy of mine.json changed by jq FILTER stops serve with MESSAGE.
broken() {
  jq "$1" "$HH_TMP/mine.json" >"$HH_TMP/bad.json"
  assert_exit 2 env HAPPYHORSE_DATA="$DATA" "$HH_BIN" serve --listen 127.0.0.1:0 --templates "$HH_TMP/bad.json"
  assert_contains "$RUN_ERR" "$2" "refusal of $1"
}
broken '.templates[0].prompt.en = "A model in {shoes}"' 'prompt.en: placeholder {shoes} is not declared'
broken '.templates[0].prompt["zh-CN"] = "走 T 台的模特"' 'placeholder {outfit} is declared but not used'
broken '.templates[0].settings.durationSec = 20' 'durationSec'
broken '.templates[0].settings.cameraMotion = "spin"' 'cameraMotion'
broken '.templates[0].category = "food"' '"category" must be the id of one of "categories"'
broken '.templates += [.templates[0]]' 'the id "runway" is used twice'
broken 'del(.templates[0].title.en)' 'title'
broken '.templates[0].settings.model = "x"' 'model'
broken '.templates[0].prompt.en = "A {outfit"' 'placeholders are {name}'
printf 'not json' >"$HH_TMP/bad.json"
assert_exit 2 env HAPPYHORSE_DATA="$DATA" "$HH_BIN" serve --listen 127.0.0.1:0 --templates "$HH_TMP/bad.json"
assert_contains "$RUN_ERR" "not valid JSON" "not JSON"
assert_exit 2 env HAPPYHORSE_DATA="$DATA" "$HH_BIN" serve --listen 127.0.0.1:0 --templates "$HH_TMP/none.json"
assert_contains "$RUN_ERR" "cannot open" "missing file"
hh_done
