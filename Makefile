# The two commands a new user needs: `make run` and `make test`.
# Everything installs what is missing first (scripts/install-deps).

SHELL := /bin/bash
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 12
CTEST_ARGS ?=

.PHONY: run build dev test unit fuzz fuzz-build bench format tidy clean deps

run: build
	./build/release/sockit serve

deps:
	@scripts/install-deps all

build:
	@scripts/install-deps build
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

dev:
	@scripts/install-deps test
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)

# Unit + interop tests under ASan/UBSan, then every fuzz target for a bounded time.
test: dev fuzz
	ctest --preset dev $(CTEST_ARGS)

fuzz-build:
	@scripts/install-deps test
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

fuzz: fuzz-build
	@scripts/run-fuzzers $(FUZZ_SECONDS)

bench: build
	@scripts/install-deps bench
	bash bench/run

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'bench/*.cpp' 'bench/*.c')

tidy: dev
	clang-tidy -p build/dev $$(git ls-files 'src/*.cpp')

clean:
	rm -rf build
