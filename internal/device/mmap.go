package device

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Mapping is a range of device bytes mapped MAP_SHARED into this process. Its
// methods address bytes relative to the start of the mapping.
type Mapping struct {
	b        []byte // exactly the bytes asked for
	base     unsafe.Pointer
	total    uintptr // bytes to unmap from base
	writable bool
}

// Map maps device bytes [off, off+n). off must be a multiple of the device's
// alignment; the mapped length is rounded up to it. The range must lie inside
// the device: mapping past the end of a regular file would fault on access.
func (d *Device) Map(off, n uint64, write bool) (*Mapping, error) {
	if err := d.checkRange(off, n); err != nil {
		return nil, err
	}
	if off%d.MapAlign() != 0 {
		return nil, fmt.Errorf("device %s: map offset 0x%x is not a multiple of the device alignment 0x%x", d.Path, off, d.MapAlign())
	}
	length := roundUp(n, pageSize)
	if d.Kind == DaxChar {
		length = roundUp(n, d.Align)
	}
	prot := unix.PROT_READ
	if write {
		prot |= unix.PROT_WRITE
	}
	p, err := unix.MmapPtr(int(d.f.Fd()), int64(off), nil, uintptr(length), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, d.mapErr(off, n, err)
	}
	return &Mapping{b: unsafe.Slice((*byte)(p), n), base: p, total: uintptr(length), writable: write}, nil
}

// Run is a run of device bytes to place at a virtual offset of a composed
// mapping (see MapRuns).
type Run struct {
	VirtOff uint64 // offset inside the composed mapping
	DevOff  uint64 // device offset
	Len     uint64
}

// MapRuns builds one contiguous virtual range of length bytes in which each run
// of device bytes appears at its VirtOff: a virtual range aligned to the
// device's alignment (at least 2 MiB, so huge pages map with PMDs) is reserved,
// then every run is mapped MAP_SHARED|MAP_FIXED into place. Bytes not covered
// by a run stay inaccessible. The Mapping's Bytes are the first size bytes.
func (d *Device) MapRuns(runs []Run, length, size uint64, write bool) (*Mapping, error) {
	if length == 0 || size > length {
		return nil, fmt.Errorf("device %s: bad composed mapping of %d bytes (size %d)", d.Path, length, size)
	}
	align := max(d.Align, DefaultAlign)
	for _, r := range runs {
		if err := d.checkRange(r.DevOff, r.Len); err != nil {
			return nil, err
		}
		if a := d.MapAlign(); r.DevOff%a != 0 || r.Len%a != 0 || r.VirtOff%a != 0 {
			return nil, fmt.Errorf("device %s: run 0x%x+0x%x is not aligned to the device alignment 0x%x; map it with ReadAt instead", d.Path, r.DevOff, r.Len, a)
		}
		if r.VirtOff+r.Len > length {
			return nil, fmt.Errorf("device %s: run at 0x%x+0x%x exceeds the %d-byte mapping", d.Path, r.VirtOff, r.Len, length)
		}
	}
	length = roundUp(length, pageSize)
	resv := uintptr(length + align)
	p, err := unix.MmapPtr(-1, 0, nil, resv, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("device %s: reserve %d bytes of address space: %w", d.Path, resv, err)
	}
	// Give back the unaligned head and the tail beyond length.
	head := (uintptr(align) - uintptr(p)%uintptr(align)) % uintptr(align)
	if head > 0 {
		unix.MunmapPtr(p, head)
	}
	bp := unsafe.Add(p, head)
	if tail := resv - head - uintptr(length); tail > 0 {
		unix.MunmapPtr(unsafe.Add(bp, length), tail)
	}
	prot := unix.PROT_READ
	if write {
		prot |= unix.PROT_WRITE
	}
	for _, r := range runs {
		at := unsafe.Add(bp, r.VirtOff)
		if _, err := unix.MmapPtr(int(d.f.Fd()), int64(r.DevOff), at, uintptr(r.Len), prot, unix.MAP_SHARED|unix.MAP_FIXED); err != nil {
			unix.MunmapPtr(bp, uintptr(length))
			if errors.Is(err, unix.ENOMEM) {
				return nil, fmt.Errorf("device %s: map run 0x%x+0x%x: %w (too many mappings? see vm.max_map_count)", d.Path, r.DevOff, r.Len, err)
			}
			return nil, d.mapErr(r.DevOff, r.Len, err)
		}
	}
	return &Mapping{b: unsafe.Slice((*byte)(bp), size), base: bp, total: uintptr(length), writable: write}, nil
}

// MapAlign is the alignment mmap(2) of this device requires of offsets and
// lengths: a devdax device's own (its sysfs align), a page otherwise. Align,
// the alignment famfs prefers (so that huge pages can map), may be larger.
func (d *Device) MapAlign() uint64 {
	if d.Kind == DaxChar {
		return d.Align
	}
	return pageSize
}

func (d *Device) checkRange(off, n uint64) error {
	if n == 0 {
		return fmt.Errorf("device %s: empty mapping at 0x%x", d.Path, off)
	}
	if n > d.Size || off > d.Size-n {
		return fmt.Errorf("device %s: range 0x%x+0x%x lies beyond the end of the device (%d bytes)", d.Path, off, n, d.Size)
	}
	return nil
}

func (d *Device) mapErr(off, n uint64, err error) error {
	if d.Kind == DaxChar && (errors.Is(err, unix.ENXIO) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EINVAL)) {
		return fmt.Errorf("device %s: mmap 0x%x+0x%x: %w (is the dax device in devdax mode, and are offsets multiples of its align 0x%x?)", d.Path, off, n, err, d.Align)
	}
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return fmt.Errorf("device %s: mmap 0x%x+0x%x: %w (opened read-only?)", d.Path, off, n, err)
	}
	return fmt.Errorf("device %s: mmap 0x%x+0x%x: %w", d.Path, off, n, err)
}

// Bytes returns the mapped memory. Accesses through it are ordinary loads and
// stores to the shared memory, with no fault protection.
func (m *Mapping) Bytes() []byte { return m.b }

// Len is the number of mapped bytes Bytes covers.
func (m *Mapping) Len() uint64 { return uint64(len(m.b)) }

// Writable reports whether the mapping allows stores.
func (m *Mapping) Writable() bool { return m.writable }

// Unmap releases the mapping. The Mapping must not be used afterwards.
func (m *Mapping) Unmap() error {
	if m.base == nil {
		return nil
	}
	err := unix.MunmapPtr(m.base, m.total)
	m.base, m.b = nil, nil
	return err
}

// ReadAt copies mapped bytes [off, off+len(p)) into p.
func (m *Mapping) ReadAt(p []byte, off uint64) error {
	if err := m.bounds(off, uint64(len(p))); err != nil {
		return err
	}
	return Copy(p, m.b[off:])
}

// View runs fn on the mapped bytes [off, off+n) in place, without copying
// them, and turns a memory fault while fn runs into an error wrapping
// ErrFault. fn must not keep the slice: other hosts may change the memory,
// and it is gone once the mapping is unmapped.
func (m *Mapping) View(off, n uint64, fn func(b []byte)) error {
	if err := m.bounds(off, n); err != nil {
		return err
	}
	return guard(func() { fn(m.b[off : off+n : off+n]) })
}

// WriteAt stores p at mapped offset off.
func (m *Mapping) WriteAt(p []byte, off uint64) error {
	if !m.writable {
		return fmt.Errorf("write to a read-only mapping")
	}
	if err := m.bounds(off, uint64(len(p))); err != nil {
		return err
	}
	return Copy(m.b[off:], p)
}

// LoadU64 atomically loads the aligned little-endian word at off.
func (m *Mapping) LoadU64(off uint64) (v uint64, err error) {
	if err := m.word(off); err != nil {
		return 0, err
	}
	err = guard(func() { v = atomic.LoadUint64((*uint64)(unsafe.Pointer(&m.b[off]))) })
	return v, err
}

// StoreU64 atomically stores v in the aligned word at off.
func (m *Mapping) StoreU64(off uint64, v uint64) error {
	if !m.writable {
		return fmt.Errorf("write to a read-only mapping")
	}
	if err := m.word(off); err != nil {
		return err
	}
	return guard(func() { atomic.StoreUint64((*uint64)(unsafe.Pointer(&m.b[off])), v) })
}

// Flush writes back the cache lines of [off, off+n) to memory and fences.
func (m *Mapping) Flush(off, n uint64) {
	if m.clip(&off, &n) {
		Flush(m.b[off : off+n])
	}
}

// Invalidate drops the cache lines of [off, off+n) (writing back any dirty
// ones) so the next loads read memory, and fences.
func (m *Mapping) Invalidate(off, n uint64) {
	if m.clip(&off, &n) {
		Invalidate(m.b[off : off+n])
	}
}

func (m *Mapping) clip(off, n *uint64) bool {
	l := uint64(len(m.b))
	if *off >= l || *n == 0 {
		return false
	}
	*n = min(*n, l-*off)
	return true
}

func (m *Mapping) bounds(off, n uint64) error {
	if off > uint64(len(m.b)) || n > uint64(len(m.b))-off {
		return fmt.Errorf("access 0x%x+0x%x beyond the %d-byte mapping", off, n, len(m.b))
	}
	return nil
}

func (m *Mapping) word(off uint64) error {
	if off%8 != 0 {
		return fmt.Errorf("unaligned word at 0x%x", off)
	}
	return m.bounds(off, 8)
}

// Copy copies src into dst like the builtin copy, but turns a memory fault
// (SIGBUS or SIGSEGV on a mapping) into an error wrapping ErrFault.
func Copy(dst, src []byte) error {
	return guard(func() { copy(dst, src) })
}

// guard runs fn with faults turned into panics, and the panic into an error.
func guard(fn func()) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			f, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%w at address 0x%x (device truncated or removed?)", ErrFault, f.Addr())
		}
	}()
	fn()
	return nil
}

var pageSize = uint64(unix.Getpagesize())

func roundUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// Guard runs fn, turning a memory fault inside it into an error wrapping
// ErrFault (for code that touches mapped memory directly).
func Guard(fn func()) error { return guard(fn) }

// Revoke makes the whole mapping inaccessible (PROT_NONE) without unmapping
// it: a load or store through it then faults instead of reaching memory that
// may belong to another file by now. Unmap still releases it.
func (m *Mapping) Revoke() error {
	if m.base == nil {
		return nil
	}
	return unix.Mprotect(unsafe.Slice((*byte)(m.base), m.total), unix.PROT_NONE)
}
