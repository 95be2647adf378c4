#!/usr/bin/env bash
# run.sh BINARY CORPUS_DIR SECONDS - one libFuzzer target under make check:
# replays the committed corpus (every input must pass), then explores for
# SECONDS in a scratch copy so the tree is never written by a test run.
# New crashers are left in the scratch directory, whose path is printed.
# By hand, longer: tests/fuzz/run.sh build-fuzz/fuzz_router tests/fuzz/corpus/fuzz_router 600
set -euo pipefail
bin=$1 corpus=$2 secs=$3
scratch=$(mktemp -d "${TMPDIR:-/tmp}/hh-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/corpus"
if [ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ]; then
  cp "$corpus"/* "$scratch/corpus/"
  "$bin" -runs=0 "$scratch/corpus" 2>"$scratch/replay.log" || {
    tail -30 "$scratch/replay.log" >&2
    echo "fuzz: a committed corpus input fails" >&2
    exit 1
  }
fi
if ! "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$scratch/" "$scratch/corpus" 2>"$scratch/fuzz.log"; then
  tail -40 "$scratch/fuzz.log" >&2
  trap - EXIT
  echo "fuzz: crash found; inputs kept in $scratch" >&2
  exit 1
fi
grep -E '^#[0-9]+.*DONE' "$scratch/fuzz.log" | tail -1 || true
