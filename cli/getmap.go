package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/omf"
	"github.com/spf13/cobra"
)

// GetmapFile is what getmap --json prints per file: what a program needs to
// mmap the device itself.
type GetmapFile struct {
	Path      string        `json:"path"`
	Device    string        `json:"device"`
	Size      uint64        `json:"size"`
	Type      string        `json:"type"` // "simple" or "interleaved"
	Extents   []omf.Extent  `json:"extents,omitempty"`
	ChunkSize uint64        `json:"chunk_size,omitempty"`
	Strips    []omf.Extent  `json:"strips,omitempty"`
	Segments  []omf.Segment `json:"segments"` // file offset → device offset runs, in file order
}

func newGetmapCmd(e *env) *cobra.Command {
	var quiet, cont, asJSON bool
	cmd := newCommand(&cobra.Command{
		Use:   "getmap [-q] [-c] [--json] <file>...",
		Short: "Print the extents of famfs files",
		Long: `Print where on the device each file's bytes live: its simple extents, or
its interleave chunk size and strips. --json adds the device path and the
file-offset → device-offset runs a program needs to mmap the device itself.` + pathHelp,
		Args: minArgs(1),
	})
	f := cmd.Flags()
	f.BoolVarP(&quiet, "quiet", "q", false, "print less")
	f.BoolVarP(&cont, "continue", "c", false, "go on after an error")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		code := 0
		var out []GetmapFile
		for _, a := range args {
			g, c, err := getmap(a)
			if err != nil {
				fmt.Fprintf(e.stderr, "famfs getmap: %s: %v\n", a, err)
				code = c
				if !cont {
					break
				}
				continue
			}
			if asJSON {
				out = append(out, g)
				continue
			}
			printMap(e, g, quiet)
			fmt.Fprintf(e.stdout, "famfs_getmap: good file %s\n", a)
		}
		if asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			enc.Encode(out)
		}
		if code != 0 {
			return &ExitError{Code: code}
		}
		return nil
	}
	return cmd
}

func getmap(arg string) (GetmapFile, int, error) {
	p, err := famfsPath(arg)
	if err != nil {
		return GetmapFile{}, getmapNotFamfs, errNotFamfs // the caller names arg
	}
	g := GetmapFile{Path: arg, Device: p.mount.Source}
	if sb, rel := metaFile(p.rel); rel != "" {
		fsys, err := famfs.Open(p.mount.Source, famfs.OpenOptions{ReadOnly: true})
		if err != nil {
			return g, getmapNoMap, err
		}
		defer fsys.Close()
		s := fsys.Superblock()
		ext := omf.Extent{Offset: 0, Len: omf.SuperblockRegion}
		if !sb {
			ext = omf.Extent{Offset: s.LogOffset, Len: s.LogLen}
		}
		g.Size, g.Type, g.Extents = ext.Len, "simple", []omf.Extent{ext}
		g.Segments = []omf.Segment{{FileOff: 0, DevOff: ext.Offset, Len: ext.Len}}
		return g, 0, nil
	}
	fsys, err := famfs.Open(p.mount.Source, famfs.OpenOptions{ReadOnly: true})
	if err != nil && !errors.Is(err, famfs.ErrLogDamaged) {
		return g, getmapNoMap, err
	}
	defer fsys.Close()
	info, err := fsys.Stat(p.rel)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return g, getmapMissing, errors.New("no such file")
	case err != nil:
		return g, getmapNoMap, err
	case info.IsDir():
		return g, getmapIsDir, errors.New("is a directory")
	}
	g.Size = info.Size
	m := info.FMap
	if m.Type == omf.ExtInterleave {
		g.Type = "interleaved"
		for _, ie := range m.Interleaved {
			g.ChunkSize, g.Strips = ie.ChunkSize, ie.Strips
		}
	} else {
		g.Type, g.Extents = "simple", m.Extents
	}
	g.Segments = m.Segments(info.Size)
	return g, 0, nil
}

// The files a mount serves in famfs.MetaDir: the superblock and log regions.
const (
	metaSuperblock = famfs.MetaDir + "/.superblock"
	metaLog        = famfs.MetaDir + "/.log"
)

// metaFile reports whether rel is .meta/.superblock (sb) or .meta/.log.
func metaFile(rel string) (sb bool, name string) {
	switch rel {
	case metaSuperblock:
		return true, rel
	case metaLog:
		return false, rel
	}
	return false, ""
}

func printMap(e *env, g GetmapFile, quiet bool) {
	if quiet {
		return
	}
	fmt.Fprintf(e.stdout, "File:     %s\n\tsize:    %d\n", g.Path, g.Size)
	if g.Type == "interleaved" {
		fmt.Fprintf(e.stdout, "\textents: 1\n\tInterleave_Param chunk_size: %d\n\tInterleaved extent has %d strips:\n", g.ChunkSize, len(g.Strips))
		for _, s := range g.Strips {
			fmt.Fprintf(e.stdout, "\t\t%x\t%d\n", s.Offset, s.Len)
		}
		return
	}
	fmt.Fprintf(e.stdout, "\textents: %d\n", len(g.Extents))
	for _, x := range g.Extents {
		fmt.Fprintf(e.stdout, "\t\t%x\t%d\n", x.Offset, x.Len)
	}
}
