# The hub's one Makefile. `make run` and `make test` are all a person needs;
# both install missing Debian packages first (deps). Objects go under build/.

PKGS     := libevent libevent_openssl libevent_pthreads libcjson libcurl \
            libxml-2.0 libpq openssl
DEB_PKGS := build-essential pkg-config clang libclang-rt-14-dev llvm \
            libevent-dev libssl-dev libcurl4-openssl-dev libxml2-dev \
            libcjson-dev libpq-dev libcriterion-dev postgresql \
            postgresql-contrib pgbouncer openssl curl netcat-openbsd nodejs \
            npm

BUILD    ?= build
CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -MMD -MP \
            -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -pthread \
            -Iadapters -Ihub
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS   += $(PKG_LIBS) -lm -pthread

ifdef SANITIZE                      # make test SANITIZE=address,undefined
BUILD    := build/san
# -O1, as ASan's manual advises: GCC at -O2 with both sanitizers took 352
# CPU-seconds to build the tree (adt.c alone 41), at -O1 half that. -O1
# knows less of a value's range, so -Wformat-truncation, which the -O2
# build enforces, warns of sizes that cannot occur: left to that build.
CFLAGS   += -O1 -Wno-format-truncation -fsanitize=$(SANITIZE) \
            -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

ADAPTER_SRC := $(wildcard adapters/*/*.c)
HUB_MAINS   := hub/hubd.c hub/hubctl.c
HUB_SRC     := $(filter-out $(HUB_MAINS),$(wildcard hub/*.c))
ADAPTER_OBJ := $(ADAPTER_SRC:%.c=$(BUILD)/%.o)
HUB_OBJ     := $(HUB_SRC:%.c=$(BUILD)/%.o)
LIBADAPTERS := $(BUILD)/libadapters.a
LIBHUB      := $(BUILD)/libhub.a

UNIT_SRC    := $(wildcard tests/unit/*_test.c tests/unit/*/*_test.c)
INTEG_SRC   := $(wildcard tests/integration/*_test.c)
E2E_SRC     := $(wildcard tests/e2e/*_test.c)
TESTLIB_SRC := $(wildcard tests/lib/*.c)
FUZZ_SRC    := $(wildcard tests/fuzz/*_fuzz.c)
BENCH_SRC   := $(wildcard tests/bench/*.c)

BINS := $(BUILD)/hubd $(BUILD)/hubctl
TEST_BINS := $(BUILD)/bin/test-unit $(BUILD)/bin/test-integration $(BUILD)/bin/test-e2e \
             $(BUILD)/bin/connect-proxy

.PHONY: all deps build tests run test test-fast fuzz fuzz-build bench lint clean \
        db-start db-stop db-url certs format
all: build
build: $(BINS)
tests: $(TEST_BINS)

# Install what is missing, and nothing when all is present (CI and fresh
# machines run this first; it needs root or sudo). npm counts as present
# when the command is: NodeSource's nodejs ships it, and conflicts with
# Debian's npm package.
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || \
	    { [ $$p = npm ] && command -v npm >/dev/null; } || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@tests/tools/npm-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

# Each archive is made anew: `ar rcs` into an existing one keeps the member
# of a source since removed or renamed, which then shadows its successor
# (round 122: a stale dict.o stood before dict_load.o in libadapters.a).
$(LIBADAPTERS): $(ADAPTER_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBHUB): $(HUB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/hubd: $(BUILD)/hub/hubd.o $(LIBHUB) $(LIBADAPTERS)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/hubctl: $(BUILD)/hub/hubctl.o $(LIBHUB) $(LIBADAPTERS)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/%.o)

$(BUILD)/bin/test-unit: $(UNIT_SRC:%.c=$(BUILD)/%.o) $(TESTLIB_OBJ) $(LIBHUB) $(LIBADAPTERS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcriterion -o $@

$(BUILD)/bin/test-integration: $(INTEG_SRC:%.c=$(BUILD)/%.o) $(TESTLIB_OBJ) $(LIBHUB) $(LIBADAPTERS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcriterion -o $@

$(BUILD)/bin/test-e2e: $(E2E_SRC:%.c=$(BUILD)/%.o) $(TESTLIB_OBJ) $(LIBHUB) $(LIBADAPTERS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcriterion -o $@

# the e2e tests' CONNECT proxy (the hub's egress proxy, webhook_proxy)
$(BUILD)/bin/connect-proxy: $(BUILD)/tests/tools/connect_proxy.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# libFuzzer harnesses: clang, the adapters rebuilt with coverage once, into
# an archive every harness links (each harness compiled them all again:
# minutes of make test)
FUZZ_BUILD := build/fuzz
FUZZ_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 \
               -Iadapters -Ihub $(PKG_CFLAGS) \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJ := $(ADAPTER_SRC:%.c=$(FUZZ_BUILD)/obj/%.o) \
                $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(wildcard hub/mllp.c hub/ingest_split.c))
FUZZ_LIB := $(FUZZ_BUILD)/libfuzzed.a
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^
# the harnesses with the warnings the tree is built with (the adapters'
# objects above are gcc's -Werror build's, and clang's -Wextra asks more)
FUZZ_WARN := -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2
$(FUZZ_BUILD)/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(FUZZ_WARN) -MMD -MP $< $(FUZZ_LIB) $(PKG_LIBS) -lm -o $@

FUZZ_SECONDS ?= 60
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	@tests/tools/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# --- the two commands -----------------------------------------------------
run: deps build
	@deploy/demo.sh

test: deps
	@tests/tools/run-all.sh

# the suite without deps and without the sanitizer pass, for quick loops
test-fast: build tests
	@HUB_TEST_SKIP_SAN=1 HUB_TEST_SKIP_FUZZ=1 tests/tools/run-all.sh

bench: deps build
	@tests/bench/run.sh

db-start:
	@deploy/devdb.sh start
db-stop:
	@deploy/devdb.sh stop
db-url:
	@deploy/devdb.sh url

certs:
	@certs/mkcerts.sh var/certs

lint:
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|sscanf|strncpy)\s*\(' \
	    $$(git ls-files '*.c' '*.h') || { echo "lint: banned function"; exit 1; }
	@echo "lint: ok"

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
