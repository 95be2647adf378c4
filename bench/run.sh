#!/usr/bin/env bash
# Runs the benchmarks of bench/ (each bench/*.sh prints Markdown sections,
# "## " headings, on stdout) and writes them to docs/benchmarks.md.
# Benchmarks are never part of `make check`: these machines are shared and
# noisy, so figures are reported as ratios against a reference measured in
# the same run, not asserted.
#
#   bench/run.sh            every bench; rewrites docs/benchmarks.md whole, with the machine
#   bench/run.sh pg status  only bench/pg.sh and bench/status.sh (`make bench BENCH="pg status"`):
#                           each section they print replaces the one of the same heading,
#                           where it is (a new one goes at the end); the rest is left as it was
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/benchmarks.md
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.new"' EXIT

run() {
  echo "running $1" >&2
  bash "$1"
  echo
}

# Every section of $tmp.new in place of its namesake in $out, or after the last. A section
# is kept without its trailing blank lines, and one blank line parts it from the next.
splice() {
  awk -v new="$tmp.new" '
    function trim(t) { sub(/\n+$/, "\n", t); return t }
    BEGIN {
      while ((getline line < new) > 0) {
        if (line ~ /^## /) { head = line; order[++n] = head }
        if (head != "") sec[head] = sec[head] line "\n"
      }
      for (h in sec) sec[h] = trim(sec[h])
    }
    /^## / { skip = 0; if ($0 in sec) { printf "%s\n", sec[$0]; done[$0] = 1; skip = 1; next } }
    /^# / { skip = 0 }
    !skip { print }
    END { for (i = 1; i <= n; i++) if (!done[order[i]]) printf "\n%s", sec[order[i]] }
  ' "$out" >"$tmp"
}

if [ $# -eq 0 ]; then
  {
    echo "# Benchmarks"
    echo
    echo "Made by \`make bench\` on $(date -u +%Y-%m-%d) — $(nproc) cores,"\
         "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),"\
         "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')."
    echo "Each figure is a ratio against a reference measured in the same run on the same machine."
    echo "\`make bench BENCH=name\` reruns bench/name.sh alone and replaces only its sections."
    echo
    for b in bench/*.sh; do
      case $(basename "$b") in run.sh | lib.sh) continue ;; esac
      run "$b"
    done
  } >"$tmp"
else
  for name in "$@"; do
    [ -f "bench/$name.sh" ] || { echo "bench: no bench/$name.sh" >&2; exit 2; }
  done
  for name in "$@"; do run "bench/$name.sh"; done >"$tmp.new"
  splice
fi
cat "$tmp" >"$out"
echo "wrote $out" >&2
