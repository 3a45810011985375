# golive: the two commands are `make demo` and `make check` (README.md).
# This wraps meson + ninja and installs missing Debian packages first.

BUILD_PKGS = gcc make pkg-config meson ninja-build python3 \
             libsqlite3-dev libfyaml-dev libjansson-dev libssl-dev \
             libpq-dev libmariadb-dev libxxhash-dev \
             libmicrohttpd-dev libcurl4-openssl-dev
TEST_PKGS  = libcmocka-dev python3-pytest postgresql mariadb-server \
             chromium chromium-driver python3-selenium fonts-noto-cjk
FUZZ_PKGS  = clang libclang-rt-dev

# WERROR=1 turns warnings into errors (CI); SANITIZE=1 builds with ASan+UBSan.
# `make` and `make demo` build build/, which carries no test points
# (util/crashpoint.h); `make check` and `make check-faults` build a test
# build of their own, build-test/ (build-asan/ under SANITIZE=1, which is
# always a test build), with -Dtest_points=true.
WERROR   ?= 0
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD    ?= build-asan
TEST_BUILD ?= $(BUILD)
MESON_SAN = -Db_sanitize=address,undefined -Db_lundef=false
else
BUILD    ?= build
TEST_BUILD ?= build-test
MESON_SAN =
endif
ifeq ($(TEST_BUILD),$(BUILD))
MESON_POINTS = -Dtest_points=true
else
MESON_POINTS = -Dtest_points=false
endif
ifeq ($(WERROR),1)
MESON_WERROR = -Dwerror=true
else
MESON_WERROR = -Dwerror=false
endif
FUZZ_SECONDS ?= 60
DEMO_ROWS    ?= 100000

.PHONY: all deps test-deps build demo check check-faults check-asan fuzz format format-check bench clean

all: build

deps:
	@sh tools/deps.sh $(BUILD_PKGS)

test-deps:
	@sh tools/deps.sh $(BUILD_PKGS) $(TEST_PKGS)

%/build.ninja:
	meson setup $* $(MESON_SAN) $(MESON_WERROR)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) build.ninja >/dev/null # a folder set up before a new option learns it
	meson configure $(BUILD) $(MESON_WERROR) $(MESON_POINTS) >/dev/null
	ninja -C $(BUILD)

demo: build
	$(BUILD)/golive demo --force --rows $(DEMO_ROWS)

check: test-deps $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD) build.ninja >/dev/null # a folder set up before a new option learns it
	meson configure $(TEST_BUILD) $(MESON_WERROR) -Dtests=enabled -Dtest_points=true >/dev/null
	ninja -C $(TEST_BUILD)
	GOLIVE_SANITIZED=$(SANITIZE) sh tests/run.sh $(TEST_BUILD)

# the sync fault matrix on all nine engine pairs (make check runs three)
check-faults: test-deps $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD) build.ninja >/dev/null # a folder set up before a new option learns it
	meson configure $(TEST_BUILD) $(MESON_WERROR) -Dtests=enabled -Dtest_points=true >/dev/null
	ninja -C $(TEST_BUILD)
	GOLIVE_FAULTS=all GOLIVE_BIN=$(CURDIR)/$(TEST_BUILD)/golive /usr/bin/python3 \
	    -m pytest -q -p no:cacheprovider tests/e2e/test_faults.py

check-asan:
	$(MAKE) check SANITIZE=1

fuzz:
	@sh tools/deps.sh $(BUILD_PKGS) $(FUZZ_PKGS)
	[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz \
	    -Dfuzz=true -Dtests=disabled -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C build-fuzz fuzz-plan fuzz-serve
	sh tests/fuzz/run.sh build-fuzz/fuzz-plan $(FUZZ_SECONDS)
	sh tests/fuzz/run.sh build-fuzz/fuzz-serve $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

format-check:
	@sh tools/deps.sh clang-format
	clang-format --dry-run --Werror $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

clean:
	rm -rf build build-test build-asan build-fuzz golive-demo
