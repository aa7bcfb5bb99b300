package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/mounts"
	"github.com/spf13/cobra"
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
		opts := famfs.FsckOptions{Buckets: nbuckets}
		var r *famfs.FsckReport
		if t.mount != nil && !readable(dev) {
			// A caller who may read the mount but not the device: check the
			// mount's world-readable .meta files, as the reference does.
			if r, err = famfs.Fsck(t.mount.Point, opts); err != nil {
				return exitErr(fsckOperational, "%s: cannot read the device, nor the mount's .meta files: %v", dev, err)
			}
		} else if r, err = famfs.Fsck(dev, opts); err != nil {
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
			writeBuckets(e.stdout, r.Buckets, nbuckets, human)
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

func writeBuckets(w io.Writer, buckets []famfs.Bucket, n int, human bool) {
	size := func(v uint64) string {
		if human {
			return fmt.Sprintf("%.2fG", float64(v)/(1<<30))
		}
		return fmt.Sprint(v)
	}
	for _, b := range buckets {
		name := fmt.Sprintf("bucket %2d", b.Index)
		if b.Index == n {
			name = "tail     " // past the last whole bucket: interleaving never uses it
		}
		fmt.Fprintf(w, "%s: size %s in use %s free %s free fragments %d largest free %s\n",
			name, size(b.Size), size(b.Used), size(b.Free), b.FreeRuns, size(b.LargestFree))
	}
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
