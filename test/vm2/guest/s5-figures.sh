# Scenario 5: the figures. On the client: sequential read of a famfs file
# through the library's Map against a raw mmap of /dev/dax0.0 (the same device
# bytes) in the same run. Across the two kernels: master create -> client
# visible latency (vmbench; the two VMs time it through a shared famfs file).
. "$X/lib.sh"
if [ "$VM_ID" = 1 ]; then
	export FAMFS_SYSTEM_UUID=$MASTER
	mkfs_famfs -f "$DEV" > /dev/null
	famfs mount "$DEV" $M
	famfs creat -s 256m $M/big
	famfs umount $M
	signal made
	await client-mounted 300
	step "latency: the master creates, the client's mount shows"
	vmbench lat-master -dir lat -n 40 -ready "$SYNC/lat-sync"
	await client-done 300
else
	export FAMFS_SYSTEM_UUID=$CLIENT
	await made
	famfs mount "$DEV" $M
	step "mapped read against a raw mmap of $DEV"
	vmbench read big
	signal client-mounted
	await lat-sync
	vmbench lat-client -dir lat -n 40 -mount $M
	signal client-done
	famfs umount $M
fi
say ok
