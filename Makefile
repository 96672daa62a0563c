# chatvault — one static binary: civetweb + SQLite + cJSON + libsodium (+ OpenSSL for TLS)
# + dqlite and libuv (the cluster, issue 14).
#
#   make            build build/chatvault (installs missing Debian build packages, fetches vendor/)
#   make run        build, then serve on 127.0.0.1:8080 with a demo database (./chatvault-demo.db)
#   make test       build release + ASan/UBSan binaries and run every test (tests/run.py)
#   make test-cluster  the cluster suite alone (tests/cluster: nodes in network namespaces; root)
#   make test-long  everything again with the long fault/load parts, then the suites under
#                   valgrind, then docs/reliability.md from the results
#   make bench      benchmarks (bench/run.sh), never part of the test command
#   make bench-wal  WAL bytes per append with SQLite's secure_delete off/fast/on
#   make bench-append  one append through the store on threads of 20 and 20,000 messages
#   make bench-append-batch  what the search index costs an append, by the writer's batch size
#   make bench-edit  a message edit, regenerate and edit-and-resend on threads of 20 and 20,000
#   make bench-export  export of 1,000,000 messages: MB/s and peak RSS (bench/export.sh)
#   make bench-import  import of a 200 MB ChatGPT file: conversations/s and peak RSS (bench/import.sh)
#   make bench-events  1,000 event streams under 1,000 appends/s: delivery, latency, RSS (bench/events.py)
#   make bench-changes  GET /api/v1/changes replaying 100,000 changes: changes/s (bench/changes.py)
#   make fuzz       libFuzzer harnesses, long runs
#   make install    the binary, chatvault(1), the systemd units and the env file under PREFIX
#                   (/usr/local; DESTDIR for staging); make uninstall removes them
#   make deb        build/chatvault_<version>_<arch>.deb (dpkg-deb)
#   make clean
SHELL   := /bin/bash
CC      ?= gcc
PYTHON  ?= /usr/bin/python3
VERSION := 0.1.0
B       := build
CW      := vendor/src/civetweb
CJ      := vendor/src/cjson
SQ      := vendor/src/sqlite3-amalgamation
DQ      := vendor/src/dqlite

WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
# the vendored sqlite3.h first: every #include <sqlite3.h> gets the SQLite compiled in (3.46.1)
INC     := -I$(SQ) -Isrc -I$(CW)/include -I$(CJ) -I$(DQ)/include -I$(B)/gen
DEFS    := -D_GNU_SOURCE -DCV_VERSION='"$(VERSION)"' -DCJSON_NESTING_LIMIT=128
# civetweb compiled with only what we use: no CGI/SSI/Lua/file serving; websockets; OpenSSL 3 TLS.
CW_DEFS := -DALTERNATIVE_QUEUE -DMG_PRESPAWN_WORKERS=8 -DNO_CGI -DNO_SSI -DNO_FILES -DUSE_WEBSOCKET -DUSE_IPV6 -DOPENSSL_API_3_0 -DNO_SSL_DL -DNDEBUG -DSOCKET_TIMEOUT_QUANTUM=200
CW_WARN := -w
# SQLite 3.46.1 compiled in from the amalgamation (vendor/sqlite3-amalgamation.sh); every option
# with its reason and measurement in vendor/README.md. HAVE_*: what configure finds on Debian
# (sqlite3.c is compiled without its config header); no malloc_usable_size, as in Debian.
SQ_DEFS := -DSQLITE_DQS=0 -DSQLITE_THREADSAFE=2 -DSQLITE_DEFAULT_MEMSTATUS=0 \
           -DSQLITE_ENABLE_FTS5 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_DEPRECATED \
           -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_LIKE_DOESNT_MATCH_BLOBS -DSQLITE_USE_ALLOCA \
           -DSQLITE_STRICT_SUBTYPE=1 \
           -DHAVE_FDATASYNC=1 -DHAVE_USLEEP=1 -DHAVE_LOCALTIME_R=1 -DHAVE_GMTIME_R=1 \
           -DHAVE_ISNAN=1 -DHAVE_STRCHRNUL=1
LIBS    := -Wl,-Bstatic -lsodium -lssl -lcrypto -Wl,-Bdynamic -lpthread -lm
# dqlite (with its raft) and libuv, static archives built by vendor/build-lib.sh; on every link of
# the src/ objects, after the objects and before $(LIBS). Their sqlite3_* references resolve to
# the sqlite3.o already on the line (no second SQLite); vendor/README.md.
DQ_LIBS := $(B)/vendor/dqlite/libdqlite.a $(B)/vendor/libuv/libuv_a.a

REL_FLAGS  := -std=c11 -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2
ASAN_FLAGS := -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined -DCV_TEST_HOOKS

SRCS     := $(wildcard src/*.c)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
HDRS     := $(wildcard src/*.h)
WEB      := $(shell find src/web -type f 2>/dev/null | sort)
UNIT     := $(wildcard tests/unit/test_*.c)

.PHONY: all asan run test test-cluster test-long bench bench-wal bench-append bench-append-batch deps vendor clean check-ldd check-layers unit
all: $(B)/chatvault

deps:
	@tools/deps.sh
$(B)/.deps: tools/deps.sh
	@tools/deps.sh
	@mkdir -p $(B) && touch $@
vendor/src/.stamp: vendor/versions vendor/fetch.sh $(wildcard vendor/patches/*.patch) | $(B)/.deps
	@vendor/fetch.sh
# sqlite3.c/sqlite3.h from the full SQLite tree (configure + make sqlite3.c, needs tclsh):
# once per fetch, kept in vendor/src/ so `make clean` does not redo it
$(SQ)/.stamp: vendor/src/.stamp vendor/sqlite3-amalgamation.sh
	@vendor/sqlite3-amalgamation.sh
vendor: vendor/src/.stamp $(SQ)/.stamp

# dqlite and libuv with their own build systems and flags, never with sanitizers (the ASan
# binary links these same archives): dqlite against our sqlite3.h, so after the amalgamation;
# the two are independent and build side by side under -j2 (~1 min of CPU together). Rebuilt
# only when the sources, the amalgamation or the script change; `make clean` removes them.
# `+`: the inner make (and cmake's) takes its job slots from this make's jobserver.
$(B)/vendor/libuv/libuv_a.a: vendor/src/.stamp vendor/build-lib.sh | $(B)/.deps
	+@CC='$(CC)' vendor/build-lib.sh libuv $(B)/vendor/libuv
$(B)/vendor/dqlite/libdqlite.a: vendor/src/.stamp $(SQ)/.stamp vendor/build-lib.sh | $(B)/.deps
	+@CC='$(CC)' vendor/build-lib.sh dqlite $(B)/vendor/dqlite

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
# SQLite is instrumented in the ASan build too (ASan and UBSan inside SQLite; about 2 min of
# compile per fresh build), except UBSan's object-size check: GCC 12 reports a false positive
# in balance_nonroot, `(nNew>nOld ? apNew : apOld)[nOld-1]` with nOld in 1..3 indexing arrays
# of 5 and 3 pointers (found by tests/cli/test_import_legacy.py's 100k import).
# Its default C dialect (gnu), not -std=c11.
SQ_ASAN := -fno-sanitize=object-size
$(B)/%/sqlite3.o: $(SQ)/.stamp Makefile
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -std=c11,$(if $(findstring asan,$*),$(ASAN_FLAGS) $(SQ_ASAN),$(REL_FLAGS))) $(SQ_DEFS) -w -c $(SQ)/sqlite3.c -o $@

# --- our objects
REL_OBJS  := $(patsubst src/%.c,$(B)/rel/%.o,$(LIB_SRCS)) $(B)/rel/embedded.o $(B)/rel/civetweb.o $(B)/rel/cJSON.o $(B)/rel/sqlite3.o
ASAN_OBJS := $(patsubst src/%.c,$(B)/asan/obj/%.o,$(LIB_SRCS)) $(B)/asan/obj/embedded.o $(B)/asan/obj/civetweb.o $(B)/asan/obj/cJSON.o $(B)/asan/obj/sqlite3.o

$(B)/rel/%.o: src/%.c $(HDRS) vendor/src/.stamp $(SQ)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(REL_FLAGS) $(WARN) $(DEFS) $(INC) -c $< -o $@
$(B)/asan/obj/%.o: src/%.c $(HDRS) vendor/src/.stamp $(SQ)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) $(WARN) $(DEFS) $(INC) -c $< -o $@
$(B)/rel/embedded.o: $(B)/gen/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_FLAGS) -Isrc -c $< -o $@
$(B)/asan/obj/embedded.o: $(B)/gen/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -Isrc -c $< -o $@

$(B)/chatvault: $(REL_OBJS) $(B)/rel/main.o $(DQ_LIBS)
	$(CC) $(REL_FLAGS) -o $@ $^ $(LIBS)
	@$(MAKE) --no-print-directory check-ldd
$(B)/asan/chatvault: $(ASAN_OBJS) $(B)/asan/obj/main.o $(DQ_LIBS)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LIBS)
asan: $(B)/asan/chatvault $(patsubst tests/unit/%.c,$(B)/asan/tests/%,$(UNIT))

# The store interface's line (store.h, store_backend.h): above store.c nothing sees SQL. Only the
# SQLite backend (db.c, db_file.c, store_*.c but store.c) and the dqlite client that the
# cluster's backend will run its SQL through (dqclient.c) include sqlite3.h, db.h, store_conv.h
# or store_backend.h; store.c the last; cli.c (opens the store, runs check and backup) db.h;
# version.c (prints SQLite's version) sqlite3.h; cluster_data.c (a cluster's database as a
# file: backup, check, restore) is the backend's too.
LAYER_BACKEND := src/db.c src/db.h src/db_conn.h src/db_file.c src/db_remote.c src/db_remote.h src/dqclient.c src/dqclient.h src/cluster_data.c $(filter-out src/store.c src/store.h,$(wildcard src/store_*.c src/store_*.h))
check-layers:
	@bad=$$(grep -lE '#include [<"](sqlite3|db|store_conv|store_backend)\.h[>"]' \
	    $(filter-out $(LAYER_BACKEND),$(wildcard src/*.c src/*.h)) | while read f; do \
	  case "$$f" in \
	    src/store.c) grep -qE '#include [<"](sqlite3|db|store_conv)\.h' $$f && echo $$f ;; \
	    src/cli.c) grep -qE '#include [<"](sqlite3|store_conv|store_backend)\.h' $$f && echo $$f ;; \
	    src/version.c) grep -qE '#include [<"](db|store_conv|store_backend)\.h' $$f && echo $$f ;; \
	    *) echo $$f ;; \
	  esac; done); \
	if [ -n "$$bad" ]; then echo "check-layers: SQL seen above store.c in: $$bad" >&2; exit 1; fi; \
	echo "check-layers: ok"

# The release binary's only dynamic dependencies are libc and libm.
check-ldd:
	@extra=$$(ldd $(B)/chatvault | grep -vE 'linux-vdso|ld-linux|libc\.so|libm\.so' || true); \
	if [ -n "$$extra" ]; then echo "unexpected dynamic dependencies: $$extra" >&2; exit 1; fi

# --- unit tests: one binary per tests/unit/test_*.c, linked with everything but main.c
$(B)/asan/tests/%: tests/unit/%.c tests/unit/tinytest.h tests/unit/store_fixture.h tests/unit/dqnode_fixture.h tests/unit/freeport.h $(ASAN_OBJS) $(DQ_LIBS) $(SQ)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) $(WARN) $(DEFS) $(INC) -Itests/unit -o $@ $< $(ASAN_OBJS) $(DQ_LIBS) $(LIBS)
unit: asan
	@for t in $(B)/asan/tests/test_*; do $$t || exit 1; done

run: $(B)/chatvault
	$(B)/chatvault serve --db ./chatvault-demo.db --demo

test: $(B)/chatvault asan check-layers
	@tools/deps.sh test
	$(PYTHON) tests/run.py

# the cluster's suite alone (also part of `make test`): nodes in network namespaces (needs root)
test-cluster: $(B)/chatvault asan
	$(PYTHON) tests/run.py --no-unit tests/cluster/test_*.py

test-long: $(B)/chatvault asan
	@tools/deps.sh test
	CHATVAULT_LONG=1 $(PYTHON) tests/run.py
	$(MAKE) --no-print-directory test-valgrind
	$(PYTHON) tests/report.py

bench: $(B)/chatvault $(B)/bench/append_cost
	@tools/deps.sh bench
	bench/run.sh

# WAL bytes per append with secure_delete OFF/FAST/ON (figures in vendor/README.md)
$(B)/bench/wal_bytes: bench/wal_bytes.c $(B)/rel/sqlite3.o
	@mkdir -p $(dir $@)
	$(CC) $(REL_FLAGS) $(WARN) -D_GNU_SOURCE -I$(SQ) -o $@ $< $(B)/rel/sqlite3.o -lpthread -lm
bench-wal: $(B)/bench/wal_bytes
	$(B)/bench/wal_bytes 20 $${TMPDIR:-/tmp}

# one append through the real store on threads of 20 and 20,000 messages (issue 9)
$(B)/bench/append_cost: bench/append_cost.c bench/drop_triggers.h $(REL_OBJS) $(DQ_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(REL_FLAGS) $(WARN) $(DEFS) $(INC) -o $@ $< $(REL_OBJS) $(DQ_LIBS) $(LIBS)
bench-append: $(B)/bench/append_cost
	$(B)/bench/append_cost $${TMPDIR:-/tmp}

# appends to one thread from 8, 64, 200 threads through the store, with and without the
# search index: CPU per append (issue 11)
$(B)/bench/append_batch: bench/append_batch.c bench/drop_triggers.h $(REL_OBJS) $(DQ_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(REL_FLAGS) $(WARN) $(DEFS) $(INC) -o $@ $< $(REL_OBJS) $(DQ_LIBS) $(LIBS)
bench-append-batch: $(B)/bench/append_batch
	$(B)/bench/append_batch $${TMPDIR:-/tmp}

# a message edit, a regenerate's store part and an edit-and-resend on threads of 20 and 20,000
# messages (issue 13)
.PHONY: bench-edit
$(B)/bench/edit_cost: bench/edit_cost.c $(REL_OBJS) $(DQ_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(REL_FLAGS) $(WARN) $(DEFS) $(INC) -o $@ $< $(REL_OBJS) $(DQ_LIBS) $(LIBS)
bench-edit: $(B)/bench/edit_cost
	$(B)/bench/edit_cost $${TMPDIR:-/tmp}

# search (issue 11): bench/search.sh fills 1,000,000 messages through the API (cached under /tmp)
# and measures search, the LIKE scan beside it, index size, append with/without the index and
# deep pages. search_cost runs the server's own queries: zSearchSql, zMessageSql extracted from the source.
.PHONY: bench-search
$(B)/bench/search_sql.h: src/store_search.c
	@mkdir -p $(dir $@)
	awk '/^#define SEARCH_ROWID_SLOTS /{print} /^static const char z(Search|Message)Sql\[\] =/{p=1} p{print} p && /;[[:space:]]*$$/{p=0}' $< >$@
	@[ "$$(grep -c -E 'z(Search|Message)Sql' $@)" = 2 ] || { echo "zSearchSql/zMessageSql not found in $<" >&2; rm -f $@; exit 1; }
$(B)/bench/search_cost: bench/search_cost.c bench/drop_triggers.h $(B)/bench/search_sql.h $(B)/rel/store_fts.o $(B)/rel/util.o $(B)/rel/sqlite3.o
	@mkdir -p $(dir $@)
	$(CC) $(REL_FLAGS) $(WARN) $(DEFS) $(INC) -I$(B)/bench -o $@ $< $(B)/rel/store_fts.o $(B)/rel/util.o $(B)/rel/sqlite3.o $(LIBS)
bench-search: $(B)/chatvault $(B)/bench/search_cost
	@tools/deps.sh bench
	bench/search.sh

# export (issue 12): bench/export.sh fills one user with 1,000,000 messages (cached under /tmp),
# then times GET /api/v1/export (MB/s, the server's peak RSS) and `chatvault export`
.PHONY: bench-export
bench-export: $(B)/chatvault
	bench/export.sh

.PHONY: bench-import
bench-import: $(B)/chatvault
	bench/import.sh

# sync (changes and events): bench/events.py opens 1,000 event streams under 1,000 appends/s
# (delivery, commit-to-delivery latency, the server's RSS); bench/changes.py replays 100,000
# changes through GET /api/v1/changes (changes/s). python3 stdlib only.
.PHONY: bench-events bench-changes
bench-events: $(B)/chatvault
	$(PYTHON) bench/events.py

bench-changes: $(B)/chatvault
	$(PYTHON) bench/changes.py

# --- install (issue 15): the binary, the man page (printed by the binary from its option table),
# the systemd units (dist/, @BINDIR@ and @SYSCONFDIR@ filled in) and the env file, which an
# existing one is never replaced by. PREFIX=/usr puts the units in /lib/systemd/system and the
# env file in /etc (what the .deb installs); any other PREFIX keeps all under PREFIX (systemd
# reads /usr/local/lib/systemd/system too). NOBUILD=1 installs the binary BIN as it is, building
# nothing (the tests). `make deb`: the same tree under PREFIX=/usr, packed with dpkg-deb.
PREFIX     ?= /usr/local
DESTDIR    ?=
BIN        ?= $(B)/chatvault
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DIST_UNITS := chatvault.service chatvault-backup.service chatvault-backup.timer
.PHONY: install uninstall deb
install: $(if $(NOBUILD),,$(BIN))
	@[ -x "$(BIN)" ] || { echo "install: $(BIN) is not built (make)" >&2; exit 1; }
	install -d -m 755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/chatvault
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/chatvault
	$(BIN) --man | gzip -9n >$(DESTDIR)$(MANDIR)/man1/chatvault.1.gz.tmp
	mv $(DESTDIR)$(MANDIR)/man1/chatvault.1.gz.tmp $(DESTDIR)$(MANDIR)/man1/chatvault.1.gz
	chmod 644 $(DESTDIR)$(MANDIR)/man1/chatvault.1.gz
	for u in $(DIST_UNITS); do \
	  sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/$$u >$(DESTDIR)$(UNITDIR)/$$u.tmp && \
	  chmod 644 $(DESTDIR)$(UNITDIR)/$$u.tmp && mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/chatvault/chatvault.env ]; then \
	  echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/chatvault/chatvault.env"; \
	else install -m 644 dist/chatvault.env $(DESTDIR)$(SYSCONFDIR)/chatvault/chatvault.env; fi
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/chatvault $(DESTDIR)$(MANDIR)/man1/chatvault.1.gz
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(DIST_UNITS))
	@if [ -f $(DESTDIR)$(SYSCONFDIR)/chatvault/chatvault.env ] && cmp -s dist/chatvault.env $(DESTDIR)$(SYSCONFDIR)/chatvault/chatvault.env; then \
	  rm -f $(DESTDIR)$(SYSCONFDIR)/chatvault/chatvault.env; rmdir $(DESTDIR)$(SYSCONFDIR)/chatvault 2>/dev/null || true; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/chatvault/chatvault.env ]; then \
	  echo "uninstall: keeping the changed $(DESTDIR)$(SYSCONFDIR)/chatvault/chatvault.env"; fi

# The .deb: version DEB_VERSION (default VERSION: `make deb DEB_VERSION=0.1.1` for a test upgrade),
# compressed with DEB_COMPRESS (xz; the tests use gzip, 10x faster),
# Depends on the newest glibc symbol version the binary uses; maintainer scripts in dist/debian/.
DEB_VERSION ?= $(VERSION)
DEB_COMPRESS ?= xz
DEB_ARCH    := $(shell dpkg --print-architecture 2>/dev/null)
DEB_ROOT    := $(B)/deb/chatvault_$(DEB_VERSION)_$(DEB_ARCH)
deb: $(if $(NOBUILD),,$(BIN))
	@[ -n "$(DEB_ARCH)" ] || { echo "deb: dpkg --print-architecture failed" >&2; exit 1; }
	rm -rf $(DEB_ROOT) && mkdir -p $(DEB_ROOT)/DEBIAN $(DEB_ROOT)/usr/share/doc/chatvault
	$(MAKE) --no-print-directory -s install NOBUILD=1 BIN=$(BIN) PREFIX=/usr DESTDIR=$(abspath $(DEB_ROOT))
	strip --strip-unneeded $(DEB_ROOT)/usr/bin/chatvault
	install -m 644 dist/debian/copyright $(DEB_ROOT)/usr/share/doc/chatvault/copyright
	printf 'chatvault (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' '$(DEB_VERSION)' '$(DEB_VERSION)' \
	  "$$(sed -n 's/^Maintainer: //p' dist/debian/control)" "$$(date -R)" | gzip -9n >$(DEB_ROOT)/usr/share/doc/chatvault/changelog.gz
	chmod 644 $(DEB_ROOT)/usr/share/doc/chatvault/changelog.gz
	glibc=$$(objdump -T $(BIN) | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1); \
	sed -e 's|@VERSION@|$(DEB_VERSION)|' -e 's|@ARCH@|$(DEB_ARCH)|' -e "s|@GLIBC@|$$glibc|" \
	    -e "s|@SIZE@|$$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1)|" dist/debian/control >$(DEB_ROOT)/DEBIAN/control
	install -m 644 dist/debian/conffiles $(DEB_ROOT)/DEBIAN/conffiles
	install -m 755 dist/debian/postinst dist/debian/prerm dist/debian/postrm $(DEB_ROOT)/DEBIAN/
	dpkg-deb --root-owner-group -Z$(DEB_COMPRESS) --build $(DEB_ROOT) $(B)/chatvault_$(DEB_VERSION)_$(DEB_ARCH).deb

clean:
	rm -rf $(B)

# libFuzzer harnesses, valgrind run and the reliability report (issue 5)
include tests/fuzz/fuzz.mk
