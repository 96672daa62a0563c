# tests/fuzz/fuzz.mk — libFuzzer harnesses (clang + libclang-rt-14-dev), included by the Makefile.
#
#   make fuzz-build   build build/fuzz/fuzz_* (clang -fsanitize=fuzzer,address,undefined)
#   make fuzz-smoke   replay tests/fuzz/regressions/, then run each harness FZ_SMOKE_SECS (15 s)
#   make fuzz         long runs: FZ_SECS (600 s) per harness, corpus kept in build/fuzz/corpus/
#   make test-valgrind      the API and CLI suites under valgrind memcheck (long)
#   make reliability-report docs/reliability.md from the last test run
# The test command runs the smoke part through tests/run.py (EXTRA_SUITES: tests/fuzz/run_smoke.py,
# which builds the harnesses itself when clang is installed).
#
# Objects: every src/*.c but main.c, plus the generated embedded.c, civetweb, cJSON (and SQLite), compiled
# with clang -fsanitize=fuzzer-no-link,address,undefined into build/fuzz/obj/ (one build, shared
# by all harnesses). Needs vendor/ fetched and build/gen/embedded.c (rules in the Makefile).
FZ_CC        ?= clang
FZ_DIR       := build/fuzz
FZ_HARNESS   := $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
FZ_BINS      := $(addprefix $(FZ_DIR)/,$(FZ_HARNESS))
FZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FZ_CFLAGS    := -std=c11 -O1 -g $(FZ_SAN) -fsanitize=fuzzer-no-link
FZ_INC       := -Ivendor/src/sqlite3-amalgamation -Isrc -Ivendor/src/civetweb/include -Ivendor/src/cjson -Ivendor/src/dqlite/include -Ibuild/gen -Itests/fuzz
FZ_DEFS      := -D_GNU_SOURCE -DCV_VERSION='"fuzz"' -DCJSON_NESTING_LIMIT=128
# the Makefile's civetweb options when it defines them (same civetweb as the server)
FZ_CW_DEFS    = $(or $(CW_DEFS),-DNO_CGI -DNO_SSI -DNO_FILES -DUSE_WEBSOCKET -DUSE_IPV6 -DOPENSSL_API_3_0 -DNO_SSL_DL -DNDEBUG)
# dqlite and libuv: the Makefile's archives (DQ_LIBS), uninstrumented, as every binary links them
FZ_LIBS      := $(DQ_LIBS) -lsodium -lssl -lcrypto -lpthread -lm
# SQLite from the amalgamation with the Makefile's options, not instrumented: the harnesses
# fuzz our parsers, not SQLite (the ASan build instruments it for the suites), and clang with
# ASan+UBSan needs ~4 min of CPU for sqlite3.c against ~1 min plain
FZ_SQ_DEFS    = $(or $(SQ_DEFS),-DSQLITE_DQS=0 -DSQLITE_THREADSAFE=2 -DSQLITE_ENABLE_FTS5 -DSQLITE_OMIT_LOAD_EXTENSION -DHAVE_USLEEP=1)
FZ_SRCS      := $(filter-out src/main.c,$(wildcard src/*.c))
FZ_OBJS      := $(patsubst src/%.c,$(FZ_DIR)/obj/%.o,$(FZ_SRCS)) $(FZ_DIR)/obj/embedded.o \
                $(FZ_DIR)/obj/civetweb.o $(FZ_DIR)/obj/cJSON.o $(FZ_DIR)/obj/sqlite3.o
FZ_SMOKE_SECS ?= 15
FZ_SECS      ?= 600

.PHONY: fuzz-build fuzz fuzz-smoke
.SECONDARY: $(FZ_OBJS)

$(FZ_DIR)/obj/%.o: src/%.c $(wildcard src/*.h) vendor/src/.stamp vendor/src/sqlite3-amalgamation/.stamp
	@mkdir -p $(dir $@)
	$(FZ_CC) $(FZ_CFLAGS) $(FZ_DEFS) $(FZ_INC) -c $< -o $@
$(FZ_DIR)/obj/embedded.o: build/gen/embedded.c
	@mkdir -p $(dir $@)
	$(FZ_CC) $(FZ_CFLAGS) -Isrc -c $< -o $@
$(FZ_DIR)/obj/civetweb.o: vendor/src/.stamp
	@mkdir -p $(dir $@)
	$(FZ_CC) $(FZ_CFLAGS) $(FZ_CW_DEFS) -w -Ivendor/src/civetweb/include -c vendor/src/civetweb/src/civetweb.c -o $@
$(FZ_DIR)/obj/cJSON.o: vendor/src/.stamp
	@mkdir -p $(dir $@)
	$(FZ_CC) $(FZ_CFLAGS) -DCJSON_NESTING_LIMIT=128 -w -c vendor/src/cjson/cJSON.c -o $@
$(FZ_DIR)/obj/sqlite3.o: vendor/src/sqlite3-amalgamation/.stamp
	@mkdir -p $(dir $@)
	$(FZ_CC) -O1 -g $(FZ_SQ_DEFS) -w -c vendor/src/sqlite3-amalgamation/sqlite3.c -o $@
$(FZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FZ_OBJS) $(DQ_LIBS)
	$(FZ_CC) -std=c11 -O1 -g $(FZ_SAN) -fsanitize=fuzzer -Wall -Wextra $(FZ_DEFS) $(FZ_INC) \
	  -o $@ $< $(FZ_OBJS) $(FZ_LIBS)

fuzz-build: $(FZ_BINS)

# Bounded: regressions replayed, then each harness for FZ_SMOKE_SECS on one core.
fuzz-smoke: fuzz-build
	FUZZ_SECS=$(FZ_SMOKE_SECS) tests/fuzz/run_smoke.py

# Long: each harness FZ_SECS, growing build/fuzz/corpus/<name> (seeded from tests/fuzz/corpus).
fuzz: fuzz-build
	FUZZ_SECS=$(FZ_SECS) FUZZ_KEEP_CORPUS=1 tests/fuzz/run_smoke.py

# --- the other issue-5 targets (kept here so that one `include` brings them all) -------------
.PHONY: test-valgrind reliability-report
# The API and CLI suites with every chatvault process under valgrind memcheck (long: minutes).
test-valgrind: build/chatvault
	tests/valgrind/run.sh
# docs/reliability.md from the last run's build/test-results.json (run the tests first).
reliability-report:
	/usr/bin/python3 tests/report.py
