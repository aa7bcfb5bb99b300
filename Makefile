# The one build command: `make` builds bin/famfs, bin/mkfs.famfs, bin/pcq and
# bin/libfamfs-preload.so (the zero-copy preload library, C, libc only).
# `make install PREFIX=/usr/local` runs scripts/install.sh: the program and
# its helper names (mkfs.famfs, fsck.famfs, mount.famfs), the library in
# PREFIX/lib where `famfs run` finds it, man pages and completions.
GO ?= go
CC ?= gcc
CFLAGS ?= -O2
PREFIX ?= /usr/local
# dlsym is in libc from glibc 2.34 (Debian 12 has 2.36); older: make LDLIBS=-ldl
LDLIBS ?=
export GOTOOLCHAIN ?= local

PRELOAD_SRC := $(wildcard preload/*.c)
PRELOAD_HDR := $(wildcard preload/*.h)
PRELOAD_FLAGS := -fPIC -shared -Wall -Wextra -Werror -fvisibility=hidden

all: programs bin/libfamfs-preload.so

# Static binaries (no cgo): a famfs command starts about a millisecond
# sooner without the dynamic loader, and runs on any Linux host as it is.
programs:
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/...

bin/libfamfs-preload.so: $(PRELOAD_SRC) $(PRELOAD_HDR)
	@mkdir -p bin
	$(CC) $(CFLAGS) $(PRELOAD_FLAGS) -o $@ $(PRELOAD_SRC) $(LDLIBS)

# The preload library's C unit tests (preload/test): the descriptor table
# and the grant reply parser under AddressSanitizer and UndefinedBehavior-
# Sanitizer, the descriptor table again under ThreadSanitizer with threads
# hitting it at once. scripts/test.sh runs them.
PRELOAD_TEST_FLAGS := -O1 -g -Wall -Wextra -Werror -pthread -fno-omit-frame-pointer -Ipreload
PRELOAD_ASAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FDTABLE_TEST_SRC := preload/test/fdtable_test.c preload/fdtab.c preload/fdtable.c preload/sys.c preload/log.c
GRANT_TEST_SRC := preload/test/grant_parse_test.c preload/grant.c preload/sys.c preload/log.c

preload-test: $(PRELOAD_SRC) $(PRELOAD_HDR) $(wildcard preload/test/*.c)
	@mkdir -p bin/preload-test
	$(CC) $(PRELOAD_TEST_FLAGS) $(PRELOAD_ASAN) -o bin/preload-test/fdtable-asan $(FDTABLE_TEST_SRC)
	$(CC) $(PRELOAD_TEST_FLAGS) $(PRELOAD_ASAN) -o bin/preload-test/grant-parse-asan $(GRANT_TEST_SRC)
	$(CC) $(PRELOAD_TEST_FLAGS) -fsanitize=thread -o bin/preload-test/fdtable-tsan $(FDTABLE_TEST_SRC)
	bin/preload-test/fdtable-asan
	bin/preload-test/grant-parse-asan
	TSAN_OPTIONS=halt_on_error=1 bin/preload-test/fdtable-tsan 4 50000

install:
	./scripts/install.sh $(PREFIX)

test: all
	./scripts/test.sh

clean:
	rm -rf bin

.PHONY: all programs preload-test install test clean
