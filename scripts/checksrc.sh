#!/usr/bin/env bash
# Style gate run by `make check` (in the spirit of curl's checksrc):
#  1. every C file is formatted as .clang-format says;
#  2. no banned calls: unbounded or locale/thread-unsafe string functions;
#  3. every C file opens with a block comment saying what it is for.
# Fix formatting with `make format`.
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
mapfile -t files < <(git ls-files -co --exclude-standard 'src/*.[ch]' 'tests/*.[ch]')
[ ${#files[@]} -eq 0 ] && exit 0

if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/checksrc.$$; then
  head -40 /tmp/checksrc.$$ >&2
  echo "checksrc: formatting differs from .clang-format (run make format)" >&2
  fail=1
fi
rm -f /tmp/checksrc.$$

banned='\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|atof|gets|strtok|asctime|ctime|gmtime|localtime|rand|srand)[[:space:]]*\('
if grep -nE "$banned" "${files[@]}"; then
  echo "checksrc: banned function above (use snprintf, strtol-family, *_r, the CSPRNG)" >&2
  fail=1
fi

for f in "${files[@]}"; do
  head -c 2 "$f" | grep -q '/\*' || { echo "checksrc: $f does not open with a block comment" >&2; fail=1; }
done
exit $fail
