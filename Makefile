# staplegate: see README.md. All build output goes under build/.
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
PKGS = openssl libcurl jansson
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
TEST_SRC = tests/test_main.c tests/test_unit.c tests/test_staple.c \
	tests/test_probe.c tests/test_cli.c tests/test_hook.c tests/servers.c \
	tests/tserver.c tests/tresponder.c tests/runcli.c
TEST_OBJ = $(TEST_SRC:%.c=$(BUILD)/%.o) $(FIXTURE_OBJ)

.PHONY: all deps check test demo asan valgrind install uninstall clean format

all: $(BUILD)/staplegate

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SG_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libstaplegate.a: $(ENGINE_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/staplegate: $(HOOK_OBJ) $(BUILD)/libstaplegate.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/suite: $(TEST_OBJ) $(BUILD)/libstaplegate.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/tests/mkpki: $(BUILD)/tests/mkpki.o $(FIXTURE_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Installs missing Debian packages when run as root; otherwise only
# reports what is missing.
deps:
	@sh tests/deps.sh

check: deps
	@$(MAKE) --no-print-directory test

test: $(BUILD)/staplegate $(BUILD)/tests/suite $(BUILD)/tests/mkpki
	@sh tests/run.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/staplegate $(BUILD)/tests/mkpki
	@bash tests/demo.sh $(BUILD)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan \
		CFLAGS="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" test

valgrind: $(BUILD)/staplegate $(BUILD)/tests/suite $(BUILD)/tests/mkpki
	@SG_VALGRIND=1 sh tests/run.sh $(BUILD)

install: $(BUILD)/staplegate
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/staplegate $(DESTDIR)$(PREFIX)/bin/staplegate

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/staplegate

format:
	clang-format -i hook/*.[ch] preflight/*.[ch] tests/*.[ch]

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
