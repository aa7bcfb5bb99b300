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

// HeapUse is the heap an object graph keeps alive.
type HeapUse struct {
	Inuse uint64 // growth of runtime.MemStats.HeapInuse (spans in use)
	Alloc uint64 // growth of runtime.MemStats.HeapAlloc (live objects)
}

// MeasureHeap runs build, collects garbage, and reports how much heap what
// build returned keeps in use.
func MeasureHeap(build func() (any, error)) (HeapUse, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	v, err := build()
	if err != nil {
		return HeapUse{}, err
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
	return HeapUse{Inuse: sub(after.HeapInuse, before.HeapInuse), Alloc: sub(after.HeapAlloc, before.HeapAlloc)}, nil
}

func runMemory(o *Options) (Figure, error) {
	path := tempPath(o.Dir, "memory")
	defer removeQuiet(path)
	im, err := OpenLogImage(path, o.LogLen)
	if err != nil {
		return Figure{}, err
	}
	defer im.Close()
	var fsUse, treeUse []HeapUse
	for range o.Reps {
		// What a host holds after opening the file system: the namespace
		// tree, its allocation bitmap and the FS itself.
		var fsys *famfs.FS
		u, err := MeasureHeap(func() (any, error) {
			fsys, err = famfs.Open(path, famfs.OpenOptions{SystemUUID: MasterUUID})
			return fsys, err
		})
		if err != nil {
			return Figure{}, err
		}
		fsys.Close()
		fsUse = append(fsUse, u)
		u, err = MeasureHeap(func() (any, error) { return im.Replay() })
		if err != nil {
			return Figure{}, err
		}
		treeUse = append(treeUse, u)
	}
	mib := func(us []HeapUse, alloc bool) []float64 {
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
	f := Figure{ID: Memory, Name: fmt.Sprintf("namespace heap (%d entries)", im.Entries),
		Value: val, Unit: "MiB", Baseline: MemoryBudget / (1 << 20), BaseWord: "budget", BaseName: "limit",
		Ratio: val / (MemoryBudget / (1 << 20)), Target: fmt.Sprintf("<= %gx", MemoryTarget), Samples: inuse}
	f.OK = f.Ratio <= MemoryTarget
	alloc, tree := slices.Min(mib(fsUse, true)), slices.Min(mib(treeUse, true))
	f.Detail = fmt.Sprintf("HeapInuse after GC of an open FS; live objects %.2f MiB = %.0f B/entry, tree alone %.2f MiB",
		alloc, alloc*(1<<20)/float64(im.Entries), tree)
	return f, nil
}
