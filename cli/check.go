package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	famfs "github.com/famfs-go/famfs"

	"github.com/spf13/cobra"
)

func newCheckCmd(e *env) *cobra.Command {
	var verbose int
	cmd := newCommand(&cobra.Command{
		Use:   "check [-v] <mountpoint>",
		Short: "Check that everything a mount shows is a mapped famfs file",
		Long: `Walk the mounted tree and check that every regular file and directory is
in the replayed log with a valid map (the .meta files included).` + pathHelp,
		Args: exactArgs(1),
	})
	cmd.Flags().CountVarP(&verbose, "verbose", "v", "list what is checked")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		mpt := args[0]
		if !filepath.IsAbs(mpt) {
			return fmt.Errorf("%s: the mount point must be an absolute path", mpt)
		}
		p, err := famfsPath(mpt)
		if err != nil || p.rel != "" {
			return fmt.Errorf("%s: not a famfs mount point", mpt)
		}
		fsys, err := openFS(p.mount.Source)
		if err != nil {
			return err
		}
		defer fsys.Close()
		var files, dirs, bad int
		werr := filepath.WalkDir(p.mount.Point, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Fprintf(e.stderr, "famfs check: %s: %v\n", path, unwrapPathErr(err))
				bad++
				return nil
			}
			rel, _ := filepath.Rel(p.mount.Point, path)
			rel = filepath.ToSlash(rel)
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
				fmt.Fprintf(e.stderr, "famfs check: %s: not in the log\n", path)
				bad++
			case d.IsDir() != info.IsDir():
				fmt.Fprintf(e.stderr, "famfs check: %s: type differs from the log\n", path)
				bad++
			case d.IsDir():
				dirs++
			default:
				files++
				if err := info.FMap.Validate(info.Size, fsys.Superblock().DevSize, fsys.Superblock().AllocUnit); err != nil {
					fmt.Fprintf(e.stderr, "famfs check: %s: %v\n", path, err)
					bad++
				} else if verbose > 0 {
					fmt.Fprintf(e.stdout, "famfs check: %s: mapped\n", path)
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
