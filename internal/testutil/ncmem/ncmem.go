// Package ncmem models non-coherent shared memory for tests: one Memory (the
// shared DIMM) seen by several Hosts, each with a private write-back cache of
// 64-byte lines. A host's loads fill its cache and keep returning the cached
// bytes until it invalidates them; its stores stay in its cache until it
// flushes them (or Evicts them, as a real cache may at any time). Crash drops a
// host's cache after writing back any chosen subset of its dirty lines.
//
// Host implements metalog.Media, so the log code runs unchanged against it.
package ncmem

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Line is the cache line size the model uses.
const Line = 64

// Memory is the shared memory all hosts see.
type Memory struct {
	mu sync.Mutex
	b  []byte
}

// New returns size bytes of zeroed shared memory.
func New(size int) *Memory { return &Memory{b: make([]byte, size)} }

// Snapshot returns a copy of what the memory holds now (what a host with an
// empty cache would read).
func (m *Memory) Snapshot() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.b...)
}

// Host is one host's view of the memory.
type Host struct {
	mem   *Memory
	mu    sync.Mutex
	lines map[uint64]*line
}

type line struct {
	data  [Line]byte
	dirty bool
}

// Host returns a new host with an empty cache.
func (m *Memory) Host() *Host { return &Host{mem: m, lines: map[uint64]*line{}} }

var errRange = errors.New("access beyond the modelled memory")

func (h *Host) check(off uint64, n int) error {
	if off > uint64(len(h.mem.b)) || uint64(n) > uint64(len(h.mem.b))-off {
		return fmt.Errorf("%w: 0x%x+%d", errRange, off, n)
	}
	return nil
}

// fill returns the cached line idx, loading it from memory if absent.
func (h *Host) fill(idx uint64) *line {
	l := h.lines[idx]
	if l == nil {
		l = &line{}
		h.mem.mu.Lock()
		copy(l.data[:], h.mem.b[idx*Line:])
		h.mem.mu.Unlock()
		h.lines[idx] = l
	}
	return l
}

func (h *Host) each(off uint64, n int, fn func(l *line, lo, hi int, pos int)) {
	for pos := 0; pos < n; {
		a := off + uint64(pos)
		idx := a / Line
		lo := int(a % Line)
		hi := min(Line, lo+(n-pos))
		fn(h.fill(idx), lo, hi, pos)
		pos += hi - lo
	}
}

// ReadAt loads p from this host's view.
func (h *Host) ReadAt(p []byte, off uint64) error {
	if err := h.check(off, len(p)); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.each(off, len(p), func(l *line, lo, hi, pos int) { copy(p[pos:], l.data[lo:hi]) })
	return nil
}

// WriteAt stores p into this host's cache.
func (h *Host) WriteAt(p []byte, off uint64) error {
	if err := h.check(off, len(p)); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.each(off, len(p), func(l *line, lo, hi, pos int) {
		copy(l.data[lo:hi], p[pos:])
		l.dirty = true
	})
	return nil
}

// LoadU64 loads a little-endian word.
func (h *Host) LoadU64(off uint64) (uint64, error) {
	var b [8]byte
	if err := h.ReadAt(b[:], off); err != nil {
		return 0, err
	}
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// StoreU64 stores a little-endian word (atomically: one line, one store).
func (h *Host) StoreU64(off uint64, v uint64) error {
	var b [8]byte
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return h.WriteAt(b[:], off)
}

func (h *Host) lineRange(off, n uint64) (uint64, uint64) {
	if n == 0 {
		return 1, 0
	}
	return off / Line, (off + n - 1) / Line
}

func (h *Host) writeBack(idx uint64, l *line) {
	if l.dirty {
		h.mem.mu.Lock()
		copy(h.mem.b[idx*Line:], l.data[:])
		h.mem.mu.Unlock()
		l.dirty = false
	}
}

// Flush writes back the dirty lines of [off, off+n); they stay cached.
func (h *Host) Flush(off, n uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	first, last := h.lineRange(off, n)
	for idx := first; idx <= last; idx++ {
		if l := h.lines[idx]; l != nil {
			h.writeBack(idx, l)
		}
	}
}

// Invalidate writes back dirty lines of [off, off+n) and drops them from the
// cache, so the next loads read memory.
func (h *Host) Invalidate(off, n uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	first, last := h.lineRange(off, n)
	for idx := first; idx <= last; idx++ {
		if l := h.lines[idx]; l != nil {
			h.writeBack(idx, l)
			delete(h.lines, idx)
		}
	}
}

// Dirty lists the indexes of this host's dirty lines, in order.
func (h *Host) Dirty() []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []uint64
	for idx, l := range h.lines {
		if l.dirty {
			out = append(out, idx)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Evict writes back one line if it is dirty, as a cache may at any moment.
func (h *Host) Evict(idx uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if l := h.lines[idx]; l != nil {
		h.writeBack(idx, l)
	}
}

// Crash models the host dying: each dirty line for which keep returns true
// reaches memory (it was evicted before the crash), the others are lost; the
// whole cache is then gone.
func (h *Host) Crash(keep func(idx uint64) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for idx, l := range h.lines {
		if l.dirty && keep(idx) {
			h.writeBack(idx, l)
		}
	}
	h.lines = map[uint64]*line{}
}
