package bench

import (
	"os"
	"unsafe"

	"github.com/famfs-go/famfs/bench/internal/bare"

	"github.com/famfs-go/famfs"
	"github.com/google/uuid"
)

// masterUUID is the system UUID the benchmark file systems are made and
// opened with, so that the benchmarks never depend on the host's identity;
// clientUUID opens them as another host.
var (
	masterUUID = uuid.MustParse("b3bc0000-0000-4000-8000-00000000b3bc")
	clientUUID = uuid.MustParse("b3bc0000-0000-4000-8000-00000000c11e")
)

// LogEntries returns n log entries as a master would write them, allocated
// back to back from firstData (bare.Workload): the entries the replay figures
// log, in the format codec's form.
func LogEntries(n int, firstData uint64) bare.Entries { return bare.Workload(n, firstData) }

// DeviceSizeFor is a device size (whole GiB, at least the 4 GiB mkfs needs)
// that holds the metadata of a logLen log and nfiles one-unit files.
func DeviceSizeFor(logLen uint64, nunits int) uint64 {
	need := famfs.Format().LogOffset + logLen + uint64(nunits)*allocUnit
	return max(famfs.Format().MinDeviceSize, (need+(1<<30)-1)&^((1<<30)-1))
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
	n := bare.EntriesFor(logLen)
	es := bare.Workload(n, famfs.Format().LogOffset+logLen)
	files = es.Files()
	if _, err := famfs.Mkfs(path, famfs.MkfsOptions{Size: DeviceSizeFor(logLen, files), LogLen: logLen, Force: true, SystemUUID: masterUUID}); err != nil {
		return 0, 0, err
	}
	if made != nil {
		if err := made(); err != nil {
			return 0, 0, err
		}
	}
	if err := bare.AppendAll(path, es); err != nil {
		return 0, 0, err
	}
	return n, files, nil
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
