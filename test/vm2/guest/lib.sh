# Helpers sourced by the scenario scripts of test/vm2 (busybox sh, root, in
# the guest). The init gives VM_ID (1 or 2), DEV (/dev/dax0.0), HOST (the
# run's share directory, 9p) and X (the read-only directory with our static
# binaries and these scripts).
set -eu
M=/mnt/famfs
MASTER=a1a1a1a1-0000-4000-8000-0000000000a1
CLIENT=b2b2b2b2-0000-4000-8000-0000000000b2
CLIENT2=c3c3c3c3-0000-4000-8000-0000000000c3
SYNC=$HOST/sync
mkdir -p "$M" /opt/famfs

famfs() { "$X/famfs" "$@"; }
mkfs_famfs() { "$X/mkfs.famfs" "$@"; }
mapcat() { "$X/mapcat" "$@"; }
vmbench() { "$X/vmbench" "$@"; }
# md5sum, fast under TCG (busybox's runs at a few MB/s there)
vmsum() { "$X/vmsum" "$@"; }

now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
say() { echo "vm$VM_ID: $*"; }
step() { echo; echo "== vm$VM_ID [$(cut -d' ' -f1 /proc/uptime)] $*"; }
die() {
	echo "vm$VM_ID: FAILED: $*"
	exit 1
}
# check DESC CMD...: CMD must succeed
check() {
	d=$1
	shift
	if "$@"; then echo "ok: $d"; else die "$d"; fi
}
# refused DESC WHY CMD...: CMD must fail, saying WHY (an extended regular
# expression matched against its output)
refused() {
	d=$1 why=$2
	shift 2
	if out=$("$@" 2>&1); then die "$d: succeeded, it must be refused (output: $out)"; fi
	echo "$out" | grep -qE "$why" || die "$d: refused, but not with '$why': $out"
	echo "refused, as it must be: $d: $(echo "$out" | head -1)"
}
# same DESC FILE1 FILE2: the two files must be identical
same() {
	if ! cmp -s "$2" "$3"; then
		echo "--- $2"; cat "$2"; echo "--- $3"; cat "$3"
		die "$1: differ"
	fi
	echo "ok: $1"
}
md5() { vmsum < "$1" | cut -d' ' -f1; }

# signal NAME / await NAME [SECS]: flags in the share directory, seen by the other VM
signal() {
	cut -d' ' -f1 /proc/uptime > "$SYNC/$1.tmp"
	mv "$SYNC/$1.tmp" "$SYNC/$1"
}
await() {
	n=$((${2:-120} * 20))
	while [ ! -e "$SYNC/$1" ]; do
		[ -e "$SYNC/abort" ] && die "the other VM failed ($(cat "$SYNC/abort")) while this one waited for '$1'"
		n=$((n - 1))
		[ $n -gt 0 ] || die "timed out waiting for '$1'"
		sleep 0.05
	done
}

# preload_start NAME FILE FLAG: run the dynamically linked reader preread
# under `famfs run -d` in the background (output /tmp/NAME.out, stderr with
# the preload library's account /tmp/NAME.err): it reads FILE once, then
# again, whole, once FLAG exists. Returns when the first read is done; the
# reader's pid is in PRELOAD_PID. preload_skip says why there is no reader.
preload_skip() {
	if [ -f "$X/preload.skip" ]; then cat "$X/preload.skip"; else echo "no $X/preload.skip (see the README)"; fi
}
preload_start() {
	LD_LIBRARY_PATH=$X/preload/lib "$X/famfs" run -d -- "$X/preload/preread" "$2" "/tmp/$1.ready" "$3" \
		> "/tmp/$1.out" 2> "/tmp/$1.err" &
	PRELOAD_PID=$!
	n=0
	while [ ! -e "/tmp/$1.ready" ]; do
		n=$((n + 1))
		[ $n -lt 1200 ] || die "preread did not read $2 within 60 s: $(cat "/tmp/$1.err")"
		kill -0 $PRELOAD_PID 2> /dev/null || die "preread failed: $(cat "/tmp/$1.err")"
		sleep 0.05
	done
}

# the file manifests two hosts compare: one line per entry (attributes), and
# the MD5 of every file's bytes read through the mount
manifest() {
	(cd "$1" && find . -path ./.meta -prune -o -print | sort | xargs stat -c '%n %s %a %i %u %g %F')
}
sums() {
	(cd "$1" && find . -path ./.meta -prune -o -type f -print | sort | xargs "$X/vmsum")
}

on_exit() {
	rc=$?
	if [ $rc -ne 0 ]; then
		[ -e "$SYNC/abort" ] || echo "vm$VM_ID rc=$rc" > "$SYNC/abort" 2>/dev/null || true
		for p in $(awk '$3 == "fuse.famfs" && $2 ~ "^/mnt/famfs" { print $2 }' /proc/mounts); do
			echo "----- famfs status $p"
			"$X/famfs" status "$p" 2>&1 | head -40
		done
		for l in /run/famfs/*.log; do
			[ -f "$l" ] || continue
			echo "----- famfs daemon log $l (last 40 lines)"
			tail -40 "$l"
		done
		echo "----- dmesg (last 20 lines)"
		dmesg | tail -20
	fi
	for p in $(awk '$3 == "fuse.famfs" && $2 ~ "^/mnt/famfs" { print $2 }' /proc/mounts); do
		"$X/famfs" umount "$p" > /dev/null 2>&1 || umount -l "$p" 2>/dev/null || true
	done
	exit $rc
}
trap on_exit EXIT
echo "vm$VM_ID: $(uname -r); $DEV size $(cat /sys/bus/dax/devices/dax0.0/size) align $(cat /sys/bus/dax/devices/dax0.0/align)"
