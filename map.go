package famfs

import (
	"fmt"

	"github.com/famfs-go/famfs/internal/device"
)

// MapAccess chooses a mapping's protection.
type MapAccess int

const (
	// MapDefault is read/write on the master, read-only on a client unless
	// the FS was opened with WritableData.
	MapDefault MapAccess = iota
	MapReadOnly
	MapReadWrite
)

// MapOptions tune File.Map.
type MapOptions struct {
	Access MapAccess
}

// Mapping is a file mapped into memory: Bytes is the shared memory itself.
type Mapping struct {
	m      *device.Mapping
	file   *File
	hold   *Hold  // on a file system made for delete: until Unmap
	unpin  func() // lets go of the FS's grant lease (OpenMounted)
	closed bool   // Unmap was called
}

// Map maps the whole file into one contiguous slice: a virtual range aligned
// to 2 MiB (or the device's alignment) is reserved and every extent, or every
// interleave chunk, of the file is mapped MAP_SHARED|MAP_FIXED into place.
// Loads and stores through Bytes go straight to the device memory, with no
// page cache and no copies. The slice is exactly Size bytes long; the rest of
// the last allocation unit is mapped too but not part of the slice.
func (fl *File) Map(o MapOptions) (*Mapping, error) {
	f := fl.fs
	write := f.dataWritable()
	switch o.Access {
	case MapReadOnly:
		write = false
	case MapReadWrite:
		if !f.dev.Writable {
			return nil, pathErr("map", fl.info.Path, fmt.Errorf("%w: device opened read-only", ErrReadOnly))
		}
		write = true
	}
	au := f.sb.AllocUnit
	length := (fl.info.Size + au - 1) / au * au
	segs := fl.fmap.Segments(length)
	runs := make([]device.Run, len(segs))
	var covered uint64
	for i, s := range segs {
		runs[i] = device.Run{VirtOff: s.FileOff, DevOff: s.DevOff, Len: s.Len}
		covered += s.Len
	}
	if covered < fl.info.Size {
		return nil, pathErr("map", fl.info.Path, fmt.Errorf("its map covers %d of %d bytes", covered, fl.info.Size))
	}
	var h *Hold
	if fl.node != nil && f.part.table != nil {
		var err error
		if h, err = fl.Hold(); err != nil {
			return nil, pathErr("map", fl.info.Path, unwrapPath(err))
		}
	}
	m, err := f.dev.MapRuns(runs, length, fl.info.Size, write)
	if err != nil {
		h.Release()
		return nil, pathErr("map", fl.info.Path, err)
	}
	mp := &Mapping{m: m, file: fl, hold: h, unpin: f.lease.pin()}
	f.trackMapping(mp, true)
	return mp, nil
}

// Bytes is the mapped file: Size bytes of shared memory.
func (m *Mapping) Bytes() []byte { return m.m.Bytes() }

// Writable reports whether stores are allowed.
func (m *Mapping) Writable() bool { return m.m.Writable() }

// Flush writes the whole mapping's cache lines back to memory.
func (m *Mapping) Flush() { device.Flush(m.m.Bytes()) }

// FlushRange writes back the cache lines of bytes [off, off+n).
func (m *Mapping) FlushRange(off, n uint64) { m.m.Flush(off, n) }

// Invalidate drops the mapping's cache lines so loads see memory.
func (m *Mapping) Invalidate() { device.Invalidate(m.m.Bytes()) }

// InvalidateRange drops the cache lines of bytes [off, off+n).
func (m *Mapping) InvalidateRange(off, n uint64) { m.m.Invalidate(off, n) }

// Unmap releases the mapping; Bytes must not be used afterwards. On a file
// system made for delete it ends the mapping's hold on its file; a Mapping
// of an FS from OpenMounted lets go of its part of the grant's lease.
func (m *Mapping) Unmap() error {
	m.closed = true
	err := m.m.Unmap()
	if m.hold != nil {
		m.file.fs.trackMapping(m, false)
		m.hold.Release()
		m.hold = nil
	}
	if m.unpin != nil {
		m.unpin()
		m.unpin = nil
	}
	return err
}
