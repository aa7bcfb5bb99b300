# Scenario 2: the client's mutations and data writes are refused; what famfs
# forbids through a mount fails on both hosts; and nothing changes: the log
# (logplay -n), fsck and every file's bytes are the same before and after, on
# both hosts.
. "$X/lib.sh"
S=$HOST/s2
mkdir -p "$S"
# state NAME: what this host sees, to compare before and after
state() {
	famfs logplay -n $M > "/tmp/$1.log" 2>&1 || die "logplay -n $M"
	famfs fsck $M > "/tmp/$1.fsck" 2>&1 || die "fsck $M found problems: $(cat "/tmp/$1.fsck")"
	sums $M > "/tmp/$1.sums"
	manifest $M > "/tmp/$1.manifest"
}
unchanged() {
	for k in log fsck sums manifest; do
		same "$1: $k unchanged" "/tmp/before.$k" "/tmp/after.$k"
	done
}
# forbidden MNT NS DATA META: what no host may do through its mount MNT,
# and the errors expected for namespace changes, data past the end and .meta
forbidden() {
	m=$1 ns=$2 data=$3 meta=$4
	refused "create a file through the mount" "$ns" touch $m/new-file
	refused "create with O_TRUNC through the mount" "$ns" sh -c "echo x > $m/d/f"
	refused "mkdir through the mount" "$ns" mkdir $m/new-dir
	refused "rmdir" "$ns" rmdir $m/empty
	refused "unlink" "$ns" rm -f $m/d/f
	refused "rename" "$ns" mv $m/d/f $m/d/g
	refused "rename a directory" "$ns" mv $m/d $m/d2
	refused "hard link" "$ns" ln $m/d/f $m/d/hard
	refused "symlink" "$ns" ln -s f $m/d/sym
	refused "mknod" "$ns" mknod $m/d/fifo p
	refused "truncate to 0" "$ns" truncate -s 0 $m/d/f
	refused "grow" "$ns" truncate -s 67108864 $m/d/f
	refused "write past the end" "$data" dd if=/dev/zero of=$m/d/f bs=4096 count=1 seek=2048 conv=notrunc
	refused "write into .meta/.log" "$meta" dd if=/dev/zero of=$m/.meta/.log bs=512 count=1 conv=notrunc
}
EPERM='Operation not permitted'
EROFS='Read-only file system'
NOTMASTER='not the master'
if [ "$VM_ID" = 1 ]; then
	export FAMFS_SYSTEM_UUID=$MASTER
	mkfs_famfs -f "$DEV" > /dev/null
	famfs mount "$DEV" $M
	famfs mkdir -p $M/d $M/empty
	famfs creat -s 4m -r -S 5 $M/d/f
	famfs creat -s 4m -N 2 -B 2 -r -S 6 $M/d/striped
	signal made
	await client-done 300
	step "forbidden operations on the master"
	state before
	forbidden $M "$EPERM" 'File too large' 'Permission denied'
	famfs status $M > /dev/null || die "the master's daemon stopped answering"
	state after
	unchanged "master"
	famfs verify -S 5 -f $M/d/f
	signal master-done
	await client-checked
	famfs umount $M
else
	export FAMFS_SYSTEM_UUID=$CLIENT
	await made
	famfs mount "$DEV" $M
	state before
	step "mutations from the client"
	refused "famfs mkdir" "$NOTMASTER" famfs mkdir $M/nope
	refused "famfs mkdir -p" "$NOTMASTER" famfs mkdir -p $M/d/nope/deeper
	refused "famfs creat" "$NOTMASTER" famfs creat -s 2m $M/nope
	refused "famfs creat -r over an existing file" "$NOTMASTER" famfs creat -s 4m -r -S 9 $M/d/f
	echo data > /tmp/src
	refused "famfs cp" "$NOTMASTER" famfs cp /tmp/src $M/nope
	refused "famfs cp over an existing file" "$NOTMASTER" famfs cp /tmp/src $M/d/f
	refused "famfs clone" "$NOTMASTER" famfs clone $M/d/f $M/d/clone
	step "data writes from the client"
	refused "write(2) into a file" "$EROFS" dd if=/dev/zero of=$M/d/f bs=4096 count=1 conv=notrunc
	refused "write(2) into a striped file" "$EROFS" dd if=/dev/zero of=$M/d/striped bs=1 count=1 seek=100 conv=notrunc
	step "forbidden operations on the client (read-only mount)"
	forbidden $M "$EROFS" "$EROFS" "$EROFS"
	step "forbidden operations on the client, mounted -o rw (the daemon refuses)"
	M3=/mnt/famfs-rw
	mkdir -p $M3
	FAMFS_SYSTEM_UUID=$CLIENT2 famfs mount -o rw "$DEV" $M3
	forbidden $M3 "$EPERM" 'File too large' 'Permission denied'
	famfs umount $M3
	famfs status $M > /dev/null || die "the client's daemon stopped answering"
	state after
	unchanged "client"
	signal client-done
	await master-done 300
	step "after the master's attempts, the client still sees the same"
	state after
	unchanged "client, after the master's attempts"
	famfs verify -S 5 -f $M/d/f
	signal client-checked
	famfs umount $M
fi
say ok
