# chatvault — one static binary: civetweb + SQLite + cJSON + libsodium (+ OpenSSL for TLS).
#
#   make            build build/chatvault (installs missing Debian build packages, fetches vendor/)
#   make run        build, then serve on 127.0.0.1:8080 with a demo database (./chatvault-demo.db)
#   make test       build release + ASan/UBSan binaries and run every test (tests/run.py)
#   make test-long  everything again with the long fault/load parts, then the suites under
#                   valgrind, then docs/reliability.md from the results
#   make bench      benchmarks (bench/run.sh), never part of the test command
#   make fuzz       libFuzzer harnesses, long runs
#   make clean
SHELL   := /bin/bash
CC      ?= gcc
PYTHON  ?= /usr/bin/python3
VERSION := 0.1.0
B       := build
CW      := vendor/src/civetweb
CJ      := vendor/src/cjson

WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
INC     := -Isrc -I$(CW)/include -I$(CJ) -I$(B)/gen
DEFS    := -D_GNU_SOURCE -DCV_VERSION='"$(VERSION)"' -DCJSON_NESTING_LIMIT=128
# civetweb compiled with only what we use: no CGI/SSI/Lua/file serving; websockets; OpenSSL 3 TLS.
CW_DEFS := -DALTERNATIVE_QUEUE -DMG_PRESPAWN_WORKERS=8 -DNO_CGI -DNO_SSI -DNO_FILES -DUSE_WEBSOCKET -DUSE_IPV6 -DOPENSSL_API_3_0 -DNO_SSL_DL -DNDEBUG -DSOCKET_TIMEOUT_QUANTUM=200
CW_WARN := -w
LIBS    := -Wl,-Bstatic -lsqlite3 -lsodium -lssl -lcrypto -Wl,-Bdynamic -lpthread -lm

REL_FLAGS  := -std=c11 -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2
ASAN_FLAGS := -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined

SRCS     := $(wildcard src/*.c)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
HDRS     := $(wildcard src/*.h)
WEB      := $(shell find src/web -type f 2>/dev/null | sort)
UNIT     := $(wildcard tests/unit/test_*.c)

.PHONY: all asan run test test-long bench deps vendor clean check-ldd unit
all: $(B)/chatvault

deps:
	@tools/deps.sh
$(B)/.deps: tools/deps.sh
	@tools/deps.sh
	@mkdir -p $(B) && touch $@
vendor/src/.stamp: vendor/versions vendor/fetch.sh $(wildcard vendor/patches/*.patch) | $(B)/.deps
	@vendor/fetch.sh
vendor: vendor/src/.stamp

# --- embedded assets: schema.sql and src/web/* (each web file also gzipped, with an ETag)
$(B)/tools/embed: tools/embed.c | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<
$(B)/gen/embedded.c: $(B)/tools/embed schema.sql $(WEB)
	@mkdir -p $(B)/gen
	$(B)/tools/embed $@ schema.sql=schema.sql $(foreach f,$(WEB),web/$(patsubst src/web/%,%,$(f))=$(f))

# --- vendor objects (third-party code: their own warnings are not ours to fix)
$(B)/%/civetweb.o: vendor/src/.stamp Makefile
	@mkdir -p $(dir $@)
	$(CC) $(if $(findstring asan,$*),$(ASAN_FLAGS),$(REL_FLAGS)) $(CW_DEFS) $(CW_WARN) -I$(CW)/include -c $(CW)/src/civetweb.c -o $@
$(B)/%/cJSON.o: vendor/src/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(if $(findstring asan,$*),$(ASAN_FLAGS),$(REL_FLAGS)) -DCJSON_NESTING_LIMIT=128 -w -c $(CJ)/cJSON.c -o $@

# --- our objects
REL_OBJS  := $(patsubst src/%.c,$(B)/rel/%.o,$(LIB_SRCS)) $(B)/rel/embedded.o $(B)/rel/civetweb.o $(B)/rel/cJSON.o
ASAN_OBJS := $(patsubst src/%.c,$(B)/asan/obj/%.o,$(LIB_SRCS)) $(B)/asan/obj/embedded.o $(B)/asan/obj/civetweb.o $(B)/asan/obj/cJSON.o

$(B)/rel/%.o: src/%.c $(HDRS) vendor/src/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(REL_FLAGS) $(WARN) $(DEFS) $(INC) -c $< -o $@
$(B)/asan/obj/%.o: src/%.c $(HDRS) vendor/src/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) $(WARN) $(DEFS) $(INC) -c $< -o $@
$(B)/rel/embedded.o: $(B)/gen/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_FLAGS) -Isrc -c $< -o $@
$(B)/asan/obj/embedded.o: $(B)/gen/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -Isrc -c $< -o $@

$(B)/chatvault: $(REL_OBJS) $(B)/rel/main.o
	$(CC) $(REL_FLAGS) -o $@ $^ $(LIBS)
	@$(MAKE) --no-print-directory check-ldd
$(B)/asan/chatvault: $(ASAN_OBJS) $(B)/asan/obj/main.o
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LIBS)
asan: $(B)/asan/chatvault $(patsubst tests/unit/%.c,$(B)/asan/tests/%,$(UNIT))

# The release binary's only dynamic dependencies are libc and libm.
check-ldd:
	@extra=$$(ldd $(B)/chatvault | grep -vE 'linux-vdso|ld-linux|libc\.so|libm\.so' || true); \
	if [ -n "$$extra" ]; then echo "unexpected dynamic dependencies: $$extra" >&2; exit 1; fi

# --- unit tests: one binary per tests/unit/test_*.c, linked with everything but main.c
$(B)/asan/tests/%: tests/unit/%.c tests/unit/tinytest.h $(ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) $(WARN) $(DEFS) $(INC) -Itests/unit -o $@ $< $(ASAN_OBJS) $(LIBS)
unit: asan
	@for t in $(B)/asan/tests/test_*; do $$t || exit 1; done

run: $(B)/chatvault
	$(B)/chatvault serve --db ./chatvault-demo.db --demo

test: $(B)/chatvault asan
	@tools/deps.sh test
	$(PYTHON) tests/run.py

test-long: $(B)/chatvault asan
	@tools/deps.sh test
	CHATVAULT_LONG=1 $(PYTHON) tests/run.py
	$(MAKE) --no-print-directory test-valgrind
	$(PYTHON) tests/report.py

bench: $(B)/chatvault
	@tools/deps.sh bench
	bench/run.sh

clean:
	rm -rf $(B)

# libFuzzer harnesses, valgrind run and the reliability report (issue 5)
include tests/fuzz/fuzz.mk
