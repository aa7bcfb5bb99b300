package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	famfs "github.com/famfs-go/famfs"

	"github.com/spf13/cobra"
)

func newCheckCmd(e *env) *cobra.Command {
	var verbose int
	cmd := newCommand(&cobra.Command{
		Use:   "check [-v] <mountpoint>",
		Short: "Check that everything a mount shows is a mapped famfs file",
		Long: `Walk a mounted famfs tree and check that every regular file and directory
is in the replayed log with a valid map (the .meta files included). The
mount point is given like any path: absolute, or relative to the working
directory.`,
		Args: exactArgs(1),
	})
	cmd.Flags().CountVarP(&verbose, "verbose", "v", "list what is checked")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		p, err := famfsPath(args[0])
		if err != nil {
			return err
		}
		if _, err := os.Lstat(p.arg); err != nil {
			return fmt.Errorf("%s: %w", p.arg, unwrapPathErr(err))
		}
		if p.rel != "" {
			return fmt.Errorf("%s: not a famfs mount point (check walks a whole mount)", p.arg)
		}
		fsys, err := openFS(p.device)
		if err != nil {
			return err
		}
		defer fsys.Close()
		var files, dirs, bad int
		werr := filepath.WalkDir(p.arg, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Fprintf(e.stderr, "famfs check: %s: %v\n", name, unwrapPathErr(err))
				bad++
				return nil
			}
			under, _ := filepath.Rel(p.arg, name)
			rel := path.Join(p.rel, filepath.ToSlash(under))
			if rel == "." || rel == famfs.MetaDir {
				return nil
			}
			if _, meta := metaFile(rel); meta != "" {
				files++
				return nil
			}
			info, err := fsys.Stat(rel)
			switch {
			case err != nil:
				fmt.Fprintf(e.stderr, "famfs check: %s: not in the log\n", name)
				bad++
			case d.IsDir() != info.IsDir() || (d.Type()&fs.ModeSymlink != 0) != (info.Mode&fs.ModeSymlink != 0):
				fmt.Fprintf(e.stderr, "famfs check: %s: type differs from the log\n", name)
				bad++
			case info.Mode&fs.ModeSymlink != 0:
				// a symbolic link: no space, nothing mapped
			case d.IsDir():
				dirs++
			default:
				// Replay checked its map against the device: an entry
				// whose map is not valid never enters the namespace (it
				// is one of the log's problems, and the file is then
				// "not in the log" here).
				files++
				if verbose > 0 {
					fmt.Fprintf(e.stdout, "famfs check: %s: mapped\n", name)
				}
			}
			return nil
		})
		fmt.Fprintf(e.stdout, "famfs_check: %d files, %d directories, %d errors\n", files, dirs, bad)
		if werr != nil || bad > 0 {
			return &ExitError{Code: ExitFailure, Err: errors.Join(werr)}
		}
		return nil
	}
	return cmd
}
