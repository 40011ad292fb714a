# idem — plain Makefile.  `make demo` and `make test` install what they need.
#
#   make [all]        build bin/ into $(B)/ (default build/)
#   make test         unit tests, bats suites, then all again under ASan+UBSan
#   make test SANITIZE=1  the suite under ASan+UBSan alone, at full size
#   make demo         a real pipeline on generated data
#   make bench        throughput (1 and all threads), memory and growth against
#                     jq, awk, sort, miller, zstd, DuckDB and a simdjson limit
#   make install      PREFIX=/usr/local DESTDIR=
#   make fmt          clang-format the lines changed since HEAD (fmt-check: fail on them)
#   make SANITIZE=1   build into build-san/ with -fsanitize=address,undefined

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
COMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
VERSION := 0.1.0

CC      ?= cc
CFLAGS  ?= -O2 -g
# lib/par runs records on threads (-j).
CFLAGS  += -pthread
LDFLAGS += -pthread
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wvla -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DIDEM_VERSION='"$(VERSION)"' -Ilib
# zstd, xxHash and zlib come from their archives when the system has all
# three (Debian's are position-independent): three shared objects fewer
# for the loader at every start, which a tool run per commit pays each
# time (txlog --version: 1.39 ms CPU -> 1.18 ms).
ZLIBS   := $(shell pkg-config --libs libzstd libxxhash zlib 2>/dev/null || echo -lzstd -lxxhash -lz)
ZSTATIC := $(shell for l in zstd xxhash z; do f=$$($(CC) -print-file-name=lib$$l.a); [ -f "$$f" ] || exit 0; done; echo yes)
ifeq ($(ZSTATIC),yes)
ZLIBS   := -Wl,-Bstatic $(ZLIBS) -Wl,-Bdynamic
endif
# libjq (and its libonig) is opened by lib/expr.c when a jq program is
# compiled, not linked: -ldl for a libc older than glibc 2.34.
LDLIBS  += $(ZLIBS) -lm -ldl

ifeq ($(SANITIZE),1)
B       ?= build-san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# GCC's libubsan.so holds 6 MB of zeroes that LeakSanitizer scans at
# every exit, a page fault a page: 18 ms a process, the sanitized pass's
# thousands of them.  Linked in, only the parts used come along (clang
# links it so already, and has no such flag).
STATIC_UBSAN := $(shell printf 'int main(void){return 0;}' | \
	$(CC) -fsanitize=address,undefined -static-libubsan -x c -o /dev/null - \
	>/dev/null 2>&1 && echo -static-libubsan)
LDFLAGS += -fsanitize=address,undefined $(STATIC_UBSAN)
else
B       ?= build
endif

ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(CPPFLAGS) -MMD -MP

LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
LIBIDEM  := $(B)/libidem.a
# lib/delta/, the Delta log (txlog's), is its own archive over libidem;
# LIBS links both, delta first (an archive resolves only later ones).
DELTA_SRC := $(wildcard lib/delta/*.c)
LIBDELTA  := $(B)/libdelta.a
LIBS      := $(LIBDELTA) $(LIBIDEM)

# One binary per cmd/NAME.c, or per folder cmd/NAME/ of several files.
TOOLS_C   := $(basename $(notdir $(wildcard cmd/*.c)))
TOOLS_DIR := $(notdir $(patsubst %/,%,$(wildcard cmd/*/)))
TOOLS     := $(TOOLS_C) $(TOOLS_DIR)
BINS      := $(TOOLS:%=$(B)/bin/%)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)
GEN      := $(B)/bin-test/gen
SPAWN    := $(B)/bin-test/spawn

# The harnesses replayed over their corpus by any compiler (make test runs
# them through tests/fuzz.bats, sanitized too); run.sh builds the libFuzzer
# ones with clang as $(B)/fuzz/NAME (B=build-fuzz).
FUZZ_NAMES  := $(filter-out replay,$(basename $(notdir $(wildcard tests/fuzz/*.c))))
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(B)/fuzz-replay/%)

MANS     := $(wildcard man/*.1 man/*.7)

# Packages a fresh Debian 12 needs; installed by `make deps` when missing.
DEB_BUILD := libjq-dev libonig-dev libzstd-dev libxxhash-dev zlib1g-dev pkg-config tzdata
DEB_TEST  := bats bats-support bats-assert jq zstd mandoc parallel zsh python3 openssh-server rsync
# The bench's peers, and the per-core limit (tests/bench/simdjson) built
# from Debian's simdjson with g++: both in the bench set-up only.
DEB_BENCH := miller hyperfine time g++ libsimdjson-dev
DEB_FUZZ  := clang libclang-rt-14-dev
DEB_VALGRIND := valgrind

.PHONY: all deps deps-bench test unit unit-bins bats demo bench install uninstall clean fmt fmt-check lint-man \
        fuzz fuzz-bins reliability valgrind

all: $(BINS) $(GEN) $(SPAWN) $(FUZZ_REPLAY)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBIDEM): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBDELTA): $(DELTA_SRC:%.c=$(B)/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bin/%: $(B)/cmd/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

# Tools that are a folder: every .c in it.
define tool_dir
$(B)/bin/$(1): $(patsubst %.c,$(B)/%.o,$(wildcard cmd/$(1)/*.c)) $(LIBS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBS) $$(LDLIBS)
endef
$(foreach t,$(TOOLS_DIR),$(eval $(call tool_dir,$(t))))
# dlq's schema patterns are Oniguruma's own (cmd/dlq/schema.c)
$(B)/bin/dlq: LDLIBS += -lonig

$(B)/unit/%: $(B)/tests/unit/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

$(GEN): $(B)/tests/bench/gen.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LDLIBS)

$(SPAWN): $(B)/tests/bench/spawn.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $<

.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)

deps:
	@missing=; for p in $(DEB_BUILD) $(DEB_TEST) $(EXTRA_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# DuckDB, the bench's SQL peer, comes from npm (@duckdb/node-api, pinned
# by tests/bench/duckdb/package-lock.json); installed once, when missing.
deps-bench:
	@$(MAKE) --no-print-directory deps EXTRA_DEPS="$(DEB_BENCH)"
	@if [ ! -d tests/bench/duckdb/node_modules/@duckdb/node-api ]; then \
	  if command -v npm >/dev/null 2>&1; then \
	    echo "make deps-bench: npm ci in tests/bench/duckdb"; \
	    (cd tests/bench/duckdb && npm ci --no-audit --no-fund --loglevel=error) || \
	      echo "make deps-bench: npm ci failed: the bench skips DuckDB"; \
	  else echo "make deps-bench: no npm (apt-get install npm): the bench skips DuckDB"; fi; \
	fi
	@$(MAKE) --no-print-directory $(B)/bench/extract

# simdjson On-Demand one-field extraction: make bench's per-core limit.
$(B)/bench/extract: tests/bench/simdjson/extract.cpp
	@mkdir -p $(dir $@)
	$(CXX) -O3 -march=native -std=c++17 -Wall -Wextra -o $@ $< -lsimdjson

unit-bins: $(UNIT_BIN)

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

bats: all
	@IDEM_BIN=$(CURDIR)/$(B)/bin IDEM_GEN=$(CURDIR)/$(GEN) bats --jobs 2 --no-parallelize-within-files tests/*.bats

# The whole suite on the plain build, then all of it again under
# ASan+UBSan with the stress tests shortened (tests/run-all.sh says why);
# make test SANITIZE=1: the sanitized pass alone, at full size.  The kill
# loops and fault-point sweeps are samples of make reliability's
# (tests/README.md lists each and where its long form runs).
test: deps
	@TEST_PASSES=$(if $(filter 1,$(SANITIZE)),sanitized,both) sh tests/run-all.sh build build-san

demo: deps all
	@IDEM_BIN=$(CURDIR)/$(B)/bin IDEM_GEN=$(CURDIR)/$(GEN) sh tests/demo.sh

bench: deps-bench all
	@IDEM_BIN=$(CURDIR)/$(B)/bin IDEM_GEN=$(CURDIR)/$(GEN) \
	  BENCH_EXTRACT=$(CURDIR)/$(B)/bench/extract sh tests/bench/run.sh

# Coverage-guided fuzzing with libFuzzer (clang): every harness in
# tests/fuzz/ for FUZZ_SECONDS each, from its seed corpus.
FUZZ_SECONDS ?= 60
fuzz:
	@$(MAKE) --no-print-directory deps EXTRA_DEPS="$(DEB_FUZZ)"
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

# The fuzz harnesses replayed over their corpus by any compiler: see below.

$(B)/fuzz-replay/%: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/replay.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(B)/tests/fuzz/replay.o $(LIBS) $(LDLIBS)

fuzz-bins: $(FUZZ_NAMES:%=$(B)/fuzz/%)
$(B)/fuzz/%: $(B)/tests/fuzz/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBS) $(LDLIBS)

# Crash points, I/O faults, bad input, security and concurrency: one NDJSON
# line per check, then a summary line.  RELIABILITY=short is the CI form.
# It runs in full what make test samples: every fault point of every
# command, the kill suites at IDEM_LONG=1 (tests/README.md).
reliability: deps all unit-bins $(B)/faults/shim.so $(B)/powercut/rec.so
	@IDEM_BIN=$(CURDIR)/$(B)/bin IDEM_GEN=$(CURDIR)/$(GEN) IDEM_SHIM=$(CURDIR)/$(B)/faults/shim.so \
	  PC_REC=$(CURDIR)/$(B)/powercut/rec.so sh tests/reliability/run.sh

# The LD_PRELOAD shim that injects ENOSPC and EIO (tests/faults/shim.c);
# never sanitized: it is preloaded into plain builds only.
$(B)/faults/shim.so: tests/faults/shim.c tests/preload.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) -O2 -shared -fPIC -o $@ $< -ldl

# The LD_PRELOAD recorder of the crash-state explorer (tests/powercut/);
# never sanitized, like the shim.
$(B)/powercut/rec.so: tests/powercut/rec.c tests/preload.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -shared -fPIC -o $@ $< -ldl

# valgrind memcheck over the commands of the bats suites.
valgrind: all
	@$(MAKE) --no-print-directory deps EXTRA_DEPS="$(DEB_VALGRIND)"
	@IDEM_BIN=$(CURDIR)/$(B)/bin IDEM_GEN=$(CURDIR)/$(GEN) bash tests/reliability/valgrind.sh

install: $(BINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	for m in $(MANS); do case $$m in \
	  *.1) install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/ ;; \
	  *.7) install -m 644 $$m $(DESTDIR)$(MANDIR)/man7/ ;; esac; done
	install -d $(DESTDIR)$(COMPDIR)
	for t in $(TOOLS); do install -m 644 cmd/completion.bash $(DESTDIR)$(COMPDIR)/$$t; done
	install -d $(DESTDIR)$(ZSHCOMPDIR)
	install -m 644 cmd/completion.zsh $(DESTDIR)$(ZSHCOMPDIR)/_idem

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t; done
	for m in $(MANS); do rm -f $(DESTDIR)$(MANDIR)/man*/$$(basename $$m); done
	for t in $(TOOLS); do rm -f $(DESTDIR)$(COMPDIR)/$$t; done
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_idem

lint-man:
	mandoc -Tlint -Wwarning $(MANS)

# .clang-format describes the code as written (tabs, Linux braces, line
# breaks kept where the author put them).  make fmt formats the lines
# changed since HEAD, so it never rewrites code nobody touched; make
# fmt-check fails, with the diff, where a change is not formatted.
FMT_PATHS := lib cmd tests/unit tests/bench tests/fuzz tests/faults
fmt:
	git clang-format --quiet --extensions c,h HEAD -- $(FMT_PATHS)

fmt-check:
	@out=$$(git clang-format --quiet --diff --extensions c,h HEAD -- $(FMT_PATHS)); \
	case "$$out" in ""|*"no modified files"*|*"did not modify"*) ;; \
	*) printf '%s\n' "$$out"; echo "make fmt-check: run make fmt" >&2; exit 1 ;; esac

clean:
	rm -rf build build-san
