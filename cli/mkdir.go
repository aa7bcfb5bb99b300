package cli

import (
	"fmt"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

func newMkdirCmd(e *env) *cobra.Command {
	var (
		parents bool
		owner   ownerFlags
		verbose int
	)
	cmd := newCommand(&cobra.Command{
		Use:   "mkdir [-p] [-m mode] [-u uid] [-g gid] <dir>...",
		Short: "Make famfs directories (master only)",
		Long: `Log new directories. With -p, missing parents are made too (each with the
given mode and owner, as the reference does) and an existing directory is
fine. The mode is logged as given (default 0755); owner and group default to
the caller's.` + masterHelp + pathHelp,
		Args: minArgs(1),
	})
	f := cmd.Flags()
	f.BoolVarP(&parents, "parents", "p", false, "make parents as needed; no error if the directory exists")
	owner.add(f, 0o755, false, "")
	f.CountVarP(&verbose, "verbose", "v", "say what is made")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		paths, dev, fsys, err := openMasterFor(args...)
		if err != nil {
			return err
		}
		defer fsys.Close()
		m, uid, gid := owner.values()
		o := famfs.MkdirOptions{Mode: m, UID: uid, GID: gid, Parents: parents}
		var failed error
		// One batch: the directories that pass their checks are logged in
		// one append; each one that does not is reported and left out.
		err = fsys.Batch(func(b *famfs.Batch) error {
			for _, p := range paths {
				if err := b.Mkdir(p.rel, o); err != nil {
					fmt.Fprintf(e.stderr, "famfs mkdir: %v\n", pathErr(p, err))
					failed = &ExitError{Code: ExitFailure}
					continue
				}
				if verbose > 0 {
					fmt.Fprintf(e.stdout, "famfs mkdir: created %s\n", p.arg)
				}
			}
			return nil
		})
		notifyDaemons(dev)
		warnLogFill(e, fsys)
		if err != nil {
			return err
		}
		return failed
	}
	return cmd
}
