package alloc

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/famfs-go/famfs/internal/omf"
)

// ErrNoSpace is wrapped by allocation failures for lack of space (the famfs
// package exports this value as its own ErrNoSpace).
var ErrNoSpace = errors.New("no space left on the famfs device")

// ErrBadInterleave is wrapped by invalid interleave parameters.
var ErrBadInterleave = errors.New("invalid interleave parameters")

// Allocator hands out extents. It works on its own copy of the file system's
// bitmap, taken when a session starts: the real bitmap belongs to the
// namespace, which marks a file's space when the file's log entry is applied
// (on every host alike), while the copy also holds what this session has
// handed out but not yet logged — so several files can be prepared before
// any is logged, and space that is never logged is simply forgotten. It is
// not safe for concurrent use; the famfs package serialises allocation under
// the log lock.
type Allocator struct {
	bm      *Bitmap // the working copy
	cur     uint64  // next-fit cursor, in units
	rand    *rand.Rand
	waiting uint64 // bytes Reserve held back this session
}

// New returns an allocator. rng shuffles buckets for interleaved allocation;
// nil means a randomly seeded generator. Call StartSession before allocating.
func New(rng *rand.Rand) *Allocator {
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return &Allocator{rand: rng}
}

// StartSession takes a fresh copy of from, the file system's bitmap as the
// log holds it, and resets the next-fit cursor, as the reference does
// whenever it takes the log lock: a session's first allocation is first fit.
// What was handed out and not logged since the last session is forgotten.
func (a *Allocator) StartSession(from *Bitmap) {
	if a.bm == nil || a.bm.nbits != from.nbits || a.bm.au != from.au {
		a.bm = &Bitmap{words: make([]uint64, len(from.words)), nbits: from.nbits, au: from.au}
	}
	copy(a.bm.words, from.words)
	a.bm.used = from.used
	a.cur = 0
	a.waiting = 0
}

// Reserve marks [off, off+length) in use for this session: space a delete
// freed that a participant may still reach (docs/delete.md, "Reuse").
func (a *Allocator) Reserve(off, length uint64) {
	a.bm.Mark(off, length)
	a.waiting += length
}

// FirstFit makes the next allocation search from the start of the device.
func (a *Allocator) FirstFit() { a.cur = 0 }

// Contiguous allocates one extent of size bytes rounded up to whole units,
// searching from the session cursor (next fit). Unlike the reference, which
// never looks before the cursor within a session, it wraps around to the start
// once before giving up, so it fails only when no run of free units is large
// enough.
func (a *Allocator) Contiguous(size uint64) (omf.Extent, error) {
	if size == 0 {
		return omf.Extent{}, fmt.Errorf("cannot allocate 0 bytes")
	}
	au := a.bm.au
	need := (size + au - 1) / au
	i, ok := a.bm.findRun(a.cur, a.bm.nbits, need)
	if !ok && a.cur > 0 {
		i, ok = a.bm.findRun(0, a.bm.nbits, need)
	}
	if !ok {
		return omf.Extent{}, a.noSpace(size)
	}
	a.bm.Mark(i*au, need*au)
	a.cur = i + need
	return omf.Extent{Offset: i * au, Len: need * au}, nil
}

// noSpace says why size bytes found no room: the device is full, or it has
// the space but only in pieces smaller than one contiguous extent needs.
func (a *Allocator) noSpace(size uint64) error {
	au := a.bm.au
	need := (size + au - 1) / au * au
	free := a.bm.FreeBytes()
	if free < need {
		var wait string
		if a.waiting > 0 {
			wait = fmt.Sprintf("; %d bytes more are freed by deletes but wait for participants that may still reach them (see famfs hosts)", a.waiting)
		}
		return fmt.Errorf("%w: the device is full: %d bytes requested (%d allocated), %d of %d bytes free%s",
			ErrNoSpace, size, need, free, a.bm.Capacity(), wait)
	}
	return fmt.Errorf("%w: the device is too fragmented: %d bytes free of %d, but no contiguous run of %d bytes (the largest is %d); a striped file (-N/-B/-C) can use smaller pieces",
		ErrNoSpace, free, a.bm.Capacity(), need, a.bm.largestFree()*au)
}

// Interleave holds the strided allocation parameters. All zero means "not
// interleaved".
type Interleave struct {
	NBuckets  uint64
	NStrips   uint64
	ChunkSize uint64 // bytes
}

// Enabled reports whether any parameter is set.
func (p Interleave) Enabled() bool { return p.NBuckets != 0 || p.NStrips != 0 || p.ChunkSize != 0 }

// Validate checks the parameters for a device of devSize bytes and allocation
// unit au (docs/format.md, "Interleaved allocation": nstrips ≥ 1 included,
// which the reference forgets).
func (p Interleave) Validate(devSize, au uint64) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadInterleave, fmt.Sprintf(format, args...))
	}
	switch {
	case p.ChunkSize == 0:
		return bad("chunk size is zero")
	case p.ChunkSize&(p.ChunkSize-1) != 0:
		return bad("chunk size %d is not a power of two", p.ChunkSize)
	case p.ChunkSize%au != 0:
		return bad("chunk size %d is not a multiple of the allocation unit %d", p.ChunkSize, au)
	case p.NBuckets == 0 || p.NBuckets > omf.MaxBuckets:
		return bad("nbuckets %d is not in 1..%d", p.NBuckets, omf.MaxBuckets)
	case p.NStrips == 0 || p.NStrips > omf.MaxStrips:
		return bad("nstrips %d is not in 1..%d", p.NStrips, omf.MaxStrips)
	case p.NStrips > p.NBuckets:
		return bad("nstrips %d exceeds nbuckets %d", p.NStrips, p.NBuckets)
	case devSize/p.NBuckets < 1<<30:
		return bad("buckets of %d bytes (device %d / %d buckets) are smaller than 1 GiB", devSize/p.NBuckets, devSize, p.NBuckets)
	}
	return nil
}

// Interleaved allocates a strided map for size bytes (docs/format.md,
// "Interleaved allocation"). A file smaller than one chunk gets a single
// contiguous extent, first fit.
func (a *Allocator) Interleaved(size uint64, p Interleave) (omf.FMap, error) {
	au := a.bm.au
	if err := p.Validate(a.bm.nbits*au, au); err != nil {
		return omf.FMap{}, err
	}
	if size < p.ChunkSize {
		a.cur = 0
		e, err := a.Contiguous(size)
		if err != nil {
			return omf.FMap{}, err
		}
		return omf.FMap{Type: omf.ExtSimple, Extents: []omf.Extent{e}}, nil
	}
	alloc := (size + au - 1) / au
	chunk := p.ChunkSize / au
	bucket := a.bm.nbits / p.NBuckets // whole units per bucket; the tail is never used
	stripe := p.NStrips * chunk
	nstripes := (alloc + stripe - 1) / stripe
	strip := nstripes * chunk

	order := make([]uint64, p.NBuckets)
	for i := range order {
		order[i] = uint64(i)
	}
	for i := len(order) - 1; i > 0; i-- { // Fisher–Yates
		j := a.rand.IntN(i + 1)
		order[i], order[j] = order[j], order[i]
	}
	var strips []omf.Extent
	for _, b := range order {
		if uint64(len(strips)) == p.NStrips {
			break
		}
		lo := b * bucket
		if i, ok := a.bm.findRun(lo, lo+bucket, strip); ok && i > 0 {
			a.bm.Mark(i*au, strip*au)
			strips = append(strips, omf.Extent{Offset: i * au, Len: strip * au})
		}
	}
	if uint64(len(strips)) < p.NStrips {
		for _, s := range strips {
			a.bm.Clear(s.Offset, s.Len)
		}
		return omf.FMap{}, fmt.Errorf("%w: %d bytes striped %d ways need %d buckets with %d free contiguous bytes, found %d",
			ErrNoSpace, size, p.NStrips, p.NStrips, strip*au, len(strips))
	}
	return omf.FMap{Type: omf.ExtInterleave, Interleaved: []omf.Interleave{{ChunkSize: p.ChunkSize, Strips: strips}}}, nil
}

// Release returns the space of a map that was handed out but will not be
// logged (for the rest of this session; the next one forgets it anyway).
func (a *Allocator) Release(m omf.FMap) {
	for _, e := range m.AllExtents() {
		a.bm.Clear(e.Offset, e.Len)
	}
}
