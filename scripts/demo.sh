#!/usr/bin/env bash
# The famfs demo on an emulated device: one machine plays two hosts (a master
# and a client) as separate processes with different system UUIDs over one
# device file in /dev/shm.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
BIN=$PWD/bin
DEV=${DEV:-/dev/shm/famfs-demo.img}
MASTER=${MASTER:-5a5a5a5a-0000-4000-8000-00000000000a}
CLIENT=${CLIENT:-5b5b5b5b-0000-4000-8000-00000000000b}

echo "== building"
go build -o "$BIN/" ./cmd/famfs ./cmd/mkfs.famfs ./examples/twohosts

echo "== mkfs.famfs on $DEV (8 GiB sparse file), as the master host"
FAMFS_SYSTEM_UUID=$MASTER "$BIN/mkfs.famfs" -f --size 8g "$DEV" | sed -n '1,12p'

echo "== the master creates files (plain and striped) with seeded data"
FAMFS_SYSTEM_UUID=$MASTER "$BIN/twohosts" -role master "$DEV"

echo "== a client (another system UUID) replays the log, maps and verifies"
FAMFS_SYSTEM_UUID=$CLIENT "$BIN/twohosts" -role client "$DEV"

echo "== famfs logplay --dryrun (as the client)"
FAMFS_SYSTEM_UUID=$CLIENT "$BIN/famfs" logplay --dryrun -v "$DEV"

echo "== famfs fsck (as the client)"
FAMFS_SYSTEM_UUID=$CLIENT "$BIN/famfs" fsck "$DEV"

echo "== a client may not change the file system"
if FAMFS_SYSTEM_UUID=$CLIENT "$BIN/mkfs.famfs" "$DEV" >/dev/null 2>&1; then echo "unexpected"; exit 1; fi
echo "mkfs without -f over an existing file system: refused, as expected"
rm -f "$DEV"
echo "== demo done"
