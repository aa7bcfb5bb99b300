package cli

import (
	"errors"
	"fmt"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

func newRmCmd(e *env) *cobra.Command {
	var (
		recursive, force bool
		verbose          int
	)
	cmd := newCommand(&cobra.Command{
		Use:   "rm [-r] [-f] [-v] <path>...",
		Short: "Delete famfs files and directories (master only; file systems made with --reclaim)",
		Long: `Log the deletion of files and directories. A directory must be empty unless
-r is given, which removes it with everything in it. Every path is checked
first and the deletions are logged in one append: either all of them happen
or none (a crash included). Names disappear on every host at its next replay
(within milliseconds on a mount); the memory is given to new files only once
every host that could still reach a deleted file has let go of it (see
famfs hosts). -f ignores paths that do not exist.

Only a file system made with mkfs.famfs --reclaim takes deletions: the
reference's tools ignore them, so on a plain file system they would keep
showing a deleted file and serve its reused memory as that file.` + masterHelp + pathHelp,
		Args: minArgs(1),
	})
	f := cmd.Flags()
	f.BoolVarP(&recursive, "recursive", "r", false, "remove directories and everything in them")
	f.BoolVarP(&recursive, "Recursive", "R", false, "same as -r")
	f.BoolVarP(&force, "force", "f", false, "ignore paths that do not exist")
	f.CountVarP(&verbose, "verbose", "v", "name what is removed")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		paths, dev, fsys, err := openMasterFor(args...)
		if err != nil {
			return err
		}
		defer fsys.Close()
		rels := make([]string, len(paths))
		for i, p := range paths {
			rels[i] = p.rel
		}
		err = fsys.Remove(rels, famfs.RemoveOptions{Recursive: recursive, Force: force})
		if errors.Is(err, famfs.ErrNoReclaim) {
			return fmt.Errorf("%s: %w; nothing was removed", dev, famfs.ErrNoReclaim)
		}
		if err != nil {
			return fmt.Errorf("%w; nothing was removed", err)
		}
		notifyDaemons(dev)
		if verbose > 0 {
			for _, p := range paths {
				fmt.Fprintf(e.stdout, "famfs rm: removed %s\n", p.arg)
			}
		}
		warnLogFill(e, fsys)
		return nil
	}
	return cmd
}
