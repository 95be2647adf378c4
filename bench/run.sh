#!/usr/bin/env bash
# Runs every benchmark of bench/ (each bench/*.sh prints a Markdown section
# on stdout) and writes them, with the machine's description, to
# docs/benchmarks.md. Benchmarks are never part of `make check`: these
# machines are shared and noisy, so figures are reported as ratios against
# a reference measured in the same run, not asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/benchmarks.md
tmp=$(mktemp)
{
  echo "# Benchmarks"
  echo
  echo "Made by \`make bench\` on $(date -u +%Y-%m-%d) — $(nproc) cores,"\
       "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),"\
       "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')."
  echo "Each figure is a ratio against a reference measured in the same run on the same machine."
  echo
  for b in bench/*.sh; do
    case $(basename "$b") in run.sh | lib.sh) continue ;; esac
    echo "running $b" >&2
    bash "$b"
    echo
  done
} >"$tmp"
mv "$tmp" "$out"
echo "wrote $out" >&2
