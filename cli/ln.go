package cli

import (
	"fmt"
	"os"
	"path"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

func newLnCmd(e *env) *cobra.Command {
	var (
		symbolic bool
		verbose  int
	)
	cmd := newCommand(&cobra.Command{
		Use:   "ln -s <target> <link>",
		Short: "Make a famfs symbolic link (master only)",
		Long: `Log a symbolic link at <link> pointing to <target>. The target is only a
string, as in every file system: it is neither checked nor resolved, and may
be relative (to the link's directory) or absolute, inside famfs or not, at
most 423 bytes. If <link> is an existing famfs directory, the link is made in
it under the target's last component, as ln(1) does. famfs has no hard links:
-s is required. The caller's uid and gid are logged as the link's. The reference's tools skip
symlink entries: a host running them does not see the link.` + masterHelp + pathHelp,
		Args: exactArgs(2),
	})
	f := cmd.Flags()
	f.BoolVarP(&symbolic, "symbolic", "s", false, "make a symbolic link (the only kind famfs has)")
	f.CountVarP(&verbose, "verbose", "v", "say what is made")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if !symbolic {
			return usagef("famfs has no hard links; use ln -s for a symbolic link")
		}
		target, link := args[0], args[1]
		paths, dev, fsys, err := openMasterFor(link)
		if err != nil {
			return err
		}
		defer fsys.Close()
		p := paths[0]
		if in, err := fsys.Stat(p.rel); err == nil && in.IsDir() {
			p.rel = path.Join(p.rel, path.Base(target))
			p.arg = path.Join(p.arg, path.Base(target))
		}
		err = fsys.Symlink(target, p.rel, famfs.SymlinkOptions{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())})
		notifyDaemons(dev)
		warnLogFill(e, fsys)
		if err != nil {
			return &ExitError{Code: ExitFailure, Err: pathErr(p, err)}
		}
		if verbose > 0 {
			fmt.Fprintf(e.stdout, "famfs ln: %s -> %s\n", p.arg, target)
		}
		return nil
	}
	return cmd
}
