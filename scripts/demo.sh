#!/usr/bin/env bash
# The famfs demo on an emulated device. One machine plays two hosts, a master
# and a client: separate processes with different system UUIDs, each with its
# own FUSE mount of one device file in /dev/shm. Needs root (FUSE mounts).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
BIN=$PWD/bin
WORK=${WORK:-/tmp/famfs-demo}
DEV=${DEV:-/dev/shm/famfs-demo.img}
MASTER=5a5a5a5a-0000-4000-8000-00000000000a
CLIENT=5b5b5b5b-0000-4000-8000-00000000000b
M=$WORK/master   # the master host's mount
C=$WORK/client   # the client host's mount

master() { FAMFS_SYSTEM_UUID=$MASTER "$@"; }
client() { FAMFS_SYSTEM_UUID=$CLIENT "$@"; }
say() { printf '\n== %s\n' "$*"; }
cleanup() {
	for mp in "$C" "$M"; do
		grep -q " $mp fuse.famfs " /proc/mounts 2>/dev/null && "$BIN/famfs" umount "$mp" || true
	done
	rm -f "$DEV"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then echo "the demo mounts FUSE file systems: run it as root"; exit 1; fi
say "building famfs and mkfs.famfs"
go build -o "$BIN/" ./cmd/famfs ./cmd/mkfs.famfs ./examples/twohosts

say "mkfs.famfs on $DEV (an 8 GiB sparse file standing in for /dev/dax0.0), run by the master host"
cleanup
mkdir -p "$M" "$C"
master "$BIN/mkfs.famfs" --size 8g "$DEV" | sed -n '2,5p'

say "each host mounts the device (one FUSE daemon per host)"
master "$BIN/famfs" mount "$DEV" "$M"
client "$BIN/famfs" mount "$DEV" "$C"
grep " fuse.famfs " /proc/mounts

say "the master makes a directory, copies a file in and creates a striped file of seeded data"
head -c 20000000 /dev/urandom > "$WORK/input.bin"
master "$BIN/famfs" mkdir -p "$M/shared/results"
master "$BIN/famfs" cp -v "$WORK/input.bin" "$M/shared/"
master "$BIN/famfs" creat -s 64m -N 4 -B 8 -r -S 42 "$M/shared/results/striped.dat"

say "the client sees them at once (its daemon polls the log; no logplay needed)"
ls -lR "$C/shared"
cmp "$WORK/input.bin" "$C/shared/input.bin" && echo "client read of shared/input.bin: identical to the master's source"
client "$BIN/famfs" verify -S 42 -f "$C/shared/results/striped.dat"
client "$BIN/famfs" getmap "$C/shared/results/striped.dat"

say "the client maps the files through the library: one slice that is the shared memory"
client "$BIN/twohosts" -role client "$DEV" 2>&1 | tail -n +2 || true

say "the client may read but not change anything"
if (echo hi > "$C/shared/input.bin") 2>/dev/null; then echo "unexpected write"; exit 1; fi
echo "write through the client mount: refused (read-only file system)"
if client "$BIN/famfs" mkdir "$C/shared/nope" 2>/dev/null; then echo "unexpected mkdir"; exit 1; fi
echo "famfs mkdir on the client: refused (not the master)"

say "fsck through the client mount, and the client daemon's status"
client "$BIN/famfs" fsck "$C" | sed -n '/Log stats/,$p'
client "$BIN/famfs" status "$C" | grep -E '"(role|replay_next|log_fill|read_only)"'

say "unmounting"
"$BIN/famfs" umount "$C"
"$BIN/famfs" umount "$M"
echo "demo done"
