package metalog_test

// Log-level parts of the replay and creation figures (see package bench):
// replaying a full log without building a tree against its read+CRC floor,
// and the single-entry Append that a file creation costs at least.

import (
	"hash/crc32"
	"os"
	"testing"

	"github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/bench"
	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

// benchDevice names a device file that does not exist yet in
// $FAMFS_BENCH_DIR, else /dev/shm, else a temporary directory; it is removed
// when the benchmark ends.
func benchDevice(b *testing.B) string {
	b.Helper()
	dir := os.Getenv("FAMFS_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			dir = "/dev/shm"
		}
	}
	f, err := os.CreateTemp(dir, "famfs-bench-*.img")
	if err != nil {
		b.Fatal(err)
	}
	f.Close()
	os.Remove(f.Name())
	b.Cleanup(func() { os.Remove(f.Name()) })
	return f.Name()
}

// openLog maps the metadata of the default-geometry file system at path
// (log at omf.LogOffset, omf.DefaultLogLen long) and returns its log and a
// function that unmaps and closes it.
func openLog(b *testing.B, path string, write bool) (*metalog.Log, *device.Mapping, func()) {
	b.Helper()
	dev, err := device.Open(path, write)
	if err != nil {
		b.Fatal(err)
	}
	meta, err := dev.Map(0, omf.LogOffset+omf.DefaultLogLen, write)
	if err != nil {
		dev.Close()
		b.Fatal(err)
	}
	return metalog.New(metalog.Sub(meta, omf.LogOffset), omf.DefaultLogLen), meta, func() { meta.Unmap(); dev.Close() }
}

// fullLog opens a device whose 8 MiB log is full (bench.FullLogDevice).
func fullLog(b *testing.B) (l *metalog.Log, meta *device.Mapping, next uint64) {
	b.Helper()
	path := benchDevice(b)
	if _, _, err := bench.FullLogDevice(path, omf.DefaultLogLen); err != nil {
		b.Fatal(err)
	}
	l, meta, done := openLog(b, path, false)
	b.Cleanup(done)
	h, err := l.Header()
	if err != nil {
		b.Fatal(err)
	}
	return l, meta, h.NextIndex
}

// BenchmarkReplayFullNoTree replays all 15,420 entries of a full 8 MiB log
// (invalidate, read, check, decode) with a visitor that does nothing.
func BenchmarkReplayFullNoTree(b *testing.B) {
	l, _, n := fullLog(b)
	visit := func(i uint64, e *omf.Entry, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	l.Replay(0, n, visit)
	b.ReportAllocs()
	b.SetBytes(omf.DefaultLogLen)
	for b.Loop() {
		if next, err := l.Replay(0, n, visit); err != nil || next != n {
			b.Fatal(next, err)
		}
	}
}

// BenchmarkReadCRCFloor reads the same 8 MiB from the same mapping, in
// replay's 256-entry chunks, and CRC-32s it.
func BenchmarkReadCRCFloor(b *testing.B) {
	_, meta, _ := fullLog(b)
	buf := make([]byte, 256*omf.EntrySize)
	readCRC := func() {
		var crc uint32
		for off := uint64(0); off < omf.DefaultLogLen; off += uint64(len(buf)) {
			c := buf[:min(uint64(len(buf)), omf.DefaultLogLen-off)]
			if err := meta.ReadAt(c, omf.LogOffset+off); err != nil {
				b.Fatal(err)
			}
			crc = crc32.Update(crc, crc32.IEEETable, c)
		}
	}
	readCRC()
	b.SetBytes(omf.DefaultLogLen)
	for b.Loop() {
		readCRC()
	}
}

// BenchmarkAppendOne appends one FILE entry per op (a fresh log whenever it
// fills): the log's share of creating one file.
func BenchmarkAppendOne(b *testing.B) {
	path := benchDevice(b)
	es := bench.LogEntries(int(omf.EntriesFor(omf.DefaultLogLen)), omf.LogOffset+omf.DefaultLogLen)
	var l *metalog.Log
	done := func() {}
	defer func() { done() }()
	k := len(es)
	b.ReportAllocs()
	for b.Loop() {
		if k == len(es) {
			b.StopTimer()
			done()
			if _, err := famfs.Mkfs(path, famfs.MkfsOptions{Size: omf.MinDeviceSize, Force: true, SystemUUID: benchUUID}); err != nil {
				b.Fatal(err)
			}
			l, _, done = openLog(b, path, true)
			k = 0
			b.StartTimer()
		}
		if _, err := l.Append(es[k : k+1]); err != nil {
			b.Fatal(err)
		}
		k++
	}
}

// benchUUID is the system UUID of the file systems made here (so that Mkfs
// does not read or create the host's).
var benchUUID = uuid.MustParse("b3bc0000-0000-4000-8000-0000000000a1")
