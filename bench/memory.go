package bench

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/famfs-go/famfs"
)

// MemoryBudget is the heap the namespace of a full 8 MiB log must stay well
// under; MemoryTarget is the fraction of it that counts as "well under".
const (
	MemoryBudget = 32 << 20
	MemoryTarget = 0.5
)

// heapUse is the heap an object graph keeps alive.
type heapUse struct {
	Inuse uint64 // growth of runtime.MemStats.HeapInuse (spans in use)
	Alloc uint64 // growth of runtime.MemStats.HeapAlloc (live objects)
}

// measureHeap runs build, collects garbage, and reports how much heap what
// build returned keeps in use.
func measureHeap(build func() (any, error)) (heapUse, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	v, err := build()
	if err != nil {
		return heapUse{}, err
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	sub := func(a, b uint64) uint64 {
		if a < b {
			return 0
		}
		return a - b
	}
	return heapUse{Inuse: sub(after.HeapInuse, before.HeapInuse), Alloc: sub(after.HeapAlloc, before.HeapAlloc)}, nil
}

// allocated runs fn and reports the bytes it allocated on the heap, whether
// or not they are still in use afterwards.
func allocated(fn func() error) (uint64, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

// openFSHeap opens the file system at path as the master and reports the
// heap the open FS keeps in use: the namespace, its allocation bitmap and the
// FS itself.
func openFSHeap(path string) (heapUse, error) {
	var fsys *famfs.FS
	u, err := measureHeap(func() (any, error) {
		var err error
		fsys, err = famfs.Open(path, famfs.OpenOptions{SystemUUID: masterUUID})
		return fsys, err
	})
	if err != nil {
		return heapUse{}, err
	}
	fsys.Close()
	return u, nil
}

func runMemory(o *Options) (Figure, error) {
	path := tempPath(o.Dir, "memory")
	defer removeQuiet(path)
	im, err := openLogImage(path, o.LogLen)
	if err != nil {
		return Figure{}, err
	}
	defer im.close()
	var fsUse []heapUse
	var rescan []uint64
	for range o.Reps {
		u, err := openFSHeap(path)
		if err != nil {
			return Figure{}, err
		}
		fsUse = append(fsUse, u)
		// What one replay of the whole log allocates (its namespace, then
		// garbage): the collector's work per replay.
		a, err := allocated(im.replay)
		if err != nil {
			return Figure{}, err
		}
		rescan = append(rescan, a)
	}
	mib := func(us []heapUse, alloc bool) []float64 {
		out := make([]float64, len(us))
		for i, u := range us {
			v := u.Inuse
			if alloc {
				v = u.Alloc
			}
			out[i] = float64(v) / (1 << 20)
		}
		return out
	}
	inuse := mib(fsUse, false)
	val := slices.Min(inuse)
	f := Figure{ID: Memory, Name: fmt.Sprintf("namespace heap (%d entries)", im.entries),
		Value: val, Unit: "MiB", Baseline: MemoryBudget / (1 << 20), BaseWord: "budget", BaseName: "limit",
		Ratio: val / (MemoryBudget / (1 << 20)), Target: fmt.Sprintf("<= %gx", MemoryTarget), Samples: inuse}
	f.OK = f.Ratio <= MemoryTarget
	alloc := slices.Min(mib(fsUse, true))
	f.Detail = fmt.Sprintf("HeapInuse after GC of an open FS; live objects %.2f MiB = %.0f B/entry; one replay (FS.Rescan) allocates %.2f MiB",
		alloc, alloc*(1<<20)/float64(im.entries), float64(slices.Min(rescan))/(1<<20))
	return f, nil
}
