package cli

import (
	"errors"
	"fmt"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/omf"
	"github.com/spf13/cobra"
)

func newMkfsCmd(e *env, use string) *cobra.Command {
	var (
		force, kill bool
		loglen      uint64
		size        uint64
		verbose     int
	)
	cmd := newCommand(&cobra.Command{
		Use:   use + " [-f] [-k] [-l loglen] [--size N] <device>",
		Short: "Make a famfs file system on a device",
		Long: fmt.Sprintf(`Make a famfs file system: write the superblock and an empty metadata log.
The host that runs mkfs becomes the master: its system UUID is stored in the
superblock. A host's system UUID is $FAMFS_SYSTEM_UUID when set, else the
one in /opt/famfs/system_uuid (created on first use).

The device is a devdax character device, a pmem block device or a regular
file (sparse is fine; --size creates or resizes one), of at least %d GiB.`, omf.MinDeviceSize>>30),
		Args: exactArgs(1),
	})
	f := cmd.Flags()
	f.BoolVarP(&force, "force", "f", false, "replace an existing file system, even one another host is the master of")
	f.BoolVarP(&kill, "kill", "k", false, "with -f: only invalidate the existing superblock (zero its magic)")
	loglen = famfs.DefaultLogLen
	f.VarP(newSize(&loglen), "loglen", "l", "log length: a power of two of at least 8m (k, m, g suffixes)")
	f.Var(newSize(&size), "size", "create the device as a sparse regular file of this size (or resize an existing regular file)")
	f.CountVarP(&verbose, "verbose", "v", "more output")
	noted := kernelFlags(f, "set-daxmode", "nofuse", "fuse", "nodax")
	cmd.PersistentPreRunE = checkIdentity
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		verbosity(e, verbose)
		noted(e)
		dev := args[0]
		sb, err := famfs.Mkfs(dev, famfs.MkfsOptions{LogLen: loglen, Force: force, Kill: kill, Size: size})
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
