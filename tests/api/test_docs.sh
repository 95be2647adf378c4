#!/usr/bin/env bash
# test_docs.sh - the documentation checked against the code, so it cannot
# drift: (1) the README's CLI list has exactly the commands the binary's
# --help lists, each entry with every flag of that command's --help; (2) the
# README's configuration table has every flag the --help pairs with an
# environment variable, in the row of that variable, and every variable the
# code reads (and none it does not); (3) every relative link in README.md,
# CONTRIBUTING.md and docs/ points at a file that exists; (4) every plans
# file example in docs/ is loaded by the real binary: `admin plan set`
# (the plans file's validation) moves a user to each of its plans, and a
# `worker` starts with it (the engines are made from it).
. "$(dirname "$0")/lib.sh"

unset HAPPYHORSE_DATA HAPPYHORSE_DATABASE_URL HAPPYHORSE_PLANS HAPPYHORSE_WORKERS
README=$HH_SRC/README.md
DATA=$HH_TMP/data

# ---- the command tree, from --help ----

# help_of WORDS... : the --help text of `happyhorse WORDS...` (top level without words).
help_of() { "$HH_BIN" "$@" --help 2>&1; }

# subcommands_of WORDS... : the names listed under "commands:" in the help of WORDS (none for a leaf).
subcommands_of() {
  help_of "$@" | awk '/^commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && /^$/ { f = 0 }'
}

LEAVES=()
declare -A HELP # leaf command -> its --help text
# walk WORDS... : appends every leaf command under WORDS to LEAVES (and its help to HELP).
walk() {
  local subs sub
  subs=$(subcommands_of "$@")
  if [ -z "$subs" ]; then
    LEAVES+=("$*")
    HELP["$*"]=$(help_of "$@")
    return
  fi
  for sub in $subs; do walk "$@" "$sub"; done
}
walk
[ "${#LEAVES[@]}" -ge 10 ] || fail "only ${#LEAVES[@]} commands found in --help: ${LEAVES[*]}"
for want in serve worker render "admin video refund" "admin user ledger"; do
  has_line "$want" "${LEAVES[@]}" || fail "--help does not list '$want'"
done

# The README's CLI block: the first ``` block after "## The CLI", one entry per
# line starting with "happyhorse", continuation lines (indented) joined to it.
cli_block() {
  awk '/^## The CLI/ { s = 1 } s && /^```/ { if (f) exit; f = 1; next } f' "$README" |
    awk '/^happyhorse / { if (e) print e; e = $0; next } /^ / { e = e " " $0 } END { if (e) print e }'
}
ENTRIES=$(cli_block)
[ -n "$ENTRIES" ] || fail "README.md has no CLI block under '## The CLI'"

# readme_entry WORDS : the README entry of command WORDS ("admin user create").
readme_entry() { printf '%s\n' "$ENTRIES" | grep -E "^happyhorse +${1// / +}( |$)" || true; }

# flags_of HELPTEXT : the distinct --flags in it.
flags_of() { printf '%s\n' "$1" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }

# has_flag TEXT FLAG : FLAG appears in TEXT as a whole flag (--engine is not --engine-config).
has_flag() {
  local re="$2([^a-z0-9-]|\$)"
  [[ $1 =~ $re ]]
}

README_TEXT=$(cat "$README")
for leaf in "${LEAVES[@]}"; do
  help=${HELP[$leaf]}
  entry=$(readme_entry "$leaf")
  [ -n "$entry" ] || fail "README.md's CLI list has no entry for 'happyhorse $leaf'"
  HH_ASSERTS=$((HH_ASSERTS + 1))
  for flag in $(flags_of "$help"); do
    has_flag "$README_TEXT" "$flag" || fail "'happyhorse $leaf --help' has $flag; README.md never mentions it"
    HH_ASSERTS=$((HH_ASSERTS + 1))
    # --help is everywhere, and every admin command takes --data: the README says so once.
    case "$flag" in --help) continue ;; esac
    case "$leaf:$flag" in admin*:--data) continue ;; esac
    has_flag "$entry" "$flag" ||
      fail "'happyhorse $leaf --help' has $flag; its README entry lacks it: $entry"
    HH_ASSERTS=$((HH_ASSERTS + 1))
  done
done
assert_contains "$README_TEXT" 'every `admin` command also takes `--data DIR`' "README on admin --data"

# And the other way: every README entry is a command the binary has.
while IFS= read -r entry; do
  words=$(printf '%s\n' "$entry" | awk '{ for (i = 2; i <= NF && $i ~ /^[a-z][a-z-]*$/; i++) printf "%s%s", (i > 2 ? " " : ""), $i }')
  has_line "$words" "${LEAVES[@]}" ||
    fail "README.md lists 'happyhorse $words', which --help does not have"
  HH_ASSERTS=$((HH_ASSERTS + 1))
done <<<"$ENTRIES"

# ---- the configuration table ----

CONFIG=$(awk '/^## Configuration/ { s = 1; next } s && /^## / { exit } s && /^\|/' "$README")
[ -n "$CONFIG" ] || fail "README.md has no table under '## Configuration'"

# help_entries HELPTEXT : one line per option of a help text ("  --flag ..." plus its
# indented continuation lines).
help_entries() {
  printf '%s\n' "$1" | awk '/^  --/ { if (e) print e; e = $0; next }
    /^      / && e { e = e " " $0; next } { if (e) print e; e = "" } END { if (e) print e }'
}

# config_row VAR : the table's row of `VAR`.
config_row() {
  local row
  while IFS= read -r row; do
    [[ $row == *"| \`$1\` |"* ]] && printf '%s\n' "$row"
  done <<<"$CONFIG"
  return 0
}

paired=0
for leaf in "${LEAVES[@]}"; do
  while IFS= read -r opt; do
    [[ $opt =~ ^\ *(--[a-z][a-z0-9-]*) ]] || continue
    flag=${BASH_REMATCH[1]}
    [[ $opt =~ (HAPPYHORSE_[A-Z0-9_]+) ]] || continue
    var=${BASH_REMATCH[1]}
    row=$(config_row "$var")
    [ -n "$row" ] || fail "'happyhorse $leaf --help' reads $var for $flag; the configuration table has no row for it"
    assert_contains "$row" "\`$flag\`" "the configuration row of $var"
    paired=$((paired + 1))
  done < <(help_entries "${HELP[$leaf]}")
done
[ "$paired" -ge 10 ] || fail "only $paired flags with a variable found in --help"

# Every variable the code reads: HAPPYHORSE_* names, and getenv's arguments
# (a literal, or a macro defined as one).
code_vars() {
  grep -rhoE '"HAPPYHORSE_[A-Z0-9_]+"' "$HH_SRC/src" | tr -d '"'
  grep -rhoE 'getenv\("[A-Za-z_][A-Za-z0-9_]*"\)' "$HH_SRC/src" | sed -E 's/getenv\("(.*)"\)/\1/'
  local macro def
  for macro in $(grep -rhoE 'getenv\([A-Z][A-Z0-9_]*\)' "$HH_SRC/src" | sed -E 's/getenv\((.*)\)/\1/' | sort -u); do
    def=$(grep -rhoE "#define +$macro +\"[A-Za-z0-9_]+\"" "$HH_SRC/src" | grep -oE '"[^"]+"' | tr -d '"' | head -1)
    [ -n "$def" ] || fail "cannot tell which variable getenv($macro) reads"
    echo "$def"
  done
}
VARS=$(code_vars | sort -u)
for v in HAPPYHORSE_JOB_LEASE_MS HAPPYHORSE_DATABASE_URL TMPDIR; do
  has_line "$v" "$VARS" || fail "the scan of src/ missed $v"
done
for v in $VARS; do
  [ -n "$(config_row "$v")" ] || fail "the code reads \$$v; README.md's configuration table has no row for it"
  HH_ASSERTS=$((HH_ASSERTS + 1))
done
for v in $(printf '%s\n' "$CONFIG" | grep -oE '`HAPPYHORSE_[A-Z0-9_]+`' | tr -d '`' | sort -u); do
  has_line "$v" "$VARS" || fail "the configuration table lists $v, which the code never reads"
  HH_ASSERTS=$((HH_ASSERTS + 1))
done

# ---- relative links ----

links=0
for md in "$README" "$HH_SRC/CONTRIBUTING.md" "$HH_SRC"/docs/*.md "$HH_SRC"/docs/internals/*.md; do
  [ -f "$md" ] || fail "$md is missing"
  dir=$(dirname "$md")
  while IFS= read -r target; do
    case "$target" in http://* | https://* | mailto:* | '#'*) continue ;; esac
    path=${target%%#*}
    path=${path%% *}
    [ -e "$dir/$path" ] || fail "${md#"$HH_SRC"/} links to $target, which does not exist"
    links=$((links + 1))
  done < <(grep -oE '\]\([^)[:space:]]+( "[^"]*")?\)' "$md" | sed -E 's/^\]\((.*)\)$/\1/')
done
[ "$links" -ge 20 ] || fail "only $links relative links found; the link scan is broken"
HH_ASSERTS=$((HH_ASSERTS + links))

# ---- plans file examples ----

# json_blocks FILE OUTPREFIX : writes each ```json block of FILE to OUTPREFIX.N.json.
json_blocks() {
  awk -v out="$2" '/^```json/ { n++; f = out "." n ".json"; on = 1; next }
    on && /^```/ { on = 0; close(f); next } on { print > f }' "$1"
}

EMAIL=docs@example.com
"$HH_BIN" admin user create --data "$DATA" --email "$EMAIL" >/dev/null || fail "admin user create failed"

# worker_starts PLANSFILE : a worker starts with the plans file (its engines are made), then stops
# on SIGTERM with status 0. Fails the test otherwise.
worker_starts() {
  local log=$HH_TMP/worker.log pid started="" _
  "$HH_BIN" worker --data "$DATA" --workers 1 --plans "$1" 2>"$log" &
  pid=$!
  for _ in $(seq 1 600); do
    grep -q '"msg":"worker started"' "$log" && { started=1; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$started" ]; then
    kill -9 "$pid" 2>/dev/null || true
    fail "worker did not start with $1: $(tail -3 "$log")"
  fi
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  assert_status 0 "$rc" "worker exit after SIGTERM with $1"
}

examples=0
for doc in engines plans; do
  n=0
  json_blocks "$HH_SRC/docs/$doc.md" "$HH_TMP/$doc"
  for f in "$HH_TMP/$doc".*.json; do
    [ -f "$f" ] || continue
    jq -e 'type == "object" and has("plans")' "$f" >/dev/null 2>&1 || continue
    for plan in $(jq -r '.plans[].name' "$f"); do
      assert_exit 0 "$HH_BIN" admin plan set --data "$DATA" --plans "$f" --email "$EMAIL" --plan "$plan"
    done
    worker_starts "$f"
    n=$((n + 1))
  done
  [ "$n" -ge 1 ] || fail "docs/$doc.md has no plans file example (a \`\`\`json block with \"plans\")"
  examples=$((examples + n))
done

# The loaders above refuse what they should: the shape docs/engines.md once showed, and an exec
# engine without its command.
PLAN='"name":"pro","maxDurationSec":12,"requestsPerMinute":300,"jobsInFlight":5,
  "allow":{"1080p":true,"sourceImage":true,"lastFrame":true,"referenceVideo":true,"referenceAudio":true},
  "creditsPerSecond":{"720p":10,"1080p":20}'
echo "{\"plans\":[{$PLAN,\"engine\":\"exec\",\"engine_config\":{\"command\":[\"/opt/hh/wan.sh\"]}}]}" >"$HH_TMP/old.json"
hh_run "$HH_BIN" admin plan set --data "$DATA" --plans "$HH_TMP/old.json" --email "$EMAIL" --plan pro
assert_ne 0 "$RUN_RC" "exit status of admin plan set with the old plans shape"
assert_contains "$RUN_ERR" "engine" "the refusal of the old plans shape"
echo "{\"plans\":[{$PLAN,\"engine\":{\"name\":\"exec\"}}]}" >"$HH_TMP/nocommand.json"
# Refused when the plans file is loaded (2) or when the worker makes its engines (1); a worker that
# starts instead would run until the safety-net timeout (124).
rc=0
timeout 300 "$HH_BIN" worker --data "$DATA" --workers 1 --plans "$HH_TMP/nocommand.json" \
  2>"$HH_TMP/nocommand.log" || rc=$?
case "$rc" in 1 | 2) ;; *) fail "worker with an exec engine without a command: exit $rc, want 1 or 2" ;; esac
assert_contains "$(cat "$HH_TMP/nocommand.log")" "command" "the refusal of an exec engine without a command"

echo "checked ${#LEAVES[@]} commands, $paired flag/variable pairs, $links links, $examples plans examples"
hh_done
