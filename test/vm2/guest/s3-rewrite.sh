# Scenario 3: the master rewrites a file's data in place (same size, same
# extents). The client sees the new bytes at once:
#  - through the library's Map, in a mapping made before the rewrite;
#  - through its mount, as the README's "Kernel caching and freshness" says:
#    cache=direct (the default): "every read() goes to the daemon ...: a read
#    sees the device as it is at that moment" - so a descriptor opened before
#    the rewrite reads the new bytes; cache=open: "the page cache is used but
#    dropped at every open (close-to-open freshness)" - so an open after the
#    rewrite reads the new bytes even though the old ones were cached;
#  - through the preload library: a dynamically linked reader under
#    `famfs run` that read the file (so mapped it) before the rewrite, and
#    whose reads the library served from the device.
. "$X/lib.sh"
S=$HOST/s3
M2=/mnt/famfs-open
mkdir -p "$S" $M2
if [ "$VM_ID" = 1 ]; then
	export FAMFS_SYSTEM_UUID=$MASTER
	mkfs_famfs -f "$DEV" > /dev/null
	famfs mount "$DEV" $M
	famfs creat -s 6m -r -S 21 $M/data
	famfs getmap $M/data > "$S/map.before"
	md5 $M/data > "$S/old.md5"
	signal made
	await client-ready 300
	step "rewrite in place"
	famfs creat -s 6m -r -S 22 $M/data
	famfs getmap $M/data > /tmp/map.after
	same "same size, same extents after the rewrite" "$S/map.before" /tmp/map.after
	famfs verify -S 22 -f $M/data
	md5 $M/data > "$S/new.md5"
	[ "$(cat "$S/new.md5")" != "$(cat "$S/old.md5")" ] || die "the rewrite did not change the bytes"
	signal rewritten
	await client-done 300
	famfs umount $M
else
	export FAMFS_SYSTEM_UUID=$CLIENT
	await made
	famfs mount "$DEV" $M
	FAMFS_SYSTEM_UUID=$CLIENT2 famfs mount -o cache=open "$DEV" $M2
	old=$(cat "$S/old.md5")
	step "before the rewrite"
	# a descriptor opened before the rewrite, on each mount
	exec 3< $M/data
	exec 4< $M2/data
	# reads that leave the old bytes in the cache=open mount's page cache
	[ "$(md5 $M/data)" = "$old" ] || die "cache=direct mount: wrong bytes before the rewrite"
	[ "$(md5 $M2/data)" = "$old" ] || die "cache=open mount: wrong bytes before the rewrite"
	# a mapping made before the rewrite, read only after it
	mapcat -hold "$SYNC/rewritten" -ready /tmp/mapped.ready data > /tmp/mapped &
	mpid=$!
	n=0
	while [ ! -e /tmp/mapped.ready ]; do
		n=$((n + 1))
		[ $n -lt 600 ] || die "mapcat did not map the file"
		kill -0 $mpid 2> /dev/null || die "mapcat failed"
		sleep 0.05
	done
	if [ -z "$(preload_skip)" ]; then preload_start pre $M/data "$SYNC/rewritten"; fi
	signal client-ready
	await rewritten 300
	new=$(cat "$S/new.md5")
	step "after the rewrite, at once (no retry, no wait)"
	wait $mpid || die "mapcat failed"
	[ "$(md5 /tmp/mapped)" = "$new" ] || die "library Map: a mapping made before the rewrite does not show the new bytes"
	say "library Map: new bytes"
	[ "$(vmsum <&3 | cut -d' ' -f1)" = "$new" ] || die "cache=direct: a descriptor opened before the rewrite reads old bytes"
	say "cache=direct: a descriptor opened before the rewrite reads the new bytes"
	[ "$(md5 $M/data)" = "$new" ] || die "cache=direct: a new open reads old bytes"
	say "cache=direct: a new open reads the new bytes"
	[ "$(md5 $M2/data)" = "$new" ] || die "cache=open: an open after the rewrite reads old bytes"
	say "cache=open: an open after the rewrite reads the new bytes"
	# cache=open promises nothing for a descriptor opened before: show what it read
	if [ "$(vmsum <&4 | cut -d' ' -f1)" = "$new" ]; then k=new; else k=old; fi
	say "cache=open: a descriptor opened before the rewrite read the $k bytes (not a promise either way)"
	exec 3<&- 4<&-
	famfs verify -S 22 -f $M/data

	step "preload library"
	if [ -n "$(preload_skip)" ]; then
		echo "SKIP: preload step: $(preload_skip)"
	else
		wait $PRELOAD_PID || die "preread under famfs run failed: $(cat /tmp/pre.err)"
		grep -q 'served from the device' /tmp/pre.err || die "the preload library did not serve $M/data: $(cat /tmp/pre.err)"
		[ "$(md5 /tmp/pre.out)" = "$new" ] || die "preload: a reader that read the file before the rewrite reads old bytes after it"
		say "preload: a reader that read the file before the rewrite reads the new bytes, served from the device"
		grep 'served' /tmp/pre.err
	fi
	signal client-done
	famfs umount $M2
	famfs umount $M
fi
say ok
