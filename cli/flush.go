package cli

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

func newFlushCmd(e *env) *cobra.Command {
	var verbose int
	cmd := newCommand(&cobra.Command{
		Use:   "flush [-v] <file>...",
		Short: "Write back and invalidate the CPU cache lines of files",
		Long: `For each regular file, fence, write back and drop every cache line of its
memory, then fence again. For a famfs file this is the device memory itself
(mapped through the library, not the mount's page cache); for any other
regular file it is an mmap of it.` + pathHelp,
		Args: minArgs(1),
	})
	cmd.Flags().CountVarP(&verbose, "verbose", "v", "say what is flushed")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		errs := 0
		for _, a := range args {
			if err := flushFile(a); err != nil {
				fmt.Fprintf(e.stderr, "famfs flush: %s: %v\n", a, err)
				errs++
			} else if verbose > 0 {
				fmt.Fprintf(e.stdout, "famfs flush: flushed %s\n", a)
			}
		}
		if errs > 0 {
			fmt.Fprintf(e.stderr, "famfs flush: %d errors were detected\n", errs)
			return &ExitError{Code: min(errs, maxExit)}
		}
		return nil
	}
	return cmd
}

func flushFile(arg string) error {
	st, err := os.Stat(arg)
	if err != nil {
		return unwrapPathErr(err)
	}
	if !st.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	if st.Size() == 0 {
		return nil
	}
	if p, err := famfsPath(arg); err == nil {
		if _, meta := metaFile(p.rel); meta == "" {
			fsys, err := openFS(p.mount.Source)
			if err != nil {
				return err
			}
			defer fsys.Close()
			f, err := fsys.OpenFile(p.rel)
			if err != nil {
				return unwrapPathErr(err)
			}
			m, err := f.Map(famfsReadOnly())
			if err != nil {
				return unwrapPathErr(err)
			}
			defer m.Unmap()
			famfs.FlushInvalidateCache(m.Bytes())
			return nil
		}
	}
	f, err := os.Open(arg)
	if err != nil {
		return unwrapPathErr(err)
	}
	defer f.Close()
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	defer syscall.Munmap(b)
	famfs.FlushInvalidateCache(b)
	return nil
}

func famfsReadOnly() famfs.MapOptions { return famfs.MapOptions{Access: famfs.MapReadOnly} }
