# Front door for people and CI. Every target installs what is missing first
# (scripts/deps.sh is a no-op when all is there).
#   make build   binary at build/happyhorse
#   make run     build, create a demo account on first start, serve on :8080
#   make check   style check, then every test: plain build, ASan+UBSan build, fuzzers
#   make bench   benchmarks of bench/, results written to docs/benchmarks.md;
#                BENCH="pg status" runs only bench/pg.sh and bench/status.sh and replaces
#                only their sections

JOBS ?= $(shell nproc)
# Keep sub-makes (CMake's) from printing every directory they enter.
MAKEFLAGS += --no-print-directory
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)
FUZZ_SECONDS ?= 30

.PHONY: all deps deps-build build build-asan build-fuzz run check check-style test test-asan test-fuzz bench format clean browser-deps

all: build

deps:
	@scripts/deps.sh all

deps-build:
	@scripts/deps.sh build

build: deps-build
	@cmake -S . -B build -DHH_WERROR=ON >/dev/null
	@cmake --build build -j$(JOBS)

build-asan: deps
	@cmake -S . -B build-asan -DHH_WERROR=ON -DHH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-asan -j$(JOBS)

build-fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DHH_WERROR=ON -DHH_FUZZ=ON -DHH_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@cmake --build build-fuzz -j$(JOBS)

run: build
	@scripts/run.sh

# The dashboard's browser tests: playwright-core from the lockfile (npm ci).
browser-deps: deps
	@tests/browser/setup.sh

check-style:
	@scripts/checksrc.sh

test: deps build browser-deps
	@cd build && ctest $(CTEST_FLAGS)

test-asan: build-asan browser-deps
	@cd build-asan && ctest $(CTEST_FLAGS)

test-fuzz: build-fuzz
	@cd build-fuzz && ctest $(CTEST_FLAGS)

# The plain suite ends the run so its CTest summary is the last thing printed.
check: deps check-style build-asan build-fuzz build test-fuzz test-asan test

bench: build
	@bench/run.sh $(BENCH)

format:
	@clang-format -i $$(git ls-files -co --exclude-standard 'src/*.[ch]' 'tests/*.[ch]')

clean:
	rm -rf build build-asan build-fuzz
