# Scenario 6 (one VM): the device's align. The shared namespace is re-made
# as devdax with a 1 GiB align (so this runs last): mkfs.famfs takes the new
# size from sysfs, files (2 MiB extents) still read through the mount, and
# the library refuses to Map an extent that is not a multiple of the align,
# with a message that says so; mkfs --4k refuses the device outright.
. "$X/lib.sh"
export FAMFS_SYSTEM_UUID=$MASTER
step "re-make the namespace with a 1 GiB align"
ndctl create-namespace -f -e namespace0.0 -m devdax -M mem -a 1G > /tmp/ns.json 2>&1 || die "ndctl: $(cat /tmp/ns.json)"
n=0
while [ ! -e "$DEV" ]; do
	n=$((n + 1))
	[ $n -lt 100 ] || die "$DEV did not come back"
	sleep 0.05
done
size=$(cat /sys/bus/dax/devices/dax0.0/size)
align=$(cat /sys/bus/dax/devices/dax0.0/align)
say "$DEV size $size align $align"
[ "$align" = 1073741824 ] || die "align is $align, not 1 GiB"
mkfs_famfs -f "$DEV" > /tmp/mkfs.out
got=$(awk '$1 == "primary:" { print $NF }' /tmp/mkfs.out)
[ "$got" = "$size" ] || die "mkfs.famfs made a file system of '$got' bytes; sysfs says $size"
say "mkfs.famfs size $got = sysfs size"
famfs mount "$DEV" $M
famfs creat -s 4m -r -S 61 $M/f
famfs verify -S 61 -f $M/f
cat $M/f > /tmp/f
check "reads through the mount" [ "$(md5 /tmp/f)" = "$(md5 $M/f)" ]
step "a Map of 2 MiB extents on a 1 GiB-aligned device is refused, clearly"
if mapcat f > /tmp/out 2> /tmp/err; then die "mapcat mapped 2 MiB extents on a 1 GiB-aligned device"; fi
cat /tmp/err
grep -q 'align' /tmp/err || die "the refusal does not name the alignment"
famfs umount $M
step "mkfs --4k refuses a device that maps only 1 GiB pages"
if mkfs_famfs --4k -f "$DEV" > /tmp/mkfs4k.out 2>&1; then die "mkfs.famfs --4k made a file system it cannot map"; fi
cat /tmp/mkfs4k.out
grep -q 'align' /tmp/mkfs4k.out || die "the refusal does not name the alignment"
say ok
