#!/usr/bin/env bash
# test_cli_admin.sh - the operator's `happyhorse admin` (contract section 7)
# driven as an operator would: the real binary on a real data directory.
# Every command, its JSON on stdout, and its exit status on every kind of
# mistake (0 success, 1 runtime failure, 2 bad usage, one line on stderr).
. "$(dirname "$0")/lib.sh"

unset HAPPYHORSE_DATA HAPPYHORSE_DATABASE_URL HAPPYHORSE_PLANS
DATA="$HH_TMP/data"
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
KEY_RE='^hh_live_[A-Za-z0-9_-]{43}$'

# admin ARGS... : the command under test on this test's data directory.
admin() { "$HH_BIN" admin "$@" --data "$DATA"; }

# expect STATUS ARGS... : admin ARGS fails with STATUS, nothing on stdout,
# exactly one line on stderr naming the command.
expect() {
  local want=$1
  shift
  assert_exit "$want" admin "$@"
  assert_eq "" "$RUN_OUT" "stdout of failing 'admin $*'"
  assert_eq 1 "$(printf '%s\n' "$RUN_ERR" | wc -l)" "stderr lines of 'admin $*': $RUN_ERR"
  assert_match '^happyhorse admin' "$RUN_ERR" "stderr of 'admin $*'"
}

# ---- help and dispatch ----
assert_exit 0 "$HH_BIN" admin --help
assert_contains "$RUN_OUT" "user" "admin --help"
assert_exit 2 "$HH_BIN" admin
assert_exit 2 "$HH_BIN" admin bogus
assert_exit 2 "$HH_BIN" admin user
assert_exit 2 "$HH_BIN" admin user bogus
for cmd in "user create" "user show" "user api-access" "user ledger" "key create" "key list" \
  "key delete" "credits grant" "plan set"; do
  # shellcheck disable=SC2086
  assert_exit 0 "$HH_BIN" admin $cmd --help
  assert_match "^usage: happyhorse admin $cmd " "$RUN_OUT" "$cmd --help"
  assert_contains "$RUN_OUT" "--data DIR" "$cmd --help"
done
assert_exit 0 "$HH_BIN" admin key --help
assert_contains "$RUN_OUT" "delete" "key --help"
[ ! -e "$DATA" ] || fail "help created the data directory"

# ---- user create / show ----
assert_exit 0 admin user create --email ann@example.com --plan pro --credits 250
assert_match "$UUID_RE" "$RUN_OUT" "user create prints the id"
ANN=$RUN_OUT
assert_eq 700 "$(stat -c %a "$DATA")" "data directory mode"
[ -f "$DATA/happyhorse.db" ] || fail "no database file in $DATA"

assert_exit 0 admin user show --email ANN@Example.COM
SHOW=$RUN_OUT
assert_json "$SHOW" .id "$ANN"
assert_json "$SHOW" .email ann@example.com
assert_json "$SHOW" .plan pro
assert_json "$SHOW" .credits 250
assert_json "$SHOW" .apiAccess true
assert_match "$TIME_RE" "$(jq -r .createdAt <<<"$SHOW")" createdAt
assert_json "$SHOW" 'keys_unsorted | join(",")' "id,email,plan,credits,apiAccess,createdAt,disabled"
assert_json "$SHOW" .disabled false "a new user is not suspended"

# --credits is a grant in the ledger, not a bare balance.
assert_exit 0 admin user ledger --email ann@example.com
assert_json "$RUN_OUT" length 1
assert_json "$RUN_OUT" '.[0].kind' grant
assert_json "$RUN_OUT" '.[0].amount' 250
assert_json "$RUN_OUT" '.[0].balanceAfter' 250

# Defaults: plan free, API access on, no credits, no ledger rows.
assert_exit 0 admin user create --email bob@example.com
BOB=$RUN_OUT
assert_ne "$ANN" "$BOB" "ids differ"
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .plan free
assert_json "$RUN_OUT" .credits 0
assert_json "$RUN_OUT" .apiAccess true
assert_exit 0 admin user ledger --email bob@example.com
assert_json "$RUN_OUT" length 0
assert_exit 0 admin user create --email carol@example.com --credits 0 --no-api-access
assert_exit 0 admin user show --email carol@example.com
assert_json "$RUN_OUT" .apiAccess false
assert_json "$RUN_OUT" .credits 0

# Mistakes.
expect 1 user create --email ann@example.com
expect 1 user create --email ANN@EXAMPLE.COM --plan basic
expect 1 user show --email nobody@example.com
expect 2 user show
expect 2 user show --email
expect 2 user show --email not-an-email
expect 2 user show --email "a b@example.com"
expect 2 user show --email ann@example.com --bogus
expect 2 user show --email ann@example.com extra
expect 2 user create --email dan@example.com --plan gold
expect 2 user create --email dan@example.com --credits -1
expect 2 user create --email dan@example.com --credits 1.5
expect 2 user create --email dan@example.com --credits ten
expect 2 user create --email dan@example.com --on
assert_exit 1 admin user show --email dan@example.com

# ---- passwords ----
expect 2 user create --email dan@example.com --password-stdin <<<short
expect 2 user create --email dan@example.com --password-stdin </dev/null
expect 2 user create --email dan@example.com --password-stdin <<<"$(printf 'x%.0s' {1..1100})"
assert_exit 0 admin user create --email dan@example.com --password-stdin <<<'correct horse battery'
assert_match "$UUID_RE" "$RUN_OUT" "user create --password-stdin prints the id"
if command -v sqlite3 >/dev/null; then
  HASH=$(sqlite3 "$DATA/happyhorse.db" "SELECT password_hash FROM users WHERE email = 'dan@example.com'")
  assert_match '^\$argon2id\$v=19\$m=19456,t=2,p=1\$' "$HASH" "stored password hash"
  assert_not_contains "$HASH" "correct horse" "stored password hash"
  NOPW=$(sqlite3 "$DATA/happyhorse.db" "SELECT count(*) FROM users WHERE password_hash IS NULL")
  assert_eq 3 "$NOPW" "users without a password"
fi

# ---- api-access ----
assert_exit 0 admin user api-access --email bob@example.com --off
assert_eq "" "$RUN_OUT" "api-access prints nothing"
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .apiAccess false
expect 1 key create --email bob@example.com
assert_exit 0 admin user api-access --email bob@example.com --on
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .apiAccess true
expect 2 user api-access --email bob@example.com
expect 2 user api-access --email bob@example.com --on --off
expect 1 user api-access --email nobody@example.com --on

# ---- keys ----
assert_exit 0 admin key create --email ann@example.com --name ci
assert_match "$KEY_RE" "$RUN_OUT" "key create prints the key alone"
assert_eq 1 "$(printf '%s\n' "$RUN_OUT" | wc -l)" "key create prints one line"
K1=$RUN_OUT
assert_exit 0 admin key create --email ann@example.com
K2=$RUN_OUT
assert_match "$KEY_RE" "$K2" "second key"
assert_ne "$K1" "$K2" "keys differ"
if command -v sqlite3 >/dev/null; then
  DUMP=$(sqlite3 "$DATA/happyhorse.db" .dump)
  assert_not_contains "$DUMP" "${K1#hh_live_}" "the database holds no secret"
fi

assert_exit 0 admin key list --email ann@example.com
LIST=$RUN_OUT
assert_json "$LIST" length 2
assert_json "$LIST" '.[0].name' default
assert_json "$LIST" '.[1].name' ci
assert_json "$LIST" '.[1].prefix' "${K1:0:12}"
assert_json "$LIST" '.[0].prefix' "${K2:0:12}"
assert_json "$LIST" '.[0].lastUsedAt' null
assert_json "$LIST" '.[0] | keys_unsorted | join(",")' "id,name,prefix,createdAt,lastUsedAt"
assert_match "$TIME_RE" "$(jq -r '.[1].createdAt' <<<"$LIST")" "key createdAt"
ID1=$(jq -r '.[1].id' <<<"$LIST")
assert_match "$UUID_RE" "$ID1" "key id"
assert_exit 0 admin key list --email bob@example.com
assert_json "$RUN_OUT" length 0

expect 1 key delete --email bob@example.com --id "$ID1"
assert_exit 0 admin key delete --email ann@example.com --id "$ID1"
assert_eq "" "$RUN_OUT" "key delete prints nothing"
assert_exit 0 admin key list --email ann@example.com
assert_json "$RUN_OUT" length 1
assert_json "$RUN_OUT" '.[0].prefix' "${K2:0:12}"
expect 1 key delete --email ann@example.com --id "$ID1"
expect 2 key delete --email ann@example.com --id not-a-key-id
expect 2 key delete --email ann@example.com
expect 1 key delete --email nobody@example.com --id "$ID1"
expect 1 key create --email nobody@example.com
expect 1 key list --email nobody@example.com
expect 2 key create --email ann@example.com --name "$(printf 'n%.0s' {1..128})"
expect 2 key list --email ann@example.com --name x

# ---- credits ----
assert_exit 0 admin credits grant --email bob@example.com --amount 40 --note "welcome pack"
assert_json "$RUN_OUT" .credits 40
assert_json "$RUN_OUT" .granted 40
assert_json "$RUN_OUT" .email bob@example.com
assert_exit 0 admin credits grant --email bob@example.com --amount 2
assert_json "$RUN_OUT" .credits 42
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .credits 42
assert_exit 0 admin user ledger --email bob@example.com
assert_json "$RUN_OUT" length 2
assert_json "$RUN_OUT" '.[1].note' "welcome pack"
assert_json "$RUN_OUT" '.[0].note' null
assert_json "$RUN_OUT" '[.[].amount] | add' 42
for bad in 0 -5 1.5 abc "" 1e3 " 7" 0x10 9999999999999999999; do
  expect 2 credits grant --email bob@example.com --amount "$bad"
done
expect 2 credits grant --email bob@example.com
expect 2 credits grant --email bob@example.com --amount 5 --bogus
expect 2 credits grant --email bob@example.com --amount 5 --note "$(printf 'n%.0s' {1..256})"
expect 1 credits grant --email nobody@example.com --amount 5
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .credits 42 "refused grants changed nothing"

# Ledger pages.
assert_exit 0 admin user ledger --email bob@example.com --limit 1
assert_json "$RUN_OUT" length 1
assert_json "$RUN_OUT" '.[0].amount' 2
NEXT=$(jq -r '.[0].id' <<<"$RUN_OUT")
assert_exit 0 admin user ledger --email bob@example.com --limit 1 --before "$NEXT"
assert_json "$RUN_OUT" '.[0].amount' 40
expect 2 user ledger --email bob@example.com --limit 0
expect 2 user ledger --email bob@example.com --limit 1001
expect 2 user ledger --email bob@example.com --before x
expect 1 user ledger --email nobody@example.com

# ---- plans ----
assert_exit 0 admin plan set --email bob@example.com --plan max
assert_eq "" "$RUN_OUT" "plan set prints nothing"
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .plan max
expect 2 plan set --email bob@example.com --plan gold
expect 2 plan set --email bob@example.com --plan ""
expect 2 plan set --email bob@example.com
expect 1 plan set --email nobody@example.com --plan pro

# A plans file adds a plan; --plans and HAPPYHORSE_PLANS both read it.
cat >"$HH_TMP/plans.json" <<'JSON'
{"plans": [
  {"name": "free", "maxDurationSec": 5, "requestsPerMinute": 30, "jobsInFlight": 1,
   "allow": {"1080p": false, "sourceImage": true, "lastFrame": false,
             "referenceVideo": false, "referenceAudio": false},
   "creditsPerSecond": {"720p": 10, "1080p": 20}},
  {"name": "gold", "maxDurationSec": 10, "requestsPerMinute": 100, "jobsInFlight": 3,
   "allow": {"1080p": true, "sourceImage": true, "lastFrame": false,
             "referenceVideo": false, "referenceAudio": false},
   "creditsPerSecond": {"720p": 10, "1080p": 20}}
]}
JSON
assert_exit 0 admin plan set --email bob@example.com --plan gold --plans "$HH_TMP/plans.json"
assert_exit 0 admin user show --email bob@example.com
assert_json "$RUN_OUT" .plan gold
HAPPYHORSE_PLANS="$HH_TMP/plans.json" assert_exit 0 admin user create --email eve@example.com \
  --plan gold
HAPPYHORSE_PLANS="$HH_TMP/plans.json" assert_exit 2 admin plan set --email eve@example.com \
  --plan pro
echo '{not json' >"$HH_TMP/broken.json"
expect 1 plan set --email bob@example.com --plan pro --plans "$HH_TMP/broken.json"
expect 1 plan set --email bob@example.com --plan pro --plans "$HH_TMP/missing.json"

# ---- where the store is ----
# HAPPYHORSE_DATA when there is no --data; ./data when neither.
HAPPYHORSE_DATA="$DATA" assert_exit 0 "$HH_BIN" admin user show --email ann@example.com
assert_json "$RUN_OUT" .id "$ANN"
mkdir "$HH_TMP/cwd"
(cd "$HH_TMP/cwd" && "$HH_BIN" admin user create --email local@example.com >/dev/null) ||
  fail "user create with the default data directory"
[ -f "$HH_TMP/cwd/data/happyhorse.db" ] || fail "default data directory is not ./data"
# --data wins over HAPPYHORSE_DATA.
HAPPYHORSE_DATA="$HH_TMP/cwd/data" assert_exit 0 admin user show --email ann@example.com
# HAPPYHORSE_DATABASE_URL wins when set; PostgreSQL is refused (1), its password never printed.
HAPPYHORSE_DATABASE_URL="postgres://hh:s3cr3t@db.example/hh" assert_exit 1 admin user show \
  --email ann@example.com
assert_contains "$RUN_ERR" "PostgreSQL" "postgres refusal"
assert_not_contains "$RUN_ERR" "s3cr3t" "postgres refusal"
# A data path that cannot be a directory.
touch "$HH_TMP/file"
assert_exit 1 "$HH_BIN" admin user show --email ann@example.com --data "$HH_TMP/file"

# Everything done above left the data intact across processes.
assert_exit 0 admin user show --email ann@example.com
assert_json "$RUN_OUT" .credits 250
assert_json "$RUN_OUT" .plan pro

hh_done
