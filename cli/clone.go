package cli

import (
	"fmt"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

func newCloneCmd(e *env) *cobra.Command {
	var verbose int
	cmd := newCommand(&cobra.Command{
		Use:   "clone [-v] <src> <dst>",
		Short: "Log a file that shares another file's extents (test tool)",
		Long: `Log dst with exactly src's extents, mode, owner and size: a deliberate
cross-link, so fsck has something to find. Both paths must be in the same
famfs file system.` + masterHelp + pathHelp,
		Args: exactArgs(2),
	})
	cmd.Flags().CountVarP(&verbose, "verbose", "v", "more output")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		paths, dev, fsys, err := openMasterFor(args...)
		if err != nil {
			return err
		}
		defer fsys.Close()
		_, err = fsys.Create(paths[1].rel, famfs.CreateOptions{CloneOf: paths[0].rel})
		err = typedPathErr(err, paths...)
		notifyDaemons(dev)
		if err != nil {
			return err
		}
		if verbose > 0 {
			fmt.Fprintf(e.stdout, "famfs clone: %s shares the extents of %s\n", args[1], args[0])
		}
		return nil
	}
	return cmd
}
