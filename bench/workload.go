package bench

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/omf"
	"github.com/google/uuid"
)

// masterUUID is the system UUID the benchmark file systems are made and
// opened with, so that the benchmarks never depend on the host's identity;
// clientUUID opens them as another host.
var (
	masterUUID = uuid.MustParse("b3bc0000-0000-4000-8000-00000000b3bc")
	clientUUID = uuid.MustParse("b3bc0000-0000-4000-8000-00000000c11e")
)

// Workload shape: top-level directories, each with subdirectories that hold
// the files (a data set split into shards, the way famfs is used to share
// training data or tables).
const (
	topDirs = 20
	subDirs = 20
)

var suffixes = [...]string{".parquet", ".bin", ".npy", "-checkpoint.pt", ".arrow", ".idx"}

// LogEntries returns n log entries as a master would write them: nested
// directories (MKDIR) in log order before the files that go into them, and
// FILE entries with one 2 MiB-aligned extent each, allocated back to back from
// firstData. Sizes vary from 4 KiB up to a whole allocation unit; paths are
// about 40 bytes deep in two directory levels. With n = 15,420 (a full 8 MiB
// log) that is 420 directories and 15,000 files.
func LogEntries(n int, firstData uint64) []omf.Entry {
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
	out := make([]omf.Entry, 0, n)
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

// DeviceSizeFor is a device size (whole GiB, at least the 4 GiB mkfs needs)
// that holds the metadata of a logLen log and nfiles one-unit files.
func DeviceSizeFor(logLen uint64, nunits int) uint64 {
	need := omf.LogOffset + logLen + uint64(nunits)*omf.AllocUnit
	return max(omf.MinDeviceSize, (need+(1<<30)-1)&^((1<<30)-1))
}

// FullLogDevice makes a famfs file system on a sparse device file at path
// whose log of logLen bytes is completely full of LogEntries, and returns how
// many entries (and of them files) it holds. The entries are appended in large
// batches through a raw mapping of the log, entry images encoded by omf: the
// bytes are exactly what the master's library writes for the same files.
//
// LogEntries, DeviceSizeFor and FullLogDevice are the workload of the replay
// and memory figures, exported so that the benchmarks of the layers below the
// library can measure their share of the same work.
func FullLogDevice(path string, logLen uint64) (entries, files int, err error) {
	return fullLogDevice(path, logLen, nil)
}

// fullLogDevice is FullLogDevice; it calls made, if set, once the file system
// is made and before its log is filled.
func fullLogDevice(path string, logLen uint64, made func() error) (entries, files int, err error) {
	n := int(omf.EntriesFor(logLen))
	es := LogEntries(n, omf.LogOffset+logLen)
	for _, e := range es {
		if e.Type == omf.EntryFile {
			files++
		}
	}
	if _, err := famfs.Mkfs(path, famfs.MkfsOptions{Size: DeviceSizeFor(logLen, files), LogLen: logLen, Force: true, SystemUUID: masterUUID}); err != nil {
		return 0, 0, err
	}
	if made != nil {
		if err := made(); err != nil {
			return 0, 0, err
		}
	}
	if err := appendAll(path, es); err != nil {
		return 0, 0, err
	}
	return n, files, nil
}

// appendAll appends es to the log of the file system on path, 1,024 entries
// an append.
func appendAll(path string, es []omf.Entry) error {
	r, err := openRawMeta(path, true)
	if err != nil {
		return err
	}
	defer r.close()
	l, err := newRawLog(r.log())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for len(es) > 0 {
		k := min(len(es), 1024)
		if err := l.append(es[:k]); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		es = es[k:]
	}
	return nil
}

// sumWords adds up b as little-endian 8-byte words (a trailing partial word
// is ignored): a read loop that touches every cache line and runs at memory
// bandwidth, for comparing two mappings of the same bytes.
func sumWords(b []byte) uint64 {
	n := len(b) / 8
	if n == 0 {
		return 0
	}
	w := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), n)
	var s0, s1, s2, s3 uint64
	i := 0
	for ; i+8 <= n; i += 8 {
		v := w[i : i+8 : i+8]
		s0 += v[0] + v[4]
		s1 += v[1] + v[5]
		s2 += v[2] + v[6]
		s3 += v[3] + v[7]
	}
	for ; i < n; i++ {
		s0 += w[i]
	}
	return s0 + s1 + s2 + s3
}

func removeQuiet(path string) { os.Remove(path) }
