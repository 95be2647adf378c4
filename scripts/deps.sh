#!/usr/bin/env bash
# Installs the Debian packages that building, running and testing HappyHorse
# need, and only those that are missing. Idempotent and quiet when all is
# there, so `make run` and `make check` can call it every time.
set -euo pipefail

# Build: compiler, CMake, pkg-config and the libraries we link.
build_pkgs=(
  build-essential cmake pkg-config
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libargon2-dev libssl-dev libpq-dev
  libcurl4-openssl-dev libcmark-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev
)
# Tests: cmocka for unit tests, clang for libFuzzer, curl/jq/ffprobe for the
# API and media tests, PostgreSQL for the store contract suite, Chromium and
# Node for the dashboard's browser tests, a CJK font so its Chinese pages
# (and their screenshots) show characters instead of boxes.
test_pkgs=(
  libcmocka-dev clang libclang-rt-dev curl jq ffmpeg sqlite3 python3
  postgresql chromium nodejs fonts-wqy-microhei
)
# Benchmarks (bench/): load generator, reference web server, command timer
# (pgbench, for bench/pg.sh, comes with the postgresql server above).
bench_pkgs=(wrk nginx-light hyperfine time)

want=("${build_pkgs[@]}")
case "${1:-all}" in
  build) ;;
  all) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: scripts/deps.sh [build|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm ships inside NodeSource's nodejs but is its own package in Debian's.
case "${1:-all}" in all) command -v npm >/dev/null || missing+=(npm) ;; esac
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
