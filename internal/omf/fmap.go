package omf

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// ExtType is fmap_ext_type.
type ExtType uint32

const (
	ExtSimple     ExtType = 0
	ExtInterleave ExtType = 1
)

func (t ExtType) String() string {
	switch t {
	case ExtSimple:
		return "simple"
	case ExtInterleave:
		return "interleaved"
	}
	return fmt.Sprintf("ext_type(%d)", uint32(t))
}

// Extent is a famfs_simple_extent: a device byte range.
type Extent struct {
	DevIndex uint64
	Offset   uint64
	Len      uint64
}

// Interleave is one interleaved extent: data goes round robin across the
// strips in chunks of ChunkSize bytes (docs/format.md, "Interleave").
type Interleave struct {
	ChunkSize uint64
	Strips    []Extent
}

// FMap is the file map of a FILE entry. A simple map lists Extents in file
// order; an interleaved map has (at most) one Interleave.
type FMap struct {
	Type        ExtType
	Extents     []Extent     // ExtSimple
	Interleaved []Interleave // ExtInterleave
}

// fmap layout, relative to the start of the fmap (entry offset 0x078)
const (
	fmExtType   = 0x00
	fmNExtents  = 0x08
	fmExtents   = 0x10 // se[16] or ie[0]
	fmIENStrips = 0x10
	fmIEChunk   = 0x18
	fmIEStrips  = 0x20
	fmapSize    = 416
	extentSize  = 24
)

func putExtent(b []byte, e Extent) {
	le := binary.LittleEndian
	le.PutUint64(b[0:], e.DevIndex)
	le.PutUint64(b[8:], e.Offset)
	le.PutUint64(b[16:], e.Len)
}

func getExtent(b []byte) Extent {
	le := binary.LittleEndian
	return Extent{DevIndex: le.Uint64(b[0:]), Offset: le.Uint64(b[8:]), Len: le.Uint64(b[16:])}
}

// encode writes the map into b (the 416-byte fmap area, already zero).
func (m *FMap) encode(b []byte) error {
	le := binary.LittleEndian
	le.PutUint32(b[fmExtType:], uint32(m.Type))
	switch m.Type {
	case ExtSimple:
		if len(m.Extents) > MaxSimpleExtents {
			return fieldErr(ErrBadFmap, "fmap", "fmap_nextents", uint64(len(m.Extents)), "%d simple extents, at most %d fit", len(m.Extents), MaxSimpleExtents)
		}
		le.PutUint32(b[fmNExtents:], uint32(len(m.Extents)))
		for i, e := range m.Extents {
			putExtent(b[fmExtents+extentSize*i:], e)
		}
	case ExtInterleave:
		if len(m.Interleaved) > MaxInterleaved {
			return fieldErr(ErrBadFmap, "fmap", "fmap_niext", uint64(len(m.Interleaved)), "%d interleaved extents, at most %d fit", len(m.Interleaved), MaxInterleaved)
		}
		le.PutUint32(b[fmNExtents:], uint32(len(m.Interleaved)))
		for _, ie := range m.Interleaved {
			if len(ie.Strips) == 0 || len(ie.Strips) > MaxStrips {
				return fieldErr(ErrBadFmap, "fmap", "ie_nstrips", uint64(len(ie.Strips)), "%d strips, must be 1..%d", len(ie.Strips), MaxStrips)
			}
			if ie.ChunkSize == 0 { // the reader refuses it (and the reference divides by it)
				return fieldErr(ErrBadFmap, "fmap", "ie_chunk_size", 0, "chunk size is zero")
			}
			le.PutUint64(b[fmIENStrips:], uint64(len(ie.Strips)))
			le.PutUint64(b[fmIEChunk:], ie.ChunkSize)
			for i, s := range ie.Strips {
				putExtent(b[fmIEStrips+extentSize*i:], s)
			}
		}
	default:
		return fieldErr(ErrBadFmap, "fmap", "fmap_ext_type", uint64(m.Type), "unknown extent type %d", uint32(m.Type))
	}
	return nil
}

// decodeFMap decodes the 416-byte fmap area. It checks only what is needed to
// read it safely; Validate checks it against a device. Extent lists come from
// d (nil: allocated on their own).
func decodeFMap(b []byte, d *EntryDecoder, m *FMap) error {
	le := binary.LittleEndian
	m.Type = ExtType(le.Uint32(b[fmExtType:]))
	n := le.Uint32(b[fmNExtents:])
	switch m.Type {
	case ExtSimple:
		if n > MaxSimpleExtents {
			return fieldErr(ErrBadFmap, "fmap", "fmap_nextents", uint64(n), "%d simple extents, at most %d fit", n, MaxSimpleExtents)
		}
		m.Extents = d.extents(int(n))
		for i := range m.Extents {
			m.Extents[i] = getExtent(b[fmExtents+extentSize*i:])
		}
	case ExtInterleave:
		if n > MaxInterleaved {
			return fieldErr(ErrBadFmap, "fmap", "fmap_niext", uint64(n), "%d interleaved extents, at most %d fit", n, MaxInterleaved)
		}
		if n == 0 {
			return nil
		}
		ns := le.Uint64(b[fmIENStrips:])
		if ns == 0 || ns > MaxStrips {
			return fieldErr(ErrBadFmap, "fmap", "ie_nstrips", ns, "%d strips, must be 1..%d", ns, MaxStrips)
		}
		chunk := le.Uint64(b[fmIEChunk:])
		if chunk == 0 {
			return fieldErr(ErrBadFmap, "fmap", "ie_chunk_size", 0, "chunk size is zero")
		}
		ie := Interleave{ChunkSize: chunk, Strips: d.extents(int(ns))}
		for i := range ie.Strips {
			ie.Strips[i] = getExtent(b[fmIEStrips+extentSize*i:])
		}
		m.Interleaved = []Interleave{ie}
	default:
		return fieldErr(ErrBadFmap, "fmap", "fmap_ext_type", uint64(m.Type), "unknown extent type %d", uint32(m.Type))
	}
	return nil
}

// Extents lists every device range the map uses: the simple extents, or the
// strips of every interleaved extent.
func (m *FMap) AllExtents() []Extent {
	if m.Type == ExtSimple {
		return m.Extents
	}
	var out []Extent
	for _, ie := range m.Interleaved {
		out = append(out, ie.Strips...)
	}
	return out
}

// Backing is the number of file bytes the map can address: exactly the file
// offsets Resolve maps, from 0 up to the first it cannot (an extent whose
// device range would wrap past 2^64 ends the map), saturating at 2^64-1.
func (m *FMap) Backing() uint64 {
	var n uint64
	switch m.Type {
	case ExtSimple:
		// Resolve ends the map at an extent whose device range wraps; file
		// offsets cannot go past 2^64-1.
		for _, e := range m.Extents {
			if e.wraps() {
				break
			}
			var carry uint64
			if n, carry = bits.Add64(n, e.Len, 0); carry != 0 {
				return math.MaxUint64
			}
		}
	case ExtInterleave:
		// Resolve uses the first interleaved extent only (ie_nbytes is the
		// file size, so it is the whole map; the format holds at most one).
		if len(m.Interleaved) > 0 {
			return m.Interleaved[0].backing()
		}
	}
	return n
}

// wraps reports whether the extent's device range runs past 2^64: no real
// device has such bytes, so readers treat the extent as unusable.
func (e Extent) wraps() bool { return e.Offset+e.Len < e.Offset }

// usable is the number of bytes of the extent a reader may resolve.
func (e Extent) usable() uint64 {
	if e.wraps() {
		return 0
	}
	return e.Len
}

// backing is the number of file bytes an interleaved extent addresses. Chunks
// go round robin across the strips; strip k serves chunk c*n+k at strip offset
// c*chunk, so the first byte it cannot serve is at file offset
// (full*n+k)*chunk + rem, where full and rem count its whole chunks and the
// bytes left over. The extent ends at the smallest such offset.
func (ie *Interleave) backing() uint64 {
	n := uint64(len(ie.Strips))
	if n == 0 || ie.ChunkSize == 0 {
		return 0
	}
	end := ^uint64(0)
	for k, s := range ie.Strips {
		full, rem := s.usable()/ie.ChunkSize, s.usable()%ie.ChunkSize
		c := full*n + uint64(k)
		if c/n != full || c > end/ie.ChunkSize { // overflow: not the limit
			continue
		}
		if e := c*ie.ChunkSize + rem; e < end {
			end = e
		}
	}
	return end
}

// ValidFor reports whether Validate accepts a simple map of the one extent e
// for a file of fileSize bytes on a device of devSize bytes with allocation
// unit au (replay's fast path; Validate explains a refusal).
func (e Extent) ValidFor(fileSize, devSize, au uint64) bool {
	return e.DevIndex == 0 && e.Offset != 0 && e.Offset%au == 0 && e.Len != 0 && e.Len%au == 0 &&
		e.Len <= devSize && e.Offset <= devSize-e.Len && fileSize <= e.Len
}

// Validate checks the map of a file of fileSize bytes against a device of
// devSize bytes with allocation unit au: device index 0 only, non-zero
// au-aligned offsets, au-multiple lengths, every range inside the device, a
// chunk size that is a multiple of au, and enough backing for the file.
func (m *FMap) Validate(fileSize, devSize, au uint64) error {
	check := func(what string, i int, e Extent) error {
		switch {
		case e.DevIndex != 0:
			return fieldErr(ErrBadFmap, "fmap", what, e.DevIndex, "%s %d: device index %d, only device 0 exists", what, i, e.DevIndex)
		case e.Offset == 0:
			return fieldErr(ErrBadFmap, "fmap", what, 0, "%s %d: offset 0 is the superblock", what, i)
		case e.Offset%au != 0:
			return fieldErr(ErrBadFmap, "fmap", what, e.Offset, "%s %d: offset 0x%x is not a multiple of the allocation unit 0x%x", what, i, e.Offset, au)
		case e.Len == 0 || e.Len%au != 0:
			return fieldErr(ErrBadFmap, "fmap", what, e.Len, "%s %d: length 0x%x is not a positive multiple of the allocation unit 0x%x", what, i, e.Len, au)
		case e.Len > devSize || e.Offset > devSize-e.Len:
			return fieldErr(ErrBadFmap, "fmap", what, e.Offset, "%s %d: range 0x%x+0x%x runs past the end of the device (0x%x)", what, i, e.Offset, e.Len, devSize)
		}
		return nil
	}
	switch m.Type {
	case ExtSimple:
		for i, e := range m.Extents {
			if err := check("extent", i, e); err != nil {
				return err
			}
		}
	case ExtInterleave:
		for _, ie := range m.Interleaved {
			if ie.ChunkSize%au != 0 {
				return fieldErr(ErrBadFmap, "fmap", "ie_chunk_size", ie.ChunkSize, "chunk size 0x%x is not a multiple of the allocation unit 0x%x", ie.ChunkSize, au)
			}
			for i, s := range ie.Strips {
				if err := check("strip", i, s); err != nil {
					return err
				}
			}
		}
	default:
		return fieldErr(ErrBadFmap, "fmap", "fmap_ext_type", uint64(m.Type), "unknown extent type %d", uint32(m.Type))
	}
	if b := m.Backing(); fileSize > b {
		return fieldErr(ErrBadFmap, "fmap", "fm_size", fileSize, "file size %d exceeds the %d bytes its map addresses", fileSize, b)
	}
	return nil
}

// Resolve maps file offset off of a file of fileSize bytes to a device offset
// and the number of bytes that stay contiguous on the device from there
// (docs/format.md, "Interleave"). ok is false past the end of the map or of
// the file. Resolve does not clamp contig to the file size.
func (m *FMap) Resolve(off, fileSize uint64) (dev, contig uint64, ok bool) {
	if off >= fileSize {
		return 0, 0, false
	}
	switch m.Type {
	case ExtSimple:
		local := off
		for _, e := range m.Extents {
			if e.wraps() {
				break // the map ends at an impossible extent (Validate rejects it)
			}
			if local < e.Len {
				return e.Offset + local, e.Len - local, true
			}
			local -= e.Len
		}
	case ExtInterleave:
		for _, ie := range m.Interleaved {
			// ie_nbytes is the file size, so the one extent covers the file.
			return ie.resolve(off)
		}
	}
	return 0, 0, false
}

func (ie *Interleave) resolve(off uint64) (dev, contig uint64, ok bool) {
	n := uint64(len(ie.Strips))
	if n == 0 || ie.ChunkSize == 0 {
		return 0, 0, false
	}
	chunkNum := off / ie.ChunkSize
	chunkOff := off % ie.ChunkSize
	strip := ie.Strips[chunkNum%n]
	stripOff := (chunkNum/n)*ie.ChunkSize + chunkOff
	if stripOff >= strip.usable() {
		return 0, 0, false
	}
	return strip.Offset + stripOff, min(ie.ChunkSize-chunkOff, strip.Len-stripOff), true
}

// Segment is a run of file bytes that is contiguous on the device.
type Segment struct {
	FileOff uint64
	DevOff  uint64
	Len     uint64
}

// Segments lists the device runs behind file bytes [0, length), merging runs
// that continue each other on the device. length may exceed the file size up
// to the end of the last allocation unit (the tail a mapping covers); it is
// cut where the map ends.
func (m *FMap) Segments(length uint64) []Segment {
	var out []Segment
	for off := uint64(0); off < length; {
		dev, contig, ok := m.Resolve(off, length)
		if !ok {
			break
		}
		n := min(contig, length-off)
		if k := len(out) - 1; k >= 0 && out[k].DevOff+out[k].Len == dev {
			out[k].Len += n
		} else {
			out = append(out, Segment{FileOff: off, DevOff: dev, Len: n})
		}
		off += n
	}
	return out
}
