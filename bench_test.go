package famfs_test

// Benchmarks for the performance figures of `famfs bench` (package bench),
// each beside its same-run baseline:
//
//	BenchmarkReplayFullLog      vs BenchmarkReplayFloorReadCRC      (ratio target <= 4x)
//	BenchmarkCreateMany10k      vs BenchmarkAppendBare10k           (<= 2x, > 10,000 files/s)
//	BenchmarkMapRead            vs BenchmarkRawMmapRead             (>= 0.97x)
//	BenchmarkNamespaceHeap      reports heap-MiB                    (well under 32 MiB)
//
// Device files go to $FAMFS_BENCH_DIR (default /dev/shm); a tmpfs mounted
// with huge=always gives the 2 MiB faults of devdax. With -short the mapped
// file is 64 MiB instead of 1 GiB. Each benchmark also reports cpu-ns/op,
// the process CPU time per operation, which is steadier than wall time on a
// busy machine. Compare ratios, not absolute times.

import (
	"testing"
	"time"

	"github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/bench"
	"github.com/famfs-go/famfs/internal/device"
)

// cpuClock reports the process CPU time per op when the benchmark ends.
func cpuClock(b *testing.B) func() {
	c0 := bench.CPUTime()
	return func() { b.ReportMetric(float64(bench.CPUTime()-c0)/float64(b.N), "cpu-ns/op") }
}

func logImage(b *testing.B) *bench.LogImage {
	b.Helper()
	im, err := bench.OpenLogImage(bench.TestDevice(b), 8<<20)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(im.Close)
	return im
}

// BenchmarkReplayFullLog replays a full 8 MiB log (15,420 entries: 420
// directories, 15,000 files in two levels) into a fresh namespace tree, from
// one mapping of the log.
func BenchmarkReplayFullLog(b *testing.B) {
	im := logImage(b)
	im.Replay() // fault the mapping in
	b.ReportAllocs()
	defer cpuClock(b)()
	for b.Loop() {
		if _, err := im.Replay(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(im.Entries), "ns/entry")
}

// BenchmarkReplayFloorReadCRC is the replay floor: read the same 8 MiB from
// the same mapping (in replay's chunk size) and CRC-32 every byte.
func BenchmarkReplayFloorReadCRC(b *testing.B) {
	im := logImage(b)
	buf := bench.FloorBuffer()
	im.ReadCRC(buf)
	b.SetBytes(int64(im.SB.LogLen))
	defer cpuClock(b)()
	for b.Loop() {
		if _, err := im.ReadCRC(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplayFloorInvalidateReadCRC adds what a reader of non-coherent
// shared memory must do first and replay does: drop the log's cache lines,
// so the read comes from memory.
func BenchmarkReplayFloorInvalidateReadCRC(b *testing.B) {
	im := logImage(b)
	buf := bench.FloorBuffer()
	im.ReadCRC(buf)
	b.SetBytes(int64(im.SB.LogLen))
	defer cpuClock(b)()
	for b.Loop() {
		device.Invalidate(im.LogBytes())
		if _, err := im.ReadCRC(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func createBatch(b *testing.B) (bench.CreateBatch, string) {
	return bench.NewCreateBatch(10000), bench.TestDevice(b)
}

// BenchmarkCreateMany10k creates 10,000 files (in 100 directories) with one
// CreateMany: one hold of the log lock, one log entry appended per file.
func BenchmarkCreateMany10k(b *testing.B) {
	batch, path := createBatch(b)
	var cpu time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		f, err := batch.NewFS(path)
		if err != nil {
			b.Fatal(err)
		}
		c0 := bench.CPUTime()
		b.StartTimer()
		if _, err := batch.Run(f); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += bench.CPUTime() - c0
		f.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(len(batch.Files))/(b.Elapsed().Seconds()/float64(b.N)), "files/s")
}

// BenchmarkAppendBare10k appends the entries BenchmarkCreateMany10k logs, one
// bare metalog.Append call each: the floor of creating files one by one.
func BenchmarkAppendBare10k(b *testing.B) {
	batch, path := createBatch(b)
	f, err := batch.NewFS(path)
	if err != nil {
		b.Fatal(err)
	}
	entries, err := batch.Run(f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		a, err := batch.NewAppendLog(path)
		if err != nil {
			b.Fatal(err)
		}
		c0 := bench.CPUTime()
		b.StartTimer()
		if err := a.AppendEach(entries); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += bench.CPUTime() - c0
		a.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

func mapFile(b *testing.B) *bench.MapFile {
	b.Helper()
	size := uint64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	mf, err := bench.NewMapFile(bench.TestDevice(b), size)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(mf.Close)
	return mf
}

// BenchmarkMapRead reads a 1 GiB file through File.Map, summing 8-byte words
// (one mapping, warm page tables); compare with BenchmarkRawMmapRead.
func BenchmarkMapRead(b *testing.B) {
	mf := mapFile(b)
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
	mf := mapFile(b)
	raw, err := mf.MapRaw()
	if err != nil {
		b.Fatal(err)
	}
	defer mf.UnmapRaw(raw)
	benchRead(b, mf, raw)
}

func benchRead(b *testing.B, mf *bench.MapFile, mem []byte) {
	if bench.SumWords(mem) != mf.Sum { // fault it in, check it
		b.Fatal("wrong contents")
	}
	b.SetBytes(int64(len(mem)))
	defer cpuClock(b)()
	for b.Loop() {
		if bench.SumWords(mem) != mf.Sum {
			b.Fatal("wrong contents")
		}
	}
}

// BenchmarkNamespaceHeap opens a file system whose 8 MiB log is full and
// reports the heap the open FS keeps in use after a GC (heap-MiB) and per
// entry (heap-B/entry).
func BenchmarkNamespaceHeap(b *testing.B) {
	im := logImage(b)
	path := im.Dev.Path
	var use bench.HeapUse
	for b.Loop() {
		var fsys *famfs.FS
		u, err := bench.MeasureHeap(func() (any, error) {
			var err error
			fsys, err = famfs.Open(path, famfs.OpenOptions{SystemUUID: bench.MasterUUID})
			return fsys, err
		})
		if err != nil {
			b.Fatal(err)
		}
		fsys.Close()
		use = u
	}
	b.ReportMetric(float64(use.Inuse)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(use.Alloc)/float64(im.Entries), "heap-B/entry")
}
