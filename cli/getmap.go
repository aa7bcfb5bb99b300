package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

// GetmapFile is what getmap learns of a file: what a program needs to mmap
// the device itself.
type GetmapFile struct {
	Path      string
	Device    string
	Size      uint64
	Type      string // "simple" or "interleaved"
	Extents   []famfs.Extent
	ChunkSize uint64
	Strips    []famfs.Extent
	Segments  []famfs.Segment // file offset → device offset runs, in file order
}

// getmapJSON is the --json form of a GetmapFile (the schema of every --json
// output: snake_case keys, units in the names, [] for an empty list).
type getmapJSON struct {
	Path      string        `json:"path"`
	Device    string        `json:"device"`
	Size      uint64        `json:"size_bytes"`
	Type      string        `json:"type"` // "simple" or "interleaved"
	Extents   []extentJSON  `json:"extents"`
	ChunkSize uint64        `json:"chunk_size_bytes,omitempty"`
	Strips    []extentJSON  `json:"strips"`
	Segments  []segmentJSON `json:"segments"` // file offset → device offset runs, in file order
}

type extentJSON struct {
	DevIndex uint64 `json:"device_index"`
	Offset   uint64 `json:"offset_bytes"`
	Len      uint64 `json:"length_bytes"`
}

type segmentJSON struct {
	FileOff uint64 `json:"file_offset_bytes"`
	DevOff  uint64 `json:"device_offset_bytes"`
	Len     uint64 `json:"length_bytes"`
}

func (g *GetmapFile) json() getmapJSON {
	ext := func(es []famfs.Extent) []extentJSON {
		out := make([]extentJSON, len(es))
		for i, e := range es {
			out[i] = extentJSON{DevIndex: e.Device, Offset: e.Offset, Len: e.Len}
		}
		return out
	}
	segs := make([]segmentJSON, len(g.Segments))
	for i, s := range g.Segments {
		segs[i] = segmentJSON{FileOff: s.FileOff, DevOff: s.DevOff, Len: s.Len}
	}
	return getmapJSON{Path: g.Path, Device: g.Device, Size: g.Size, Type: g.Type, Extents: ext(g.Extents),
		ChunkSize: g.ChunkSize, Strips: ext(g.Strips), Segments: segs}
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
			js := make([]getmapJSON, len(out))
			for i, g := range out {
				js[i] = g.json()
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			enc.Encode(js)
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
		ext := famfs.Extent{Offset: 0, Len: s.LogOffset} // the superblock region ends where the log begins
		if !sb {
			ext = famfs.Extent{Offset: s.LogOffset, Len: s.LogLen}
		}
		g.Size, g.Type, g.Extents = ext.Len, "simple", []famfs.Extent{ext}
		g.Segments = []famfs.Segment{{FileOff: 0, DevOff: ext.Offset, Len: ext.Len}}
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
	m := info.Map
	if m.Interleaved {
		g.Type = "interleaved"
		for _, ie := range m.Interleave {
			g.ChunkSize, g.Strips = ie.ChunkSize, ie.Strips
		}
	} else {
		g.Type, g.Extents = "simple", m.Extents
	}
	f, err := fsys.OpenFile(p.rel)
	if err != nil {
		return g, getmapNoMap, err
	}
	// The file's bytes, not the slack after its end that a mapping shows.
	for _, s := range f.Segments() {
		if s.FileOff >= info.Size {
			break
		}
		s.Len = min(s.Len, info.Size-s.FileOff)
		g.Segments = append(g.Segments, s)
	}
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
