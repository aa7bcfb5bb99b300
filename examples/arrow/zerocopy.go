package main

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// region is a range of virtual addresses: a mapping.
type region struct{ base, end uintptr }

func regionOf[T any](b []T) region {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return region{p, p + uintptr(len(b))*unsafe.Sizeof(*new(T))}
}

// bufferReport says where the data buffers of some Arrow arrays live.
type bufferReport struct {
	Buffers int    `json:"buffers"` // non-empty buffers seen
	Inside  int    `json:"inside"`  // of them, lying wholly inside the region
	Bytes   uint64 `json:"bytes"`   // their total size
	// First buffer found outside the region, if any ("batch 2 column name
	// buffer 1 at 0x...").
	Outside string `json:"outside,omitempty"`
}

func (r *bufferReport) add(o bufferReport) {
	if o.Outside != "" && r.Outside == "" {
		r.Outside = o.Outside
	}
	r.Buffers += o.Buffers
	r.Inside += o.Inside
	r.Bytes += o.Bytes
}

// batchBuffers checks every buffer of every column of rec — validity
// bitmaps, offsets, values, children and dictionaries — against the region.
func batchBuffers(rec arrow.RecordBatch, in region, batch int) bufferReport {
	var rep bufferReport
	for c, col := range rec.Columns() {
		walkData(col.Data(), in, fmt.Sprintf("batch %d column %s", batch, rec.ColumnName(c)), &rep)
	}
	return rep
}

func walkData(d arrow.ArrayData, in region, where string, rep *bufferReport) {
	for i, b := range d.Buffers() {
		if b == nil || b.Len() == 0 {
			continue
		}
		bs := b.Bytes()
		r := regionOf(bs)
		rep.Buffers++
		rep.Bytes += uint64(len(bs))
		if r.base >= in.base && r.end <= in.end {
			rep.Inside++
		} else if rep.Outside == "" {
			rep.Outside = fmt.Sprintf("%s buffer %d (%d bytes at %#x, mapping %#x-%#x)", where, i, len(bs), r.base, in.base, in.end)
		}
	}
	for j, ch := range d.Children() {
		walkData(ch, in, fmt.Sprintf("%s child %d", where, j), rep)
	}
	// Dictionary returns a nil *array.Data, not a nil interface, when
	// there is none.
	if dict, ok := d.Dictionary().(*array.Data); ok && dict != nil {
		walkData(dict, in, where+" dictionary", rep)
	}
}

// countingAllocator counts what Arrow allocates through it: a copying reader
// allocates the buffers it fills, a zero-copy reader allocates nothing.
type countingAllocator struct {
	memory.Allocator
	allocs, bytes atomic.Int64
}

func newCountingAllocator() *countingAllocator {
	return &countingAllocator{Allocator: memory.NewGoAllocator()}
}

func (a *countingAllocator) Allocate(n int) []byte {
	a.allocs.Add(1)
	a.bytes.Add(int64(n))
	return a.Allocator.Allocate(n)
}

func (a *countingAllocator) Reallocate(n int, b []byte) []byte {
	a.allocs.Add(1)
	if n > len(b) {
		a.bytes.Add(int64(n - len(b)))
	}
	return a.Allocator.Reallocate(n, b)
}
