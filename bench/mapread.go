package bench

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/famfs-go/famfs"
	"golang.org/x/sys/unix"
)

// MapTarget is the mapped-read target: File.Map must read at least this
// fraction of the raw mmap's bandwidth.
const MapTarget = 0.97

// mapFile is a famfs file of known contents, for the mapped-read figure.
type mapFile struct {
	FS     *famfs.FS
	File   *famfs.File
	DevOff uint64 // device offset of the file's single extent
	Sum    uint64 // sumWords of its bytes
	raw    *os.File
}

// newMapFile makes a file system at path holding one contiguous file of size
// bytes, fills it with a pattern (so every page is allocated and the reads
// see real data) and records its checksum.
func newMapFile(path string, size uint64, reclaim bool) (*mapFile, error) {
	devSize := max(famfs.Format().MinDeviceSize, (famfs.Format().LogOffset+famfs.Format().DefaultLogLen+size+(1<<30)-1)&^((1<<30)-1))
	if _, err := famfs.Mkfs(path, famfs.MkfsOptions{Size: devSize, Force: true, SystemUUID: masterUUID, Reclaim: reclaim}); err != nil {
		return nil, err
	}
	f, err := famfs.Open(path, famfs.OpenOptions{SystemUUID: masterUUID})
	if err != nil {
		return nil, err
	}
	mf := &mapFile{FS: f}
	if mf.File, err = f.Create("big", famfs.CreateOptions{Size: size, Mode: 0o644}); err != nil {
		mf.close()
		return nil, err
	}
	segs := mf.File.Segments()
	if len(segs) != 1 {
		mf.close()
		return nil, fmt.Errorf("the %d-byte file has %d device runs, want 1", size, len(segs))
	}
	mf.DevOff = segs[0].DevOff
	m, err := mf.File.Map(famfs.MapOptions{Access: famfs.MapReadWrite})
	if err != nil {
		mf.close()
		return nil, err
	}
	b := m.Bytes()
	w := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
	for i := range w {
		w[i] = uint64(i)*0x9E3779B97F4A7C15 + 1
	}
	m.Flush()
	mf.Sum = sumWords(b)
	m.Unmap()
	if mf.raw, err = os.Open(path); err != nil {
		mf.close()
		return nil, err
	}
	return mf, nil
}

// close closes the file system.
func (mf *mapFile) close() {
	if mf.raw != nil {
		mf.raw.Close()
	}
	mf.FS.Close()
}

// readMapped maps the file with File.Map, then reads it twice with sumWords:
// the first pass takes the page faults, the second runs on warm page tables.
func (mf *mapFile) readMapped() (first, second time.Duration, pmdKiB uint64, err error) {
	m, err := mf.File.Map(famfs.MapOptions{Access: famfs.MapReadOnly})
	if err != nil {
		return 0, 0, 0, err
	}
	defer m.Unmap()
	return mf.read(m.Bytes())
}

// mapRaw maps the device bytes behind the file with a plain read-only
// mmap(2) of the device file, as a program that knows the file's extent would.
func (mf *mapFile) mapRaw() ([]byte, error) {
	return unix.Mmap(int(mf.raw.Fd()), int64(mf.DevOff), int(mf.File.Size()), unix.PROT_READ, unix.MAP_SHARED)
}

// unmapRaw undoes mapRaw.
func (mf *mapFile) unmapRaw(b []byte) error { return unix.Munmap(b) }

// readRaw does what readMapped does over a fresh mapRaw mapping.
func (mf *mapFile) readRaw() (first, second time.Duration, pmdKiB uint64, err error) {
	b, err := mf.mapRaw()
	if err != nil {
		return 0, 0, 0, err
	}
	defer mf.unmapRaw(b)
	return mf.read(b)
}

func (mf *mapFile) read(b []byte) (first, second time.Duration, pmdKiB uint64, err error) {
	var sum uint64
	first, _ = timeIt(func() error { sum = sumWords(b); return nil })
	if sum != mf.Sum {
		return 0, 0, 0, fmt.Errorf("read sum %#x, want %#x", sum, mf.Sum)
	}
	second, _ = timeIt(func() error { sum = sumWords(b); return nil })
	if sum != mf.Sum {
		return 0, 0, 0, fmt.Errorf("read sum %#x, want %#x", sum, mf.Sum)
	}
	return first, second, pmdMappedKiB(uintptr(unsafe.Pointer(unsafe.SliceData(b)))), nil
}

// pmdMappedKiB reports how much of the mapping that contains addr the kernel
// maps with PMD (2 MiB) entries, from /proc/self/smaps (0 if unknown).
func pmdMappedKiB(addr uintptr) uint64 {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			a, e1 := strconv.ParseUint(lo, 16, 64)
			z, e2 := strconv.ParseUint(hi, 16, 64)
			if e1 == nil && e2 == nil {
				in = uint64(addr) >= a && uint64(addr) < z
				continue
			}
		}
		if in && (fields[0] == "ShmemPmdMapped:" || fields[0] == "FilePmdMapped:") && len(fields) >= 2 {
			if v, err := strconv.ParseUint(fields[1], 10, 64); err == nil && v > 0 {
				return v
			}
		}
	}
	return 0
}

func runMapRead(o *Options) (Figure, error) {
	path := tempPath(o.Dir, "map")
	defer removeQuiet(path)
	mf, err := newMapFile(path, o.MapSize, false)
	if err != nil {
		return Figure{}, err
	}
	defer mf.close()
	var coldS, coldB []time.Duration
	var pmdS, pmdB uint64
	subject := func() (time.Duration, error) {
		c, w, pmd, err := mf.readMapped()
		coldS, pmdS = append(coldS, c), pmd
		return w, err
	}
	baseline := func() (time.Duration, error) {
		c, w, pmd, err := mf.readRaw()
		coldB, pmdB = append(coldB, c), pmd
		return w, err
	}
	if _, err := subject(); err != nil { // warm up
		return Figure{}, err
	}
	if _, err := baseline(); err != nil {
		return Figure{}, err
	}
	coldS, coldB = nil, nil
	s, b, err := pair(o.Reps, subject, baseline)
	if err != nil {
		return Figure{}, err
	}
	gbs := func(ds []time.Duration) []float64 { return gbPerSec(o.MapSize, ds) }
	sg, bg := gbs(s), gbs(b)
	best, base := slices.Max(sg), slices.Max(bg)
	f := Figure{ID: MapRead, Name: fmt.Sprintf("File.Map read (%s)", sizeName(o.MapSize)),
		Value: best, Unit: "GB/s", Baseline: base, BaseWord: "raw mmap", BaseName: "same loop",
		Ratio: best / base, MedianRatio: medianRatio(sg, bg),
		Target: fmt.Sprintf(">= %gx", MapTarget), Samples: sg, BaseSamples: bg}
	f.OK = f.Ratio >= MapTarget
	cs, cb := gbs(coldS), gbs(coldB)
	f.Detail = fmt.Sprintf("median ratio %.2fx; first touch %.2f vs %.2f GB/s (%.2fx); PMD-mapped %d / %d MiB",
		f.MedianRatio, slices.Max(cs), slices.Max(cb), slices.Max(cs)/slices.Max(cb), pmdS>>10, pmdB>>10)
	return f, nil
}

func sizeName(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// gbPerSec converts the times of reading size bytes into GB/s.
func gbPerSec(size uint64, ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(size) / d.Seconds() / 1e9
	}
	return out
}
