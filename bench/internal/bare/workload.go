package bare

import (
	"fmt"
	"slices"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/omf"
)

// Entries are log entries as the format encodes them, to append with Log.
type Entries []omf.Entry

// EntriesFor is the number of entry slots of a log of logLen bytes.
func EntriesFor(logLen uint64) int { return int(omf.EntriesFor(logLen)) }

// Files counts the file entries of es.
func (es Entries) Files() int {
	n := 0
	for _, e := range es {
		if e.Type == omf.EntryFile {
			n++
		}
	}
	return n
}

// FirstFile is the path of the first file entry of es ("" if none).
func (es Entries) FirstFile() string {
	if i := slices.IndexFunc(es, func(e omf.Entry) bool { return e.Type == omf.EntryFile }); i >= 0 {
		return es[i].Path
	}
	return ""
}

// FromFiles is the log entries of files, as the library logged them (each
// with a simple map): what the creation baseline appends.
func FromFiles(files []*famfs.File) Entries {
	out := make(Entries, len(files))
	for i, file := range files {
		in := file.Info()
		fm := omf.FMap{Type: omf.ExtSimple}
		for _, x := range in.Map.Extents {
			fm.Extents = append(fm.Extents, omf.Extent{DevIndex: x.Device, Offset: x.Offset, Len: x.Len})
		}
		out[i] = omf.Entry{Type: omf.EntryFile, Size: in.Size, Flags: omf.FileFlagsAllHostsRW,
			UID: in.UID, GID: in.GID, Mode: uint32(in.Mode.Perm()), Path: in.Path, FMap: fm}
	}
	return out
}

// Dirs is a directory entry for each of paths (mode 0755, uid and gid 1000,
// as the workloads make them).
func Dirs(paths []string) Entries {
	out := make(Entries, len(paths))
	for i, d := range paths {
		out[i] = omf.Entry{Type: omf.EntryMkdir, UID: 1000, GID: 1000, Mode: 0o755, Path: d}
	}
	return out
}

// Workload shape: top-level directories, each with subdirectories that hold
// the files (a data set split into shards, the way famfs is used to share
// training data or tables).
const (
	topDirs = 20
	subDirs = 20
)

var suffixes = [...]string{".parquet", ".bin", ".npy", "-checkpoint.pt", ".arrow", ".idx"}

// Workload returns n log entries as a master would write them: nested
// directories (MKDIR) in log order before the files that go into them, and
// FILE entries with one 2 MiB-aligned extent each, allocated back to back from
// firstData. Sizes vary from 4 KiB up to a whole allocation unit; paths are
// about 40 bytes deep in two directory levels. With n = 15,420 (a full 8 MiB
// log) that is 420 directories and 15,000 files.
func Workload(n int, firstData uint64) Entries {
	top, sub := topDirs, subDirs
	for top > 1 && top+top*sub > n/2 { // keep most entries files in small logs
		top, sub = top/2, sub/2
		sub = max(sub, 1)
	}
	ndirs := top + top*sub
	if n < ndirs+1 {
		top, sub, ndirs = 0, 0, 0
	}
	nfiles := n - ndirs
	out := make(Entries, 0, n)
	file := 0
	add := func(dir string, count int) {
		for range count {
			p := fmt.Sprintf("part-%05d%s", file, suffixes[file%len(suffixes)])
			if dir != "" {
				p = dir + "/" + p
			}
			size := uint64(4096) + uint64(file)*7919*4096%(omf.AllocUnit-4096)
			out = append(out, omf.Entry{Type: omf.EntryFile, Size: size, Flags: omf.FileFlagsAllHostsRW,
				UID: 1000, GID: 1000, Mode: 0o644, Path: p,
				FMap: omf.FMap{Type: omf.ExtSimple, Extents: []omf.Extent{{Offset: firstData + uint64(file)*omf.AllocUnit, Len: omf.AllocUnit}}}})
			file++
		}
	}
	if ndirs == 0 {
		add("", nfiles)
		return out
	}
	leaves := top * sub
	for t := range top {
		td := fmt.Sprintf("dataset-%02d", t)
		out = append(out, omf.Entry{Type: omf.EntryMkdir, UID: 1000, GID: 1000, Mode: 0o755, Path: td})
		for s := range sub {
			sd := fmt.Sprintf("%s/shard-%03d", td, s)
			out = append(out, omf.Entry{Type: omf.EntryMkdir, UID: 1000, GID: 1000, Mode: 0o755, Path: sd})
			leaf := t*sub + s
			count := nfiles / leaves
			if leaf < nfiles%leaves {
				count++
			}
			add(sd, count)
		}
	}
	return out
}

// AppendAll appends es to the log of the file system on path, 1,024 entries
// an append.
func AppendAll(path string, es Entries) error {
	r, err := OpenMeta(path, true)
	if err != nil {
		return err
	}
	defer r.Close()
	l, err := NewLog(r.Log())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for len(es) > 0 {
		k := min(len(es), 1024)
		if err := l.Append(es[:k]); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		es = es[k:]
	}
	return nil
}
