# Guest script for ../../shared/tools/vm2/run-two-vms.sh (busybox sh, root):
# two VMs with separate kernels share one real /dev/dax0.0 (devdax). VM1 is
# the famfs master, VM2 a client. Needs the static famfs binary in
# /mnt/extra (EXTRA_DIR) and SHM_SIZE >= 4G+2M (mkfs wants 4 GiB).
set -e
F=/mnt/extra/famfs
MASTER=a1a1a1a1-0000-4000-8000-0000000000a1
CLIENT=b2b2b2b2-0000-4000-8000-0000000000b2
M=/mnt/famfs
mkdir -p $M /opt/famfs
echo "vm$VM_ID: $(uname -r); dax0.0 size $(cat /sys/bus/dax/devices/dax0.0/size) align $(cat /sys/bus/dax/devices/dax0.0/align)"
famfs() { "$F" "$@"; }
mkfs() { (exec -a mkfs.famfs "$F" "$@"); }
if [ "$VM_ID" = 1 ]; then
	export FAMFS_SYSTEM_UUID=$MASTER
	mkfs -f $DEV | head -6
	famfs mount $DEV $M
	grep fuse.famfs /proc/mounts
	famfs mkdir -p $M/shared/dir
	famfs creat -s 64m -r -S 42 $M/shared/dir/seeded
	famfs creat -s 40m -N 2 -B 2 -r -S 7 $M/shared/striped
	famfs verify -S 42 -f $M/shared/dir/seeded
	famfs getmap $M/shared/striped
	vm-sync signal created
	vm-sync wait mounted
	# A file made after the client mounted: the client's daemon must find
	# it by polling the log header in the shared memory (no logplay).
	famfs creat -s 8m -r -S 99 $M/late
	vm-sync signal late
	vm-sync wait verified
	famfs fsck $M | tail -5
	famfs umount $M
else
	export FAMFS_SYSTEM_UUID=$CLIENT
	vm-sync wait created
	famfs mount $DEV $M
	grep fuse.famfs /proc/mounts
	ls -lR $M/shared
	famfs verify -S 42 -f $M/shared/dir/seeded
	famfs verify -S 7 -f $M/shared/striped
	if famfs mkdir $M/nope 2>/dev/null; then echo "client mkdir succeeded"; exit 1; fi
	echo "client mkdir refused, as it must be"
	vm-sync signal mounted
	vm-sync wait late
	i=0
	while [ ! -e $M/late ]; do
		i=$((i+1)); [ $i -gt 5000 ] && { echo "late file never appeared"; exit 1; }
		usleep 1000
	done
	echo "client saw the late file after ~$i ms of polling"
	famfs verify -S 99 -f $M/late
	famfs status $M | grep -E '"(role|replay_next|coherence)"'
	vm-sync signal verified
	famfs umount $M
fi
echo "vm$VM_ID: ok"
