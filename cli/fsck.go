package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/mounts"
	"github.com/famfs-go/famfs/omf"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// newFsckHelperCmd is the fsck.famfs personality. fsck(8) runs
// `fsck.famfs [-a|-p|-n|-y] [-f] ... <device>`: famfs fsck only checks (it
// never repairs), so those options are accepted and change nothing.
func newFsckHelperCmd(e *env) *cobra.Command {
	cmd := newFsckCmd(e, "fsck.famfs")
	cmd.Long = strings.Replace(cmd.Long, "\n\nExit codes:", `

As fsck.famfs, the fsck(8) helper (fsck -t famfs <device>), it also accepts
fsck(8)'s -a, -p (repair automatically), -n (no changes), -y (answer yes) and
-f (force a check), and ignores them: famfs fsck only checks and never
changes anything, so problems found exit 4 (errors left uncorrected) and a
clean file system exits 0.

Exit codes:`, 1)
	f := cmd.Flags()
	var ignored bool
	for _, o := range []struct{ short, name, what string }{
		{"a", "auto", "fsck(8): repair automatically (ignored: nothing is ever changed)"},
		{"p", "preen", "fsck(8): repair automatically (ignored: nothing is ever changed)"},
		{"n", "no", "fsck(8): make no changes (always so)"},
		{"y", "yes", "fsck(8): answer yes to every question (ignored: none is asked)"},
		{"f", "force", "fsck(8): check even if clean (always so)"},
	} {
		f.BoolVarP(&ignored, o.name, o.short, false, o.what)
	}
	return cmd
}

func newFsckCmd(e *env, use string) *cobra.Command {
	var (
		human, asJSON, useMmap, useRead bool
		verbose                         int
		nbuckets                        int
	)
	cmd := newCommand(&cobra.Command{
		Use:   use + " [--human] [-v] [--json] [-B nbuckets] <device|path-in-famfs>",
		Short: "Check a famfs file system",
		Long: `Check the superblock, the log header, every log entry (CRC, sequence
number, path, file map), the namespace they build (missing parents,
duplicates) and allocation collisions (cross-linked files). Nothing is changed.

The argument is a device (or regular-file device), or any path inside a famfs
mount, which checks the device behind that mount.`,
		Args: exactArgs(1),
	})
	f := cmd.Flags()
	f.BoolVar(&human, "human", false, "sizes in GiB (the reference's fsck -h)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.CountVarP(&verbose, "verbose", "v", "more detail")
	f.IntVarP(&nbuckets, "nbuckets", "B", 0, "also print allocation statistics for this many buckets")
	f.BoolVarP(&useMmap, "mmap", "m", false, "read the metadata through mmap (always the case here)")
	f.BoolVarP(&useRead, "read", "r", false, "accepted for compatibility: metadata is always read through mmap")
	kernelNote := kernelFlags(f, "set-daxmode", "nofuse", "fuse")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		verbosity(e, verbose-1)
		kernelNote(e)
		if useMmap && useRead {
			return usagef("-m/--mmap and -r/--read are mutually exclusive")
		}
		if nbuckets < 0 || nbuckets > 64 {
			return usagef("-B %d: nbuckets must be 1..64", nbuckets)
		}
		t, err := famfsPathOrDevice(args[0])
		if err != nil {
			return &ExitError{Code: fsckOperational, Err: err}
		}
		if t.mount == nil {
			if ms, _ := mounts.BySource(t.device); len(ms) > 0 {
				return exitErr(fsckOperational, "%s is mounted at %s; check it through the mount: famfs fsck %s", t.device, ms[0].Point, ms[0].Point)
			}
		}
		dev := t.device
		if t.mount != nil && !readable(dev) {
			// A caller who may read the mount but not the device: check the
			// mount's world-readable .meta files, as the reference does.
			img, done, err := metaImage(t.mount.Point)
			if err != nil {
				return exitErr(fsckOperational, "%s: cannot read the device, nor the mount's .meta files: %v", dev, err)
			}
			defer done()
			dev = img
		}
		r, err := famfs.Fsck(dev, [16]byte{})
		if err != nil {
			return &ExitError{Code: fsckOperational, Err: err}
		}
		r.Device = t.device
		if asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(r); err != nil {
				return err
			}
		} else {
			if err := writeFsckText(e.stdout, r, human, verbose > 0); err != nil {
				return err
			}
			if nbuckets > 0 && r.Superblock != nil {
				if err := writeBuckets(e.stdout, dev, nbuckets, human); err != nil {
					return err
				}
			}
		}
		switch {
		case r.Superblock == nil:
			return exitErr(fsckOperational, "%s", r.SuperblockErr)
		case !r.Clean():
			return &ExitError{Code: fsckProblems}
		}
		return nil
	}
	return cmd
}

func writeBuckets(w interface{ Write([]byte) (int, error) }, dev string, n int, human bool) error {
	fsys, err := famfs.Open(dev, famfs.OpenOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer fsys.Close()
	size := func(v uint64) string {
		if human {
			return fmt.Sprintf("%.2fG", float64(v)/(1<<30))
		}
		return fmt.Sprint(v)
	}
	for _, b := range fsys.BucketStats(n) {
		name := fmt.Sprintf("bucket %2d", b.Index)
		if b.Index == n {
			name = "tail     " // past the last whole bucket: interleaving never uses it
		}
		fmt.Fprintf(w, "%s: size %s in use %s free %s free fragments %d largest free %s\n",
			name, size(b.Size), size(b.Used), size(b.Free), b.FreeRuns, size(b.LargestFree))
	}
	return nil
}

// readable reports whether this process may open dev for reading.
func readable(dev string) bool {
	f, err := os.Open(dev)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// metaImage copies a mount's .meta/.superblock and .meta/.log into an
// anonymous memory file laid out like the device (sparse elsewhere) and
// returns a path to it. Only metadata is read, through files every user of
// the mount may read.
func metaImage(mpt string) (string, func(), error) {
	sbBytes, err := os.ReadFile(filepath.Join(mpt, metaSuperblock))
	if err != nil {
		return "", nil, err
	}
	sb, err := omf.DecodeSuperblock(sbBytes)
	if err != nil {
		return "", nil, err
	}
	logBytes, err := os.ReadFile(filepath.Join(mpt, metaLog))
	if err != nil {
		return "", nil, err
	}
	fd, err := unix.MemfdCreate("famfs-fsck", unix.MFD_CLOEXEC)
	if err != nil {
		return "", nil, err
	}
	f := os.NewFile(uintptr(fd), "famfs-fsck")
	fail := func(err error) (string, func(), error) { f.Close(); return "", nil, err }
	if err := f.Truncate(int64(sb.DevSize)); err != nil {
		return fail(err)
	}
	if _, err := f.WriteAt(sbBytes, 0); err != nil {
		return fail(err)
	}
	if _, err := f.WriteAt(logBytes, int64(sb.LogOffset)); err != nil {
		return fail(err)
	}
	return fmt.Sprintf("/proc/self/fd/%d", f.Fd()), func() { f.Close() }, nil
}
