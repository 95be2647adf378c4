# lib.sh - shared helpers for the API tests (tests/api/test_*.sh), sourced
# at the top of each:   . "$(dirname "$0")/lib.sh"
#
# Gives: strict mode; HH_BIN (the binary under test; CTest sets it);
# HH_TMP, a fresh temporary directory removed on exit (kept when
# HH_KEEP_TMP=1); hh_on_exit to register more cleanup (servers to stop),
# run in reverse order; fail and assert_* helpers that name the test file
# and line; hh_run / assert_exit to run a command and capture its exit
# status, stdout and stderr; hh_done to print the summary line.
# Generic on purpose: HTTP helpers (server start/stop, curl wrappers) build
# on these.

set -euo pipefail

HH_TEST_NAME=$(basename "$0" .sh)
HH_SRC=${HH_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HH_BIN=${HH_BIN:-$HH_SRC/build/happyhorse}
HH_ASSERTS=0

[ -x "$HH_BIN" ] || { echo "FAIL [$HH_TEST_NAME]: HH_BIN=$HH_BIN is not an executable" >&2; exit 1; }
HH_BIN=$(cd "$(dirname "$HH_BIN")" && pwd)/$(basename "$HH_BIN") # absolute: tests may cd
command -v jq >/dev/null || { echo "FAIL [$HH_TEST_NAME]: jq is required" >&2; exit 1; }

HH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hh-$HH_TEST_NAME.XXXXXX")
_hh_cleanups=()

# hh_on_exit CMD... : run CMD (eval'd) when the test exits, last registered first.
hh_on_exit() { _hh_cleanups+=("$*"); }

_hh_exit() {
  local rc=$? i
  for ((i = ${#_hh_cleanups[@]} - 1; i >= 0; i--)); do
    eval "${_hh_cleanups[i]}" >/dev/null 2>&1 || true
  done
  if [ "${HH_KEEP_TMP:-0}" = 1 ]; then
    echo "kept $HH_TMP" >&2
  else
    rm -rf "$HH_TMP"
  fi
  exit "$rc"
}
trap _hh_exit EXIT

# The file:line of the test code that called into this library.
_hh_where() {
  local i
  for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
    if [ "${BASH_SOURCE[i]}" != "${BASH_SOURCE[0]}" ]; then
      echo "$(basename "${BASH_SOURCE[i]}"):${BASH_LINENO[i - 1]}"
      return
    fi
  done
  echo "?"
}

# fail MESSAGE... : print where and why, then end the test with status 1.
fail() {
  echo "FAIL [$HH_TEST_NAME] $(_hh_where): $*" >&2
  exit 1
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
  HH_ASSERTS=$((HH_ASSERTS + 1))
  [ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

# assert_ne UNEXPECTED ACTUAL [WHAT]
assert_ne() {
  HH_ASSERTS=$((HH_ASSERTS + 1))
  [ "$1" != "$2" ] || fail "${3:-value}: did not expect '$1'"
}

# assert_match REGEX ACTUAL [WHAT]   (bash extended regex, anchored by the caller)
assert_match() {
  HH_ASSERTS=$((HH_ASSERTS + 1))
  [[ $2 =~ $1 ]] || fail "${3:-value}: '$2' does not match /$1/"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
  HH_ASSERTS=$((HH_ASSERTS + 1))
  [[ $1 == *"$2"* ]] || fail "${3:-text}: '$2' not found in '$1'"
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
  HH_ASSERTS=$((HH_ASSERTS + 1))
  [[ $1 != *"$2"* ]] || fail "${3:-text}: '$2' must not appear in '$1'"
}

# has_line LINE TEXT... : LINE is one of the lines of the TEXTs (each TEXT
# may itself hold several lines). Plain bash on purpose: `printf ... | grep -q`
# under pipefail fails at random when grep exits before printf has written
# everything (SIGPIPE), which once failed CI and can make a negative check pass.
has_line() {
  local want=$1 text
  shift
  text=$(printf '%s\n' "$@")
  [[ $'\n'$text$'\n' == *$'\n'"$want"$'\n'* ]]
}

# assert_status EXPECTED ACTUAL [WHAT] : a status (exit status, HTTP status) equals EXPECTED.
assert_status() {
  HH_ASSERTS=$((HH_ASSERTS + 1))
  [ "$1" = "$2" ] || fail "${3:-status}: expected $1, got $2"
}

# assert_json JSON JQ-FILTER EXPECTED [WHAT] : jq -r FILTER of JSON equals EXPECTED.
assert_json() {
  local got
  got=$(printf '%s' "$1" | jq -r "$2" 2>&1) || fail "${4:-json}: jq '$2' failed on: $1"
  assert_eq "$3" "$got" "${4:-json $2}"
}

# hh_run CMD... : runs CMD; sets RUN_RC, RUN_OUT, RUN_ERR. Never fails itself.
# Stdin is inherited: feed it with a redirection (hh_run cmd <<<text), not a
# pipe, which would run hh_run in a subshell and lose the RUN_* variables.
hh_run() {
  local out="$HH_TMP/.run.out" err="$HH_TMP/.run.err"
  RUN_RC=0
  "$@" >"$out" 2>"$err" || RUN_RC=$?
  RUN_OUT=$(cat "$out")
  RUN_ERR=$(cat "$err")
}

# assert_exit EXPECTED CMD... : runs CMD with hh_run and checks its exit status.
assert_exit() {
  local want=$1
  shift
  hh_run "$@"
  HH_ASSERTS=$((HH_ASSERTS + 1))
  [ "$RUN_RC" = "$want" ] ||
    fail "exit status of '$*': expected $want, got $RUN_RC; stdout: $RUN_OUT; stderr: $RUN_ERR"
}

# hh_done : the last line of a passing test.
hh_done() {
  echo "PASS [$HH_TEST_NAME] $HH_ASSERTS assertions"
}
