package alloc

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrOutOfRange is returned for an extent that lies (partly) outside the device.
var ErrOutOfRange = errors.New("extent outside the device")

// Bitmap tracks which allocation units are in use.
type Bitmap struct {
	words []uint64
	nbits uint64
	au    uint64
	used  uint64 // set bits
}

// NewBitmap returns an empty bitmap for a device of devSize bytes with
// allocation unit au: ceil(devSize/au) bits.
func NewBitmap(devSize, au uint64) *Bitmap {
	n := (devSize + au - 1) / au
	return &Bitmap{words: make([]uint64, (n+63)/64), nbits: n, au: au}
}

// NBits is the number of allocation units.
func (b *Bitmap) NBits() uint64 { return b.nbits }

// AllocUnit is the bytes one bit covers.
func (b *Bitmap) AllocUnit() uint64 { return b.au }

// Capacity is nbits × au, the bytes the bitmap covers.
func (b *Bitmap) Capacity() uint64 { return b.nbits * b.au }

// UsedBytes is the allocated space (set bits × au).
func (b *Bitmap) UsedBytes() uint64 { return b.used * b.au }

// FreeBytes is Capacity − UsedBytes.
func (b *Bitmap) FreeBytes() uint64 { return b.Capacity() - b.UsedBytes() }

// Test reports whether unit i is in use.
func (b *Bitmap) Test(i uint64) bool { return i < b.nbits && b.words[i/64]&(1<<(i%64)) != 0 }

func (b *Bitmap) units(off, length uint64) (first, end uint64, err error) {
	if length == 0 {
		return 0, 0, nil
	}
	first = off / b.au
	// Round the end up to whole units without wrapping: work from the last
	// byte, which exists unless [off, off+length) runs past 2^64.
	wraps := off != 0 && length > -off
	end = (off+length-1)/b.au + 1
	if wraps || end > b.nbits {
		return 0, 0, fmt.Errorf("%w: 0x%x+0x%x ends past 0x%x", ErrOutOfRange, off, length, b.nbits*b.au)
	}
	return first, end, nil
}

// Mark sets the units covering [off, off+length) and returns how many were
// already set (allocation collisions). An extent outside the device marks
// nothing and returns ErrOutOfRange.
func (b *Bitmap) Mark(off, length uint64) (collisions uint64, err error) {
	first, end, err := b.units(off, length)
	if err != nil {
		return 0, err
	}
	for i := first; i < end; i++ {
		w, m := &b.words[i/64], uint64(1)<<(i%64)
		if *w&m != 0 {
			collisions++
		} else {
			*w |= m
			b.used++
		}
	}
	return collisions, nil
}

// Clear releases the units covering [off, off+length) (used to roll back an
// allocation that was never logged).
func (b *Bitmap) Clear(off, length uint64) {
	first, end, err := b.units(off, length)
	if err != nil {
		return
	}
	for i := first; i < end; i++ {
		w, m := &b.words[i/64], uint64(1)<<(i%64)
		if *w&m != 0 {
			*w &^= m
			b.used--
		}
	}
}

// nextClear returns the first clear unit in [i, limit), or limit.
func (b *Bitmap) nextClear(i, limit uint64) uint64 {
	for i < limit {
		w := ^b.words[i/64] >> (i % 64)
		if w != 0 {
			return min(i+uint64(bits.TrailingZeros64(w)), limit)
		}
		i = (i/64 + 1) * 64
	}
	return limit
}

// nextSet returns the first set unit in [i, limit), or limit.
func (b *Bitmap) nextSet(i, limit uint64) uint64 {
	for i < limit {
		w := b.words[i/64] >> (i % 64)
		if w != 0 {
			return min(i+uint64(bits.TrailingZeros64(w)), limit)
		}
		i = (i/64 + 1) * 64
	}
	return limit
}

// findRun returns the first unit i in [from, limit) such that units
// [i, i+need) are all clear, scanning the way the reference does.
func (b *Bitmap) findRun(from, limit, need uint64) (uint64, bool) {
	for i := from; ; {
		i = b.nextClear(i, limit)
		if i >= limit || limit-i < need {
			return 0, false
		}
		if s := b.nextSet(i, i+need); s == i+need {
			return i, true
		} else {
			i = s + 1
		}
	}
}

// largestFree returns the length, in units, of the longest run of clear
// units.
func (b *Bitmap) largestFree() uint64 {
	var best uint64
	for i := b.nextClear(0, b.nbits); i < b.nbits; {
		j := b.nextSet(i, b.nbits)
		best = max(best, j-i)
		i = b.nextClear(j, b.nbits)
	}
	return best
}

// Units returns a copy of the bitmap words (LSB-first, as the reference lays
// out its bitmap), for debugging dumps and tests.
func (b *Bitmap) Units() []uint64 { return append([]uint64(nil), b.words...) }

// Bucket describes the use of one bucket (a 1/n slice of the device, in whole
// units, as the interleaved allocator divides it).
type Bucket struct {
	Index       int    // bucket number; n for the tail that no bucket covers
	Start, Size uint64 // bytes
	Used, Free  uint64 // bytes
	FreeRuns    int    // runs of free units
	LargestFree uint64 // bytes of the longest free run
}

// Buckets reports how n buckets are used (plus the tail, if any).
func (b *Bitmap) Buckets(n int) []Bucket {
	if n <= 0 {
		return nil
	}
	per := b.nbits / uint64(n)
	var out []Bucket
	for k := 0; k <= n; k++ {
		lo := uint64(k) * per
		hi := lo + per
		if k == n {
			hi = b.nbits
		}
		if hi <= lo {
			continue
		}
		bk := Bucket{Index: k, Start: lo * b.au, Size: (hi - lo) * b.au}
		for i := lo; i < hi; {
			j := b.nextSet(i, hi)
			if j > i {
				bk.FreeRuns++
				bk.Free += (j - i) * b.au
				bk.LargestFree = max(bk.LargestFree, (j-i)*b.au)
			}
			i = b.nextClear(j, hi)
		}
		bk.Used = bk.Size - bk.Free
		out = append(out, bk)
	}
	return out
}
