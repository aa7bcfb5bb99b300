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

install:
	./scripts/install.sh $(PREFIX)

test: all
	./scripts/test.sh

clean:
	rm -rf bin

.PHONY: all programs install test clean
