# estafeta: one program for the whole mail system.
#   make            build/estafeta (optimised, with debug symbols)
#   make run        install build dependencies, build, start a demo instance under ./var/demo
#   make test       install test dependencies, build with ASan+UBSan, run unit and integration tests
#   make bench      install benchmark dependencies (Postfix), build, print the comparisons
#   make fuzz       build the libFuzzer targets and run each for FUZZ_SECONDS
#   make install    install to $(DESTDIR)$(PREFIX)/sbin with sendmail and mailq links, and
#                   /usr/sbin/sendmail, /usr/lib/sendmail (FORCE=yes: over another MTA's)
# BUILD chooses the output folder, so several builds (test, fuzz, a helper's) never collide.

BUILD ?= build
PREFIX ?= /usr/local
CC ?= cc
OPT ?= -O2 -g
SAN ?=
FUZZ_SECONDS ?= 30
FORCE ?= no
ALTERNATIVES ?= auto

WARN = -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wformat=2
CPPFLAGS += -Isrc -D_GNU_SOURCE $(shell pkg-config --cflags libxml-2.0)
CFLAGS += -std=c11 $(OPT) $(WARN) $(SAN) -MMD -MP
LDLIBS = -levent_core -levent_openssl -levent_pthreads -lssl -lcrypto -lsqlite3 -lcrypt \
         -lcares -lidn2 -lidn -lunistring -lz -lpthread -lgpgme -lxml2
CMOCKA = -lcmocka

# Library sources: everything under src except the entry point, tests and fuzzers.
LIB_SRC := $(shell find src -name '*.c' ! -name 'test-*' ! -name main.c | sort)
TEST_SRC := $(shell find src -name 'test-*.c' | sort)
FUZZ_SRC := $(wildcard fuzz/fuzz-*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(patsubst src/%.c,$(BUILD)/tests/%,$(TEST_SRC))

.PHONY: all run test unit integration bench fuzz install clean deps-build deps-test deps-bench

all: $(BUILD)/estafeta

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libestafeta.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/estafeta: $(BUILD)/obj/src/cli/main.o $(BUILD)/libestafeta.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/src/%.o $(BUILD)/libestafeta.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS) $(CMOCKA)

deps-build:
	@scripts/install-deps.sh build
deps-test:
	@scripts/install-deps.sh test
deps-bench:
	@scripts/install-deps.sh bench

run: deps-build
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

# The test build lives in build/test, with sanitizers; the tests drive that binary.
TEST_BUILD = build/test
TEST_FLAGS = BUILD=$(TEST_BUILD) OPT="-O1 -g -fno-omit-frame-pointer" \
             SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
test: deps-test
	@/usr/bin/python3 scripts/check-test-deps.py
	@$(MAKE) --no-print-directory $(TEST_FLAGS) $(TEST_BUILD)/estafeta test-binaries
	@$(MAKE) --no-print-directory $(TEST_FLAGS) unit
	@$(MAKE) --no-print-directory $(TEST_FLAGS) integration

test-binaries: $(TEST_BIN)

unit: $(TEST_BIN)
	@scripts/run-unit-tests.sh $(TEST_BIN)

integration: $(BUILD)/estafeta
	ESTAFETA_BIN=$(abspath $(BUILD)/estafeta) /usr/bin/python3 -m pytest -q tests/integration

bench: deps-bench
	@$(MAKE) --no-print-directory all
	@bench/run.sh

# Fuzz targets link the library built with clang's fuzzer instrumentation.
FUZZ_BUILD = build/fuzz
fuzz:
	@scripts/install-deps.sh fuzz
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g" \
	  SAN="-fsanitize=fuzzer-no-link,address,undefined" fuzz-binaries
	@scripts/run-fuzzers.sh $(FUZZ_SECONDS) $(patsubst fuzz/%.c,$(FUZZ_BUILD)/fuzz/%,$(FUZZ_SRC))

fuzz-binaries: $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

$(BUILD)/fuzz/%: fuzz/%.c $(BUILD)/libestafeta.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer $^ -o $@ $(LDLIBS)

# Another mail system's /usr/sbin/sendmail is replaced only with FORCE=yes (see scripts/install.sh).
install: all
	@DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" FORCE="$(FORCE)" ALTERNATIVES="$(ALTERNATIVES)" \
	  scripts/install.sh $(BUILD)/estafeta

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
