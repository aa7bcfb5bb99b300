package bench

// Go benchmarks for the performance figures of `famfs bench`, each beside its
// same-run baseline:
//
//	BenchmarkReplayFullLog      vs BenchmarkReplayFloorReadCRC      (ratio target <= 4x)
//	BenchmarkBatchCreate10k      vs BenchmarkAppendBare10k           (<= 2x, > 10,000 files/s)
//	BenchmarkMapRead            vs BenchmarkRawMmapRead             (>= 0.97x)
//	BenchmarkNamespaceHeap      reports heap-MiB                    (well under 32 MiB)
//
// Device files go to $FAMFS_BENCH_DIR (default /dev/shm); a tmpfs mounted
// with huge=always gives the 2 MiB faults of devdax. With -short the mapped
// file is 64 MiB instead of 1 GiB. Each benchmark also reports cpu-ns/op,
// the process CPU time per operation, which is steadier than wall time on a
// busy machine. Compare ratios, not absolute times.

import (
	"os"
	"testing"
	"time"

	"github.com/famfs-go/famfs/bench/internal/bare"

	"github.com/famfs-go/famfs"
)

// benchDir is where Go benchmarks keep device files: $FAMFS_BENCH_DIR, else
// /dev/shm, else a temporary directory.
func benchDir(tb testing.TB) string {
	if d := os.Getenv("FAMFS_BENCH_DIR"); d != "" {
		return d
	}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return tb.TempDir()
}

// benchDevice names a device file in benchDir that does not exist yet (Mkfs
// creates it with its size) and is removed when the benchmark ends.
func benchDevice(tb testing.TB) string {
	tb.Helper()
	f, err := os.CreateTemp(benchDir(tb), "famfs-bench-*.img")
	if err != nil {
		tb.Fatal(err)
	}
	f.Close()
	os.Remove(f.Name())
	tb.Cleanup(func() { os.Remove(f.Name()) })
	return f.Name()
}

// cpuClock reports the process CPU time per op when the benchmark ends.
func cpuClock(b *testing.B) func() {
	c0 := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op") }
}

func benchLogImage(b *testing.B) *logImage {
	b.Helper()
	im, err := openLogImage(benchDevice(b), 8<<20)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(im.close)
	return im
}

// BenchmarkReplayFullLog replays a full 8 MiB log (15,420 entries: 420
// directories, 15,000 files in two levels) into a fresh namespace with
// FS.Rescan, on a file system already open (its mapping faulted in).
func BenchmarkReplayFullLog(b *testing.B) {
	im := benchLogImage(b)
	if err := im.replay(); err != nil { // fault the mapping in
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer cpuClock(b)()
	for b.Loop() {
		if err := im.replay(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(im.entries), "ns/entry")
}

// BenchmarkReplayFloorReadCRC is the replay floor: read the same 8 MiB from
// a plain mapping of the device (in replay's chunk size) and CRC-32 every
// byte.
func BenchmarkReplayFloorReadCRC(b *testing.B) {
	im := benchLogImage(b)
	buf := make([]byte, bare.FloorChunk)
	log := im.raw.Log()
	bare.ReadCRC(log, buf)
	b.SetBytes(int64(len(log)))
	defer cpuClock(b)()
	for b.Loop() {
		bare.ReadCRC(log, buf)
	}
}

// BenchmarkReplayFloorInvalidateReadCRC adds what a reader of non-coherent
// shared memory must do first and replay does: drop the log's cache lines,
// so the read comes from memory.
func BenchmarkReplayFloorInvalidateReadCRC(b *testing.B) {
	im := benchLogImage(b)
	buf := make([]byte, bare.FloorChunk)
	log := im.raw.Log()
	bare.ReadCRC(log, buf)
	b.SetBytes(int64(len(log)))
	defer cpuClock(b)()
	for b.Loop() {
		famfs.InvalidateCache(log)
		bare.ReadCRC(log, buf)
	}
}

// BenchmarkReplayOpenFresh opens the file system (a fresh mapping of its
// metadata, so its page faults, and a full replay) and closes it again.
func BenchmarkReplayOpenFresh(b *testing.B) {
	im := benchLogImage(b)
	b.ReportAllocs()
	defer cpuClock(b)()
	for b.Loop() {
		if err := im.openFresh(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplayFloorFreshReadCRC is the floor of BenchmarkReplayOpenFresh:
// a fresh plain mapping, read and CRC of the log, unmap.
func BenchmarkReplayFloorFreshReadCRC(b *testing.B) {
	im := benchLogImage(b)
	buf := make([]byte, bare.FloorChunk)
	b.SetBytes(int64(len(im.raw.Log())))
	defer cpuClock(b)()
	for b.Loop() {
		if err := im.readCRCFresh(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBatchCreate10k creates 10,000 files (in 100 directories) with one
// batch: one hold of the log lock, one append of all the entries.
func BenchmarkBatchCreate10k(b *testing.B) {
	batch, path := newCreateBatch(10000), benchDevice(b)
	var cpu time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		f, err := batch.newFS(path, false)
		if err != nil {
			b.Fatal(err)
		}
		c0 := cpuTime()
		b.StartTimer()
		if _, err := batch.run(f); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime() - c0
		f.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(len(batch.Files))/(b.Elapsed().Seconds()/float64(b.N)), "files/s")
}

// BenchmarkAppendBare10k appends the entries BenchmarkBatchCreate10k logs, one
// bare append each through a plain mapping of the log: the floor of creating
// files one by one.
func BenchmarkAppendBare10k(b *testing.B) {
	batch, path := newCreateBatch(10000), benchDevice(b)
	f, err := batch.newFS(path, false)
	if err != nil {
		b.Fatal(err)
	}
	entries, err := batch.run(f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		a, err := batch.newAppendLog(path)
		if err != nil {
			b.Fatal(err)
		}
		c0 := cpuTime()
		b.StartTimer()
		if err := a.appendEach(entries); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime() - c0
		a.close()
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

func benchMapFile(b *testing.B) *mapFile {
	b.Helper()
	size := uint64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	mf, err := newMapFile(benchDevice(b), size, false)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(mf.close)
	return mf
}

// BenchmarkMapRead reads a 1 GiB file through File.Map, summing 8-byte words
// (one mapping, warm page tables); compare with BenchmarkRawMmapRead.
func BenchmarkMapRead(b *testing.B) {
	mf := benchMapFile(b)
	m, err := mf.File.Map(famfs.MapOptions{Access: famfs.MapReadOnly})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Unmap()
	benchRead(b, mf, m.Bytes())
}

// BenchmarkRawMmapRead is the same loop over a plain mmap of the device bytes
// behind the file.
func BenchmarkRawMmapRead(b *testing.B) {
	mf := benchMapFile(b)
	raw, err := mf.mapRaw()
	if err != nil {
		b.Fatal(err)
	}
	defer mf.unmapRaw(raw)
	benchRead(b, mf, raw)
}

func benchRead(b *testing.B, mf *mapFile, mem []byte) {
	if sumWords(mem) != mf.Sum { // fault it in, check it
		b.Fatal("wrong contents")
	}
	b.SetBytes(int64(len(mem)))
	defer cpuClock(b)()
	for b.Loop() {
		if sumWords(mem) != mf.Sum {
			b.Fatal("wrong contents")
		}
	}
}

// BenchmarkNamespaceHeap opens a file system whose 8 MiB log is full and
// reports the heap the open FS keeps in use after a GC (heap-MiB) and per
// entry (heap-B/entry).
func BenchmarkNamespaceHeap(b *testing.B) {
	im := benchLogImage(b)
	var use heapUse
	for b.Loop() {
		u, err := openFSHeap(im.path)
		if err != nil {
			b.Fatal(err)
		}
		use = u
	}
	b.ReportMetric(float64(use.Inuse)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(use.Alloc)/float64(im.entries), "heap-B/entry")
}
