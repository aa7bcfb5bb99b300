# Scenario 4: the master re-makes the file system (mkfs.famfs -f) while the
# client is mounted, and makes files of the same names and sizes (so at the
# same device offsets) with other bytes. The client fails safe: reads of its
# old files fail with EIO - never the new file system's bytes served as the
# old files - it never shows the new names, a holder of a library Map that
# checks the superblock is told, and the preload library stops serving a
# reader it served before (its next read fails with EIO). Remounted, the
# client sees the new file system.
. "$X/lib.sh"
S=$HOST/s4
mkdir -p "$S"
make_files() { # SEED
	famfs creat -s 4m -r -S "$1" $M/a
	famfs creat -s 6m -r -S "$(($1 + 1))" $M/b
}
if [ "$VM_ID" = 1 ]; then
	export FAMFS_SYSTEM_UUID=$MASTER
	mkfs_famfs -f "$DEV" > /dev/null
	famfs mount "$DEV" $M
	make_files 31
	famfs getmap $M/a | grep -v '^File:' > "$S/map.old"
	md5 $M/a > "$S/a.old"
	md5 $M/b > "$S/b.old"
	signal made
	await client-ready 300
	step "re-make the file system under the client"
	famfs umount $M
	mkfs_famfs -f "$DEV" > /dev/null
	famfs mount "$DEV" $M
	make_files 41
	famfs creat -s 2m $M/only-new
	famfs getmap $M/a | grep -v '^File:' > /tmp/map.new
	if cmp -s "$S/map.old" /tmp/map.new; then say "the new a has the old a's extents"; else say "note: the new a has other extents than the old"; fi
	md5 $M/a > "$S/a.new"
	md5 $M/b > "$S/b.new"
	signal remade
	await client-done 300
	famfs umount $M
else
	export FAMFS_SYSTEM_UUID=$CLIENT
	await made
	famfs mount "$DEV" $M
	[ "$(md5 $M/a)" = "$(cat "$S/a.old")" ] || die "wrong bytes before the re-make"
	mapcat -check -hold "$SYNC/remade" -ready /tmp/mapped.ready a > /tmp/mapped 2> /tmp/mapcat.err &
	mpid=$!
	# read the old files over and over while the master re-makes the device:
	# every read gives the old bytes or fails; never anything else
	(
		trap - EXIT
		n=0 good=0 bad=0
		while [ ! -e "$SYNC/remade" ] || [ $n -lt 20 ]; do
			[ -e "$SYNC/remade" ] && n=$((n + 1))
			for f in a b; do
				if cat $M/$f > /tmp/r.$f 2> /dev/null; then
					[ "$(md5 /tmp/r.$f)" = "$(cat "$S/$f.old")" ] || { echo "read of $f returned bytes that are not the old file's" > /tmp/reader.bad; exit 1; }
					good=$((good + 1))
				else
					bad=$((bad + 1))
				fi
			done
		done
		echo "$good reads gave the old bytes, $bad failed" > /tmp/reader.stats
	) &
	rpid=$!
	n=0
	while [ ! -e /tmp/mapped.ready ]; do
		n=$((n + 1))
		[ $n -lt 600 ] || die "mapcat did not map the file"
		sleep 0.05
	done
	if [ -z "$(preload_skip)" ]; then
		preload_start pre $M/a "$SYNC/remade"
		grep -q 'served from the device' /tmp/pre.err || die "the preload library did not serve $M/a: $(cat /tmp/pre.err)"
	fi
	signal client-ready
	await remade 300
	step "after the re-make"
	wait $rpid || die "$(cat /tmp/reader.bad 2> /dev/null || echo "the reader failed")"
	say "concurrent reads saw only the old bytes or errors: $(cat /tmp/reader.stats)"
	for f in a b; do
		if cat $M/$f > /tmp/r.$f 2> /tmp/err.$f; then
			die "$f: read still succeeds after the re-make (bytes: $([ "$(md5 /tmp/r.$f)" = "$(cat "$S/$f.new")" ] && echo "the NEW file system's" || echo old))"
		fi
		grep -q 'Input/output error' /tmp/err.$f || die "$f: read failed, but not with EIO: $(cat /tmp/err.$f)"
		say "$f: $(cat /tmp/err.$f)"
	done
	refused "open of the old file" 'Input/output error' sh -c "exec 3< $M/a"
	if ls $M/only-new > /dev/null 2>&1; then die "the new file system's only-new appeared in the old mount"; fi
	say "the new file system's names do not appear"
	rc=0
	wait $mpid || rc=$?
	[ $rc = 3 ] || die "mapcat -check: exit $rc, want 3 (file system re-made): $(cat /tmp/mapcat.err)"
	[ ! -s /tmp/mapped ] || die "mapcat -check printed bytes of a re-made file system"
	say "library: $(cat /tmp/mapcat.err)"
	famfs status $M > /tmp/status 2>&1 || true
	grep -E '"fs_changed"' /tmp/status || true
	if [ -n "$(preload_skip)" ]; then
		echo "SKIP: preload grants stop: $(preload_skip)"
	else
		rc=0
		wait $PRELOAD_PID || rc=$?
		[ $rc = 1 ] || die "preread under famfs run: exit $rc after the re-make, want 1 (a read refused): $(cat /tmp/pre.err)"
		grep -q 'Input/output error' /tmp/pre.err || die "preread's read after the re-make did not fail with EIO: $(cat /tmp/pre.err)"
		[ ! -s /tmp/pre.out ] || die "preread printed bytes after the re-make"
		grep -q 're-made' /tmp/pre.err || die "the preload library did not notice the re-made file system: $(cat /tmp/pre.err)"
		say "preload: the served reader's next read failed with EIO; the library said: $(grep 're-made' /tmp/pre.err | head -1)"
	fi
	step "remount: the new file system"
	famfs umount $M
	famfs mount "$DEV" $M
	[ "$(md5 $M/a)" = "$(cat "$S/a.new")" ] || die "remounted: a has the wrong bytes"
	[ "$(md5 $M/b)" = "$(cat "$S/b.new")" ] || die "remounted: b has the wrong bytes"
	famfs verify -S 41 -f $M/a
	[ -e $M/only-new ] || die "remounted: only-new is missing"
	signal client-done
	famfs umount $M
fi
say ok
