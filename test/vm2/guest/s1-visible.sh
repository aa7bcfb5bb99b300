# Scenario 1: what the master makes appears on the client, a second kernel,
# with no manual logplay, and reads back byte for byte through the client's
# mount and through the library's Map. Also: mkfs.famfs takes the size of the
# real char device from sysfs, and every extent honours the device's align.
. "$X/lib.sh"
S=$HOST/s1
mkdir -p "$S"
if [ "$VM_ID" = 1 ]; then
	export FAMFS_SYSTEM_UUID=$MASTER
	step "mkfs on the real device"
	size=$(cat /sys/bus/dax/devices/dax0.0/size)
	align=$(cat /sys/bus/dax/devices/dax0.0/align)
	mkfs_famfs -f "$DEV" > /tmp/mkfs.out
	cat /tmp/mkfs.out
	got=$(awk '$1 == "primary:" { print $NF }' /tmp/mkfs.out)
	[ "$got" = "$size" ] || die "mkfs.famfs made a file system of '$got' bytes; sysfs says the device has $size"
	say "mkfs.famfs size $got = sysfs size"
	famfs mount "$DEV" $M
	signal m1-mounted
	await m2-mounted

	step "make directories, files, seeded and interleaved files, a tree"
	famfs mkdir -p $M/d1/d2 $M/empty $M/deep/a/b/c
	famfs creat -s 3m $M/d1/simple
	famfs creat -s 6m -r -S 11 $M/d1/d2/seeded
	famfs creat -s 8m -N 2 -B 2 -r -S 12 $M/striped
	famfs creat -s 12m -N 3 -B 4 -C 4m -r -S 13 $M/deep/a/b/c/striped3
	mkdir -p /tmp/tree/sub/deeper /tmp/tree/other
	printf x > /tmp/tree/one-byte
	head -c 4097 /dev/urandom > /tmp/tree/sub/page-plus-one
	head -c 2097153 /dev/urandom > /tmp/tree/sub/deeper/au-plus-one
	head -c 3145728 /dev/urandom > /tmp/tree/sub/three-mib
	head -c 1000000 /dev/urandom > /tmp/tree/other/million
	echo "hello from vm1" > /tmp/tree/other/hello.txt
	famfs cp -r /tmp/tree $M/tree
	famfs cp /tmp/tree/sub/three-mib $M/d1/copied
	(cd /tmp/tree && find . -type f | sort | xargs "$X/vmsum") > "$S/tree.src"
	manifest $M > "$S/manifest.vm1"
	sums $M > "$S/sums.vm1"
	famfs fsck $M > "$S/fsck.vm1" || die "fsck through the master's mount found problems: $(cat "$S/fsck.vm1")"
	say "$(grep -c . "$S/manifest.vm1") entries, $(grep -c . "$S/sums.vm1") files"

	step "every extent is a multiple of the device align ($align)"
	(cd $M && famfs getmap --json $(awk '{ print $2 }' "$S/sums.vm1")) > /tmp/map.json || die "getmap"
	n=0
	for off in $(grep -oE '"(offset_bytes|device_offset_bytes)": [0-9]+' /tmp/map.json | awk '{ print $2 }'); do
		[ $((off % align)) = 0 ] || die "an extent at $off is not a multiple of the align $align: $(cat /tmp/map.json)"
		n=$((n + 1))
	done
	[ $n -gt 11 ] || die "getmap showed only $n extents: $(cat /tmp/map.json)"
	say "all $n extents and strips aligned"
	signal made
	await checked 300
	famfs umount $M
else
	export FAMFS_SYSTEM_UUID=$CLIENT
	await m1-mounted
	famfs mount "$DEV" $M
	grep " $M " /proc/mounts
	# let this kernel cache the empty root and the absence of names made later
	ls -la $M > /dev/null
	for n in d1 striped tree deep empty; do [ ! -e $M/$n ] || die "$n exists before the master made it"; done
	signal m2-mounted
	await made 300

	step "the master's work appears without a logplay"
	# The client mounted before anything was made: its daemon must find the
	# new entries by polling the log in the shared memory. Nothing below runs
	# a famfs command before the check (no logplay, no notification).
	last=$(tail -1 "$S/manifest.vm1" | awk '{ print $1 }')
	t0=$(now_ms)
	while [ ! -e "$M/$last" ]; do
		[ $(($(now_ms) - t0)) -lt 5000 ] || die "$last did not appear on the client within 5 s (no logplay was run)"
		sleep 0.002
	done
	say "last entry $last visible $(($(now_ms) - t0)) ms after the master's flag was seen"
	manifest $M > /tmp/manifest.vm2
	same "names, sizes, modes, inode numbers, owners, types identical on both hosts" "$S/manifest.vm1" /tmp/manifest.vm2

	step "bytes through the client's mount"
	sums $M > /tmp/sums.vm2
	same "MD5 of every file through the client mount = through the master mount" "$S/sums.vm1" /tmp/sums.vm2
	(cd $M/tree && find . -type f | sort | xargs "$X/vmsum") > /tmp/tree.vm2
	same "the cp -r tree equals its source, byte for byte" "$S/tree.src" /tmp/tree.vm2

	step "bytes through the library's Map (mapcat)"
	mapcat -sum $(awk '{ print $2 }' "$S/sums.vm1") > /tmp/mapsums.vm2 || die "mapcat -sum failed"
	same "MD5 of every file through the library's Map = through the master mount" "$S/sums.vm1" /tmp/mapsums.vm2
	mapcat d1/d2/seeded > /tmp/mapped || die "mapcat d1/d2/seeded"
	[ "$(md5 /tmp/mapped)" = "$(awk '$2 == "./d1/d2/seeded" { print $1 }' "$S/sums.vm1")" ] ||
		die "the bytes mapcat wrote out differ from the master's"
	say "mapcat's output of d1/d2/seeded = the master's bytes"

	step "famfs verify on the client"
	famfs verify -S 11 -f $M/d1/d2/seeded
	famfs verify -S 12 -f $M/striped
	famfs verify -S 13 -f $M/deep/a/b/c/striped3
	famfs status $M | grep -E '"(role|replay_next|coherence)"'
	famfs status $M | grep -q '"role": "client"' || die "the mount is not a client"
	signal checked
	famfs umount $M
fi
say ok
