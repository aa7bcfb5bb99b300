#!/usr/bin/env bash
# The famfs demo on an emulated device. One machine plays two hosts, a master
# and a client: separate processes with different system UUIDs, each with its
# own FUSE mount of one device file in /dev/shm. Needs root (FUSE mounts).
#
# Whatever happens (success, failure, Ctrl-C), it leaves nothing behind but
# the binaries in bin/: both mounts are unmounted, the device file, the
# scratch directory and the daemons' logs removed.
#
# Environment: BIN (where to build; default bin/), WORK (scratch directory;
# default a new one under /tmp), DEV (the device file; default in /dev/shm).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
BIN=${BIN:-$PWD/bin}
DEV=${DEV:-/dev/shm/famfs-demo-$$.img}
MASTER=5a5a5a5a-0000-4000-8000-00000000000a
CLIENT=5b5b5b5b-0000-4000-8000-00000000000b

master() { FAMFS_SYSTEM_UUID=$MASTER "$@"; }
client() { FAMFS_SYSTEM_UUID=$CLIENT "$@"; }
# step NAME TEXT: say what comes next. FAMFS_DEMO_FAIL_AT=NAME makes the demo
# fail there (the tests check that a failed demo cleans up too).
step() {
	printf '\n== %s\n' "$2"
	if [ "${FAMFS_DEMO_FAIL_AT:-}" = "$1" ]; then
		echo "failing here, as FAMFS_DEMO_FAIL_AT=$1 asks" >&2
		exit 1
	fi
}

if [ "$(id -u)" != 0 ]; then echo "the demo mounts FUSE file systems: run it as root"; exit 1; fi
if [ -e "$DEV" ]; then echo "$DEV exists: set DEV to a path the demo may create and remove"; exit 1; fi
made_work=
if [ -z "${WORK:-}" ]; then
	WORK=$(mktemp -d /tmp/famfs-demo.XXXXXX)
	made_work=1
fi
M=$WORK/master # the master host's mount
C=$WORK/client # the client host's mount

# daemon_log MOUNTPOINT: the mount's daemon log, which famfs keeps after an
# unmount for debugging (mount.LogPath: a hash of the mount point).
daemon_log() { echo "/run/famfs/$(printf %s "$1" | sha256sum | cut -c1-24).log"; }
cleanup() {
	local status=$?
	set +e
	for mp in "$C" "$M"; do
		if grep -q " $mp fuse.famfs " /proc/mounts 2>/dev/null; then
			"$BIN/famfs" umount "$mp" || umount -l "$mp"
		fi
		rm -f "$(daemon_log "$mp")"
	done
	rm -f "$DEV"
	if [ -n "$made_work" ]; then
		rm -rf "$WORK"
	else
		rm -rf "$M" "$C" "$WORK/input.bin"
	fi
	if [ $status -ne 0 ]; then
		echo "demo failed (exit $status); everything it made is removed" >&2
	fi
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step build "building famfs, mkfs.famfs and the twohosts example into $BIN (a first build downloads and compiles the dependencies: about 2 minutes)"
CGO_ENABLED=0 go build -o "$BIN/" ./cmd/famfs ./cmd/mkfs.famfs ./examples/twohosts &
build=$!
for ((i = 1; ; i++)); do
	kill -0 $build 2>/dev/null || break
	sleep 1
	if ((i % 10 == 0)) && kill -0 $build 2>/dev/null; then echo "   ... still building (${SECONDS} s)"; fi
done
wait $build
echo "built in ${SECONDS} s; scratch directory $WORK"

step mkfs "mkfs.famfs on $DEV (an 8 GiB sparse file standing in for /dev/dax0.0), run by the master host"
mkdir -p "$M" "$C"
master "$BIN/mkfs.famfs" --size 8g "$DEV" | sed -n '2,5p' | sed '/role of this node/d'

step mount "each host mounts the device (one FUSE daemon per host)"
master "$BIN/famfs" mount "$DEV" "$M"
client "$BIN/famfs" mount "$DEV" "$C"
grep -F " $WORK/" /proc/mounts | grep " fuse.famfs "

step create "the master makes a directory, copies a file in and creates a striped file of seeded data"
head -c 20000000 /dev/urandom >"$WORK/input.bin"
master "$BIN/famfs" mkdir -p "$M/shared/results"
master "$BIN/famfs" cp -v "$WORK/input.bin" "$M/shared/"
master "$BIN/famfs" creat -s 64m -N 4 -B 8 -r -S 42 "$M/shared/results/striped.dat"

step client "the client sees them at once (its daemon polls the log; no logplay needed)"
ls -lR "$C/shared"
cmp "$WORK/input.bin" "$C/shared/input.bin" && echo "client read of shared/input.bin: identical to the master's source"
client "$BIN/famfs" verify -S 42 -f "$C/shared/results/striped.dat"
client "$BIN/famfs" getmap "$C/shared/results/striped.dat"

step map "the client maps the files through the library: one slice that is the shared memory"
client "$BIN/twohosts" -role client "$DEV" 2>&1 | tail -n +2 || true

step refuse "the client may read but not change anything"
if (echo hi >"$C/shared/input.bin") 2>/dev/null; then echo "unexpected write"; exit 1; fi
echo "write through the client mount: refused (read-only file system)"
if client "$BIN/famfs" mkdir "$C/shared/nope" 2>/dev/null; then echo "unexpected mkdir"; exit 1; fi
echo "famfs mkdir on the client: refused (not the master)"

step fsck "fsck through the client mount, and the client daemon's status"
client "$BIN/famfs" fsck "$C" | sed -n '/Log stats/,$p'
client "$BIN/famfs" status "$C" | grep -E '"(role|replay_next|log_fill_percent|read_only)"'

step umount "unmounting and removing the device and scratch files"
# (cleanup, on exit, does it)
echo "demo done"
