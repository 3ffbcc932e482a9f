# staplegate: see README.md. All build output goes under build/.
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
PKGS = openssl libcurl jansson libseccomp
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

CFLAGS ?= -O2 -g
# Always applied, even when CFLAGS comes from the command line (make asan).
# Reason strings live in fixed buffers and are cut on purpose when long,
# hence -Wno-format-truncation.
SG_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-format-truncation \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

ENGINE_SRC = $(wildcard preflight/*.c) $(wildcard acme/*.c)
HOOK_SRC = $(wildcard hook/*.c)
ENGINE_OBJ = $(ENGINE_SRC:%.c=$(BUILD)/%.o)
HOOK_OBJ = $(HOOK_SRC:%.c=$(BUILD)/%.o)
FIXTURE_OBJ = $(BUILD)/tests/fixture.o
# Every tests/*.c is part of the suite except the stand-alone helpers.
TEST_SRC = $(filter-out tests/responder.c tests/mkpki.c tests/shim_enospc.c \
	tests/fixture.c, \
	$(wildcard tests/*.c))
TEST_OBJ = $(TEST_SRC:%.c=$(BUILD)/%.o) $(FIXTURE_OBJ)

FUZZ_TARGETS = staple tlsfeature config strings responder answer
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-Wno-unknown-warning-option
FUZZ_BINS = $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

.PHONY: all deps check test demo asan valgrind install uninstall clean format \
	fuzz fuzz-build fuzz-replay bench browser-check

all: $(BUILD)/staplegate

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SG_CFLAGS) -MMD -MP -c -o $@ $<

# Rebuilt from scratch: a moved or renamed source must not leave its old
# object behind in the archive.
$(BUILD)/libstaplegate.a: $(ENGINE_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/staplegate: $(HOOK_OBJ) $(BUILD)/libstaplegate.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/suite: $(TEST_OBJ) $(BUILD)/libstaplegate.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/tests/responder: $(BUILD)/tests/responder.o \
		$(BUILD)/tests/tresponder.o $(BUILD)/tests/servers.o $(FIXTURE_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Built without sanitizers: it is preloaded into other binaries.
$(BUILD)/tests/shim_enospc.so: tests/shim_enospc.c
	@mkdir -p $(@D)
	cc -O2 -fPIC -shared -Wall -Wextra -Werror -o $@ $< -ldl

$(BUILD)/tests/mkpki: $(BUILD)/tests/mkpki.o $(FIXTURE_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(FIXTURE_OBJ) $(BUILD)/libstaplegate.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/mkseeds: $(BUILD)/tests/fuzz/mkseeds.o $(FIXTURE_OBJ)
	$(CC) $(CFLAGS) -fsanitize=fuzzer-no-link -o $@ $^ $(LDLIBS)

$(BUILD)/bench/history: tests/bench/history.c $(BUILD)/libstaplegate.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SG_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: tests/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SG_CFLAGS) -o $@ $< $(LDLIBS)

# Speed and memory against named baselines, measured in the same run;
# not part of make check.
bench: deps
	@$(MAKE) --no-print-directory $(BUILD)/staplegate $(BUILD)/tests/mkpki \
		$(BUILD)/bench/floor $(BUILD)/bench/sink $(BUILD)/bench/history
	@bash tests/bench/run.sh $(BUILD)

# libFuzzer targets (clang). `make fuzz FUZZ_SECONDS=600` runs each in
# turn; fuzz-replay runs the seeds and tests/fuzz/regressions/ once.
fuzz-build:
	@$(MAKE) --no-print-directory BUILD=build/fuzz-build CC=clang \
		CFLAGS="-O1 -g $(FUZZ_FLAGS)" \
		$(FUZZ_TARGETS:%=build/fuzz-build/fuzz/fuzz_%) \
		build/fuzz-build/fuzz/mkseeds
	@build/fuzz-build/fuzz/mkseeds build/fuzz-corpus

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz-corpus/$$t build/fuzz-findings; \
		echo "== fuzz_$$t for $(FUZZ_SECONDS)s"; \
		build/fuzz-build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=build/fuzz-findings/$$t- -print_final_stats=1 \
			build/fuzz-corpus/$$t tests/fuzz/regressions/$$t 2>&1 | \
			grep -E '^(stat::number_of_executed_units|stat::peak_rss|==|SUMMARY|#[0-9]+ *DONE)' ; \
	done

fuzz-replay: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		build/fuzz-build/fuzz/fuzz_$$t -runs=0 build/fuzz-corpus/$$t \
			tests/fuzz/regressions/$$t >/dev/null 2>&1 || \
			{ echo "fuzz-replay: fuzz_$$t failed"; exit 1; }; \
		echo "fuzz-replay: fuzz_$$t ok"; \
	done

# Installs missing Debian packages when run as root; otherwise only
# reports what is missing.
deps:
	@sh tests/deps.sh

check: deps
	@$(MAKE) --no-print-directory test

test: $(BUILD)/staplegate $(BUILD)/tests/suite $(BUILD)/tests/mkpki \
		$(BUILD)/tests/shim_enospc.so $(BUILD)/tests/responder
	@sh tests/run.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/staplegate $(BUILD)/tests/mkpki \
		$(BUILD)/tests/responder
	@bash tests/demo.sh $(BUILD)

# Firefox ESR (headless, WebDriver BiDi) as an oracle for the verdict,
# against openssl s_server on loopback; not part of make check (.ci/run
# runs it).
browser-check:
	@sh tests/deps.sh browser
	@$(MAKE) --no-print-directory $(BUILD)/staplegate $(BUILD)/tests/mkpki
	@bash tests/browser/run.sh $(BUILD)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan \
		CFLAGS="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" test

valgrind: $(BUILD)/staplegate $(BUILD)/tests/suite $(BUILD)/tests/mkpki \
		$(BUILD)/tests/shim_enospc.so
	@SG_VALGRIND=1 sh tests/run.sh $(BUILD)

DOCDIR = $(DESTDIR)$(PREFIX)/share/doc/staplegate
MANDIR = $(DESTDIR)$(PREFIX)/share/man

install: $(BUILD)/staplegate
	install -d $(DESTDIR)$(PREFIX)/bin $(MANDIR)/man1 $(MANDIR)/man5 $(DOCDIR)
	install -m 0755 $(BUILD)/staplegate $(DESTDIR)$(PREFIX)/bin/staplegate
	install -m 0644 man/staplegate.1 $(MANDIR)/man1/staplegate.1
	install -m 0644 man/staplegate.conf.5 $(MANDIR)/man5/staplegate.conf.5
	install -m 0644 README.md $(DOCDIR)/README.md
	cp -R contrib $(DOCDIR)/contrib

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/staplegate \
		$(MANDIR)/man1/staplegate.1 $(MANDIR)/man5/staplegate.conf.5
	rm -rf $(DOCDIR)

format:
	clang-format -i hook/*.[ch] preflight/*.[ch] acme/*.[ch] tests/*.[ch] \
		tests/fuzz/*.c tests/bench/*.c

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
