package cli

import (
	"errors"
	"fmt"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

func newMkfsCmd(e *env, use string) *cobra.Command {
	var (
		force, kill, reclaim, forceLive, small bool
		loglen                                 uint64
		size                                   uint64
		verbose                                int
	)
	cmd := newCommand(&cobra.Command{
		Use:   use + " [-f] [-k] [--reclaim] [--4k] [-l loglen] [--size N] <device>",
		Short: "Make a famfs file system on a device",
		Long: fmt.Sprintf(`Make a famfs file system: write the superblock and an empty metadata log.
The host that runs mkfs becomes the master: its system UUID is stored in the
superblock. A host's system UUID is $FAMFS_SYSTEM_UUID when set, else the
one in /opt/famfs/system_uuid (created on first use).

The device is a devdax character device, a pmem block device or a regular
file (sparse is fine; --size creates or resizes one), of at least %d GiB.

--reclaim makes a file system that takes deletions (famfs rm): its
superblock has version %d, which the reference's tools refuse (they would
ignore the deletions, show deleted files and serve reused memory as them).
Without it the file system is the reference's, byte for byte, and famfs rm
refuses. Replacing a file system made with --reclaim (-f) is refused while
hosts are registered in its participant table (famfs hosts lists them)
unless --force-participants.

--4k makes the allocation unit 4 KiB instead of 2 MiB (ts_alloc_unit 0x1000,
which the reference's tools read too): files take space in 4 KiB steps, so
many small files waste little, but mappings of them fault in 4 KiB pages,
never 2 MiB ones, and reads through them pay for it. A devdax device with a
2 MiB align cannot map 4 KiB-granular files and is refused.`, famfs.Format().MinDeviceSize>>30, famfs.Format().ReclaimVersion),
		Args: exactArgs(1),
	})
	f := cmd.Flags()
	f.BoolVarP(&force, "force", "f", false, "replace an existing file system, even one another host is the master of")
	f.BoolVarP(&kill, "kill", "k", false, "with -f: only invalidate the existing superblock (zero its magic)")
	f.BoolVar(&reclaim, "reclaim", false, "make a file system that takes deletions (superblock version 49; the reference's tools refuse it)")
	f.BoolVar(&forceLive, "force-participants", false, "with -f: replace a file system even while hosts are registered in its participant table")
	f.BoolVar(&small, "4k", false, "a 4 KiB allocation unit instead of 2 MiB (small files, 4 KiB page faults)")
	loglen = famfs.Format().DefaultLogLen
	f.VarP(newSize(&loglen), "loglen", "l", "log length: a power of two of at least 8m (k, m, g suffixes)")
	f.Var(newSize(&size), "size", "create the device as a sparse regular file of this size (or resize an existing regular file)")
	f.CountVarP(&verbose, "verbose", "v", "more output")
	noted := kernelFlags(f, "set-daxmode", "nofuse", "fuse", "nodax")
	cmd.PersistentPreRunE = checkIdentity
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		verbosity(e, verbose)
		noted(e)
		dev := args[0]
		o := famfs.MkfsOptions{LogLen: loglen, Force: force, Kill: kill, Size: size, Reclaim: reclaim, ForceParticipants: forceLive}
		if small {
			o.AllocUnit = famfs.Format().SmallAllocUnit
		}
		sb, err := famfs.Mkfs(dev, o)
		if err != nil {
			return &ExitError{Code: mkfsFailed, Err: err}
		}
		if kill && force {
			fmt.Fprintf(e.stdout, "%s: superblock invalidated\n", dev)
			return nil
		}
		r, err := famfs.Fsck(dev, famfs.FsckOptions{SystemUUID: sb.SystemUUID})
		if err != nil {
			return &ExitError{Code: mkfsFailed, Err: err}
		}
		if !r.Clean() {
			return &ExitError{Code: mkfsFailed, Err: errors.New("the new file system does not check clean")}
		}
		return writeFsckText(e.stdout, r, true, verbose > 0)
	}
	return cmd
}
