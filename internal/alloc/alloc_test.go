package alloc

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/internal/omf"
)

const au = omf.AllocUnit

func fresh(devSize uint64) *Allocator {
	bm := NewBitmap(devSize, au)
	bm.Mark(0, omf.LogOffset+omf.DefaultLogLen)
	a := New(rand.New(rand.NewPCG(1, 2)))
	a.StartSession(bm)
	return a
}

func TestBitmapMarkCountsCollisions(t *testing.T) {
	bm := NewBitmap(8<<30+1, au) // a partial last unit still gets a bit
	if bm.NBits() != 4097 {
		t.Fatalf("nbits %d", bm.NBits())
	}
	if c, err := bm.Mark(0, 10<<20); c != 0 || err != nil {
		t.Fatal(c, err)
	}
	if c, _ := bm.Mark(8<<20, 1); c != 1 { // 1 byte rounds up to one unit, already set
		t.Fatalf("collisions %d", c)
	}
	if c, _ := bm.Mark(6<<20, 8<<20); c != 2 {
		t.Fatalf("collisions %d", c)
	}
	if bm.UsedBytes() != 14<<20 {
		t.Fatalf("used %d", bm.UsedBytes())
	}
	if _, err := bm.Mark(8<<30, 4<<20); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("past the end: %v", err)
	}
	if _, err := bm.Mark(^uint64(0)-au, 4*au); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("overflow: %v", err)
	}
	if bm.UsedBytes() != 14<<20 {
		t.Fatal("out-of-range mark changed the bitmap")
	}
}

// Layouts as the reference makes them: first fit for a session's first
// allocation, next fit afterwards (golden image "basic": each creat is its own
// session).
func TestContiguousMatchesReference(t *testing.T) {
	a := fresh(4 << 30)
	want := []struct{ size, off, len uint64 }{
		{1, 0xa00000, 0x200000},
		{4096, 0xc00000, 0x200000},
		{2097152, 0xe00000, 0x200000},
		{2097153, 0x1000000, 0x400000},
		{104857600, 0x1400000, 0x6400000},
		{12, 0x7800000, 0x200000},
		{3000001, 0x7a00000, 0x400000},
	}
	for _, w := range want {
		a.FirstFit()
		e, err := a.Contiguous(w.size)
		if err != nil || e.Offset != w.off || e.Len != w.len {
			t.Fatalf("size %d: got %+v %v, want 0x%x+0x%x", w.size, e, err, w.off, w.len)
		}
	}
}

func TestNextFitWithinSessionFirstFitAcross(t *testing.T) {
	a := fresh(4 << 30)
	x, _ := a.Contiguous(au) // 0xa00000
	a.Contiguous(au)         // 0xc00000
	a.bm.Clear(x.Offset, x.Len)
	if e, _ := a.Contiguous(au); e.Offset != 0xe00000 {
		t.Fatalf("next fit reused a hole: %#x", e.Offset)
	}
	a.FirstFit()
	if e, _ := a.Contiguous(au); e.Offset != 0xa00000 {
		t.Fatalf("first fit missed the hole: %#x", e.Offset)
	}
}

// The reference's unit test: a 1 GiB device takes 507 files of 1 MiB, then
// refuses more with a clean error.
func TestDeviceFull(t *testing.T) {
	a := fresh(1 << 30)
	n := 0
	for i := 0; i < 512; i++ {
		a.FirstFit()
		if _, err := a.Contiguous(1 << 20); err != nil {
			if !errors.Is(err, ErrNoSpace) {
				t.Fatal(err)
			}
			break
		}
		n++
	}
	if n != 507 || a.bm.FreeBytes() != 0 {
		t.Fatalf("allocated %d files, free %d", n, a.bm.FreeBytes())
	}
}

func TestNextFitWrapsBeforeFailing(t *testing.T) {
	a := fresh(1 << 30)
	first, _ := a.Contiguous(4 * au)
	for {
		if _, err := a.Contiguous(au); err != nil {
			break
		}
	}
	a.bm.Clear(first.Offset, first.Len)
	// cursor is at the end; the only hole is behind it
	if e, err := a.Contiguous(3 * au); err != nil || e.Offset != first.Offset {
		t.Fatalf("got %+v %v", e, err)
	}
}

func TestInterleaveValidation(t *testing.T) {
	dev := uint64(8 << 30)
	for _, c := range []struct {
		name string
		p    Interleave
	}{
		{"chunk 0", Interleave{8, 4, 0}},
		{"chunk 1MiB", Interleave{8, 4, 1 << 20}},
		{"chunk not power of two", Interleave{8, 4, 2<<20 + 1}},
		{"chunk 2000000", Interleave{8, 3, 2000000}},
		{"nstrips > nbuckets", Interleave{4, 5, 2 << 20}},
		{"nbuckets > 64", Interleave{100, 3, 2 << 20}},
		{"nbuckets 0", Interleave{0, 0, 2 << 20}},
		{"nstrips 0", Interleave{4, 0, 2 << 20}},
		{"nstrips 17", Interleave{64, 17, 2 << 20}},
		{"bucket < 1GiB", Interleave{16, 4, 2 << 20}},
	} {
		if err := c.p.Validate(dev, au); !errors.Is(err, ErrBadInterleave) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if err := (Interleave{8, 8, 2 << 20}).Validate(dev, au); err != nil {
		t.Error(err)
	}
}

// The worked example of docs/format.md, "Interleaved allocation": 9 MiB over
// 2 of 4 buckets gives two 6 MiB strips at the start of the chosen (empty)
// buckets.
func TestInterleavedLayout(t *testing.T) {
	a := fresh(8 << 30)
	m, err := a.Interleaved(9<<20, Interleave{NBuckets: 4, NStrips: 2, ChunkSize: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != omf.ExtInterleave || len(m.Interleaved) != 1 {
		t.Fatalf("%+v", m)
	}
	ie := m.Interleaved[0]
	if len(ie.Strips) != 2 || ie.ChunkSize != 2<<20 {
		t.Fatalf("%+v", ie)
	}
	seen := map[uint64]bool{}
	for _, s := range ie.Strips {
		b := s.Offset / (2 << 30)
		if seen[b] || s.Len != 6<<20 {
			t.Fatalf("strip %+v", s)
		}
		seen[b] = true
		if b == 0 && s.Offset != 0xa00000 || b > 0 && s.Offset != b*(2<<30) {
			t.Fatalf("strip %+v not first fit in bucket %d", s, b)
		}
	}
	if err := m.Validate(9<<20, 8<<30, au); err != nil {
		t.Fatal(err)
	}
	// smaller than a chunk: one contiguous extent, first fit
	m, err = a.Interleaved(1<<20, Interleave{NBuckets: 4, NStrips: 2, ChunkSize: 4 << 20})
	if err != nil || m.Type != omf.ExtSimple || m.Extents[0].Offset != 0xa00000 && m.Extents[0].Offset != 0xc00000 {
		t.Fatalf("small file: %+v %v", m, err)
	}
}

// Strided allocation fails cleanly, leaving nothing allocated, when fewer than
// nstrips buckets have room.
func TestInterleavedNoSpaceReleases(t *testing.T) {
	a := fresh(4 << 30)
	p := Interleave{NBuckets: 4, NStrips: 4, ChunkSize: 2 << 20}
	// A strip of 1 GiB−10 MiB fits in every bucket but bucket 0 (sb+log).
	before := a.bm.UsedBytes()
	_, err := a.Interleaved(4*((1<<30)-8<<20), p)
	if !errors.Is(err, ErrNoSpace) || a.bm.UsedBytes() != before {
		t.Fatalf("%v, used %d -> %d", err, before, a.bm.UsedBytes())
	}
}

// An extent whose end, rounded up to a unit, passes 2^64 is outside the
// device: it must be refused, not wrap to a small end and "mark" nothing.
func TestBitmapRejectsWrappingExtent(t *testing.T) {
	bm := NewBitmap(4<<30, au)
	for _, x := range []struct{ off, n uint64 }{
		{4 << 20, ^uint64(0) - 4<<20},     // off+n = 2^64-1: rounding up wraps
		{4 << 20, ^uint64(0) - 4<<20 - 5}, // likewise, a few bytes short
		{^uint64(0) - 1, 2},               // off+n wraps
	} {
		if c, err := bm.Mark(x.off, x.n); c != 0 || !errors.Is(err, ErrOutOfRange) {
			t.Errorf("Mark(%#x, %#x) = %d, %v; want ErrOutOfRange", x.off, x.n, c, err)
		}
	}
	if bm.UsedBytes() != 0 {
		t.Fatalf("used %d", bm.UsedBytes())
	}
}

// The allocator works on its own copy: the bitmap it started from (the
// namespace's) is never written, and a new session forgets what was handed
// out but not logged.
func TestWorkingCopy(t *testing.T) {
	bm := NewBitmap(8<<30, au)
	bm.Mark(0, omf.LogOffset+omf.DefaultLogLen)
	before := bm.Units()
	a := New(rand.New(rand.NewPCG(1, 2)))
	a.StartSession(bm)
	x, err := a.Contiguous(5 * au)
	if err != nil {
		t.Fatal(err)
	}
	if y, _ := a.Contiguous(au); y.Offset < x.Offset+x.Len {
		t.Fatalf("second allocation %+v overlaps the first %+v", y, x)
	}
	if _, err := a.Interleaved(9<<20, Interleave{NBuckets: 4, NStrips: 2, ChunkSize: 2 << 20}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, bm.Units()) {
		t.Fatal("allocation wrote the namespace's bitmap")
	}
	a.StartSession(bm)
	if z, _ := a.Contiguous(5 * au); z != x {
		t.Fatalf("a new session did not forget unlogged space: %+v, first time %+v", z, x)
	}
}

// The out-of-space error says whether the device is full or only too
// fragmented for one contiguous extent.
func TestNoSpaceSaysWhy(t *testing.T) {
	a := fresh(1 << 30)
	for {
		if _, err := a.Contiguous(au); err != nil {
			break
		}
	}
	if _, err := a.Contiguous(au); !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "full") {
		t.Errorf("full device: %v", err)
	}
	// Free every other unit of a stretch: much space, no long run.
	for off := uint64(0x1000000); off < 0x3000000; off += 2 * au {
		a.bm.Clear(off, au)
	}
	_, err := a.Contiguous(3 * au)
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "fragmented") || !strings.Contains(err.Error(), "the largest is 2097152") {
		t.Errorf("fragmented device: %v", err)
	}
}

// A full device whose deleted space waits for participants says how much
// waits, and a new session starts the count afresh.
func TestNoSpaceNamesWaitingSpace(t *testing.T) {
	a := fresh(1 << 30)
	base := *a.bm
	base.words = slices.Clone(a.bm.words)
	a.Reserve(0, 4*au)
	for {
		if _, err := a.Contiguous(au); err != nil {
			break
		}
	}
	_, err := a.Contiguous(au)
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "8388608 bytes more are freed by deletes but wait for participants") {
		t.Errorf("full device with waiting space: %v", err)
	}
	a.StartSession(&base)
	for {
		if _, err = a.Contiguous(au); err != nil {
			break
		}
	}
	if strings.Contains(err.Error(), "wait for participants") {
		t.Errorf("a new session still counts the last one's waiting space: %v", err)
	}
}
