package omf

import (
	"unsafe"
)

// EntryDecoder decodes runs of log entries cheaply: the paths and extent
// lists of the entries it decodes are carved out of shared blocks instead of
// being allocated one by one, which is most of the cost of replaying a long
// log. A decoded Entry owns its strings and slices for ever (blocks are never
// reused or written again), but keeping any one of them keeps its whole block
// (a few KiB) alive. The zero value is ready to use; it is not safe for
// concurrent use.
type EntryDecoder struct {
	strs []byte   // free tail of the current path block
	exts []Extent // free tail of the current extent block
	hint int      // entries still expected; sizes the next blocks
}

// Block sizes, in entries: large enough to amortise the allocation, small
// enough that a retained entry pins little.
const decoderBlockEntries = 256

// Expect tells the decoder how many more entries it is about to decode, so
// that it sizes its blocks for a single entry as well as for a whole log.
func (d *EntryDecoder) Expect(n int) { d.hint = n }

// Decode decodes an entry that already passed CheckEntry (so its CRC is not
// computed again) into *e, which is overwritten. Errors and the partly
// decoded entry are those of ParseEntry.
func (d *EntryDecoder) Decode(b []byte, e *Entry) error {
	if len(b) < EntrySize {
		return fieldErr(ErrShort, "log entry", "", uint64(len(b)), "%d bytes, need %d", len(b), EntrySize)
	}
	*e = Entry{}
	err := e.decodePayload(b[:EntrySize], d)
	if d.hint > 0 {
		d.hint--
	}
	return err
}

func (d *EntryDecoder) blockEntries() int { return min(max(d.hint, 1), decoderBlockEntries) }

// string returns a string holding b.
func (d *EntryDecoder) string(b []byte) string {
	if d == nil {
		return string(b)
	}
	if len(b) == 0 {
		return ""
	}
	if len(d.strs) < len(b) {
		d.strs = make([]byte, max(d.blockEntries()*RelPathField, len(b)))
	}
	s := d.strs[:len(b):len(b)]
	copy(s, b)
	d.strs = d.strs[len(b):]
	return unsafe.String(unsafe.SliceData(s), len(s))
}

// extents returns a slice of n extents that no one else uses.
func (d *EntryDecoder) extents(n int) []Extent {
	if d == nil || n == 0 {
		return make([]Extent, n)
	}
	if len(d.exts) < n {
		d.exts = make([]Extent, max(d.blockEntries(), n))
	}
	s := d.exts[:n:n]
	d.exts = d.exts[n:]
	return s
}
