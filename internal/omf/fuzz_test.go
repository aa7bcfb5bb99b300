package omf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"path"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// Fuzz targets for every decoder of the on-media format. Each one runs over
// its seed corpus (the golden vectors of docs/format.md and other valid
// encodings, plus the regression inputs under testdata/fuzz) in an ordinary
// `go test`; run one for real with e.g.
//
//	go test -run='^$' -fuzz='^FuzzEntry$' -fuzztime=45s ./omf

// errKinds are the error kinds every decoding error must wrap (exactly one).
var errKinds = []error{ErrShort, ErrBadMagic, ErrWrongVersion, ErrBadCRC, ErrSeqnum, ErrBadField, ErrBadPath, ErrBadFmap}

// checkErr asserts that err is a *FieldError wrapping exactly one kind and
// that this kind is among want.
func checkErr(t *testing.T, what string, err error, want ...error) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("%s: error %v (%T) is not a *FieldError", what, err, err)
	}
	n := 0
	for _, k := range errKinds {
		if errors.Is(err, k) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%s: error %v wraps %d kinds", what, err, n)
	}
	for _, k := range want {
		if errors.Is(err, k) {
			if fe.Error() == "" || fe.Struct == "" {
				t.Fatalf("%s: error without a description: %+v", what, fe)
			}
			return
		}
	}
	t.Fatalf("%s: unexpected error kind: %v", what, err)
}

func kindOf(err error) error {
	for _, k := range errKinds {
		if errors.Is(err, k) {
			return k
		}
	}
	return err
}

// ---------------------------------------------------------------- superblock

func goldenSuperblock() Superblock {
	sb := NewSuperblock()
	sb.UUID, sb.DevUUID, sb.SystemUUID = seqUUID(0x10), seqUUID(0x20), goldenSystem
	sb.DevSize = 8 << 30
	sb.DevPath = "/dev/dax0.0"
	return sb
}

func encodeSB(s Superblock) []byte {
	b := make([]byte, SuperblockSize)
	s.Encode(b)
	return b
}

func FuzzSuperblock(f *testing.F) {
	sb := goldenSuperblock()
	f.Add(encodeSB(sb))
	big := sb
	big.LogLen, big.DevSize, big.AllocUnit = 64<<20, 1<<40, SmallAllocUnit
	big.Flags, big.DaxdevUUID = 3, uuid.UUID(bytes.Repeat([]byte{0xcd}, 16))
	big.DevPath = strings.Repeat("/dev/dax", 8) // 64 bytes: no terminator
	f.Add(encodeSB(big))
	wrongVer := sb
	wrongVer.Version = 47
	f.Add(encodeSB(wrongVer))
	badLog := sb
	badLog.LogLen = 12 << 20 // CRC valid, length not a power of two
	f.Add(encodeSB(badLog))
	small := sb
	small.DevSize = 4 << 20 // cannot hold the log
	f.Add(encodeSB(small))
	badCRC := encodeSB(sb)
	badCRC[0x64] = 1 // non-zero high half of the CRC
	f.Add(badCRC)
	withTail := append(encodeSB(sb), bytes.Repeat([]byte{0xff}, 56)...) // region bytes after the struct
	f.Add(withTail)
	f.Add(make([]byte, SuperblockSize))
	f.Add([]byte{0xff, 0x82, 0xb2, 0x87})

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSuperblock(data)
		if len(data) < SuperblockSize {
			checkErr(t, "short superblock", err, ErrShort)
			return
		}
		raw := data[:SuperblockSize]
		// Validate without the raw bytes (re-encoding) must agree with the
		// raw form: every CRC'd byte is a decoded field.
		if err2 := s.Validate(nil); kindOf(err2) != kindOf(err) {
			t.Fatalf("Validate(raw)=%v but Validate(nil)=%v", err, err2)
		}
		// Re-encoding reproduces the struct except the padding and the
		// device path's bytes after its terminator, which Encode zeroes; and
		// the CRC, which Encode computes.
		want := bytes.Clone(raw)
		clear(want[sbFlags+4 : sbDevSize])
		if k := bytes.IndexByte(want[sbDevPath:SuperblockSize], 0); k >= 0 {
			clear(want[sbDevPath+k : SuperblockSize])
		}
		got := encodeSB(s)
		copy(want[sbCRC:sbCRC+8], got[sbCRC:sbCRC+8])
		if !bytes.Equal(got, want) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", got, want)
		}
		if len(s.DevPath) > DaxdevField || strings.IndexByte(s.DevPath, 0) >= 0 {
			t.Fatalf("device path %q", s.DevPath)
		}
		if err != nil {
			checkErr(t, "superblock", err, ErrBadMagic, ErrWrongVersion, ErrBadCRC, ErrBadField)
			switch kindOf(err) {
			case ErrBadMagic:
				if s.Magic == SuperblockMagic {
					t.Fatalf("bad magic reported for the right magic")
				}
			case ErrWrongVersion:
				if s.Magic != SuperblockMagic || s.Version == SuperblockVersion {
					t.Fatal("wrong version misreported")
				}
			case ErrBadCRC:
				if s.CRC == SuperblockCRC(raw) {
					t.Fatal("bad CRC reported for a good one")
				}
			}
			return
		}
		// A valid superblock describes a layout a reader can map safely.
		switch {
		case s.Magic != SuperblockMagic || s.Version != SuperblockVersion:
			t.Fatalf("accepted magic %#x version %d", s.Magic, s.Version)
		case s.CRC != SuperblockCRC(raw) || s.CRC>>32 != 0:
			t.Fatalf("accepted CRC %#x", s.CRC)
		case s.AllocUnit != AllocUnit && s.AllocUnit != SmallAllocUnit:
			t.Fatalf("accepted alloc unit %#x", s.AllocUnit)
		case s.LogOffset != LogOffset || !ValidLogLen(s.LogLen) || bits.OnesCount64(s.LogLen) != 1:
			t.Fatalf("accepted log %#x+%#x", s.LogOffset, s.LogLen)
		}
		if end, carry := bits.Add64(s.LogOffset, s.LogLen, 0); carry != 0 || end != s.MetaSize() || end > s.DevSize {
			t.Fatalf("log %#x+%#x does not fit in dd_size %#x", s.LogOffset, s.LogLen, s.DevSize)
		}
		if got := encodeSB(s); !bytes.Equal(got[:sbFlags], raw[:sbFlags]) {
			t.Fatal("re-encoded CRC'd part differs")
		}
		if s2, err := ParseSuperblock(got); err != nil || s2 != s {
			t.Fatalf("re-parse: %+v %v", s2, err)
		}
	})
}

// ---------------------------------------------------------------- log header

func encodeHdr(h LogHeader) []byte {
	b := make([]byte, LogHeaderSize)
	h.Encode(b)
	return b
}

func FuzzLogHeader(f *testing.F) {
	h := NewLogHeader(DefaultLogLen)
	h.NextSeqnum, h.NextIndex = 5, 5
	f.Add(encodeHdr(h), uint64(DefaultLogLen))
	f.Add(encodeHdr(NewLogHeader(16<<10)), uint64(16<<10))
	full := NewLogHeader(64 << 20)
	full.NextIndex = full.LastIndex + 1
	full.NextSeqnum = 1 << 63 // garbage, unprotected and unused
	f.Add(encodeHdr(full), uint64(64<<20))
	over := NewLogHeader(DefaultLogLen)
	over.NextIndex = over.LastIndex + 2
	f.Add(encodeHdr(over), uint64(DefaultLogLen))
	last := NewLogHeader(DefaultLogLen)
	last.LastIndex = ^uint64(0)
	f.Add(encodeHdr(last), uint64(DefaultLogLen))
	f.Add(encodeHdr(NewLogHeader(DefaultLogLen)), uint64(16<<20)) // length mismatch
	f.Add(encodeHdr(LogHeader{Magic: LogMagic}), uint64(0))
	f.Add(make([]byte, LogHeaderSize), uint64(DefaultLogLen))
	f.Add([]byte{0x0d, 0xf0}, uint64(DefaultLogLen))

	f.Fuzz(func(t *testing.T, data []byte, logLen uint64) {
		h, err := ParseLogHeader(data, logLen)
		if len(data) < LogHeaderSize {
			checkErr(t, "short header", err, ErrShort)
			return
		}
		raw := data[:LogHeaderSize]
		got := encodeHdr(h)
		if !bytes.Equal(got[:LogHdrCRC], raw[:LogHdrCRC]) || !bytes.Equal(got[LogHdrNextSeqnum:], raw[LogHdrNextSeqnum:]) {
			t.Fatalf("re-encoding differs:\n got %x\nraw %x", got, raw)
		}
		if h.Free() > h.Capacity() && h.Capacity() != 0 {
			t.Fatalf("free %d > capacity %d", h.Free(), h.Capacity())
		}
		if err != nil {
			checkErr(t, "log header", err, ErrBadMagic, ErrBadCRC, ErrBadField)
			if errors.Is(err, ErrBadCRC) && h.CRC == LogHeaderCRC(raw) {
				t.Fatal("bad CRC reported for a good one")
			}
			return
		}
		if !bytes.Equal(got, raw) {
			t.Fatalf("valid header does not re-encode identically:\n got %x\nraw %x", got, raw)
		}
		switch {
		case h.Magic != LogMagic || h.CRC != LogHeaderCRC(raw):
			t.Fatal("accepted bad magic or CRC")
		case h.Len != logLen:
			t.Fatalf("accepted len %d for a %d-byte log", h.Len, logLen)
		case h.LastIndex >= EntriesFor(logLen):
			t.Fatalf("accepted last index %d, %d slots", h.LastIndex, EntriesFor(logLen))
		case h.NextIndex > h.Capacity():
			t.Fatalf("accepted next index %d > capacity %d", h.NextIndex, h.Capacity())
		case h.Free()+h.NextIndex != h.Capacity():
			t.Fatalf("free %d + next %d != capacity %d", h.Free(), h.NextIndex, h.Capacity())
		}
		// Every slot the header allows lies inside the log.
		if end := EntryOffset(h.LastIndex) + EntrySize; end > logLen || end < EntrySize {
			t.Fatalf("last slot ends at %d, log is %d bytes", end, logLen)
		}
		if EntryOffset(h.NextIndex) > logLen {
			t.Fatalf("next slot at %d, log is %d bytes", EntryOffset(h.NextIndex), logLen)
		}
	})
}

// ---------------------------------------------------------------- entries

// careMask marks the entry bytes a decoded entry depends on. Everything else
// (padding, the unused union tail, path bytes after the terminator, slots
// past the extent count) is ignored by the reader and zeroed by the writer;
// the CRC field is recomputed by the writer.
func careMask(b []byte) []bool {
	m := make([]bool, EntrySize)
	set := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			m[i] = true
		}
	}
	path := func(at int) {
		n := bytes.IndexByte(b[at:at+RelPathField], 0)
		if n < 0 {
			n = RelPathField - 1
		}
		set(at, at+n+1)
	}
	le := binary.LittleEndian
	set(enSeqnum, enType+4)
	set(enCRC, EntrySize)
	switch EntryType(le.Uint32(b[enType:])) {
	case EntryFile:
		set(fileSize, filePath)
		path(filePath)
		fm := fileFMap
		set(fm+fmExtType, fm+fmExtType+4)
		set(fm+fmNExtents, fm+fmNExtents+4)
		n := int(min(le.Uint32(b[fm+fmNExtents:]), MaxSimpleExtents))
		switch ExtType(le.Uint32(b[fm+fmExtType:])) {
		case ExtSimple:
			set(fm+fmExtents, fm+fmExtents+extentSize*n)
		case ExtInterleave:
			if n > 0 {
				set(fm+fmIENStrips, fm+fmIEChunk+8)
				ns := int(min(le.Uint64(b[fm+fmIENStrips:]), MaxStrips))
				set(fm+fmIEStrips, fm+fmIEStrips+extentSize*ns)
			}
		}
	case EntryMkdir:
		set(dirUID, dirPath)
		path(dirPath)
	case EntryAddDaxdev:
		set(ddSize, ddIndex+4)
	case EntryDelete:
		set(delTarget, delKind+4)
		set(delSize, delSize+8)
		path(delPath)
	case EntrySymlink:
		set(slUID, slPath)
		path(slPath)
		set(slTargetLen, slTarget+4)
		n := int(min(le.Uint32(b[slTargetLen:]), MaxSymlinkTarget))
		set(slTarget, slTarget+n+1)
	}
	return m
}

// normEntry makes decoded and hand-built entries comparable: empty slices
// become nil.
func normEntry(e Entry) Entry {
	if len(e.FMap.Extents) == 0 {
		e.FMap.Extents = nil
	}
	if len(e.FMap.Interleaved) == 0 {
		e.FMap.Interleaved = nil
	}
	return e
}

func encodeEntry(t testing.TB, e Entry) []byte {
	b := make([]byte, EntrySize)
	if err := e.Encode(b); err != nil {
		t.Fatalf("encode %+v: %v", e, err)
	}
	return b
}

// seedEntries are valid entries the way our writer produces them.
func seedEntries() []Entry {
	var out []Entry
	for _, v := range vectorEntries {
		out = append(out, v.entry)
	}
	many := make([]Extent, MaxSimpleExtents)
	for i := range many {
		many[i] = Extent{Offset: uint64(10+2*i) * AllocUnit, Len: AllocUnit}
	}
	strips := make([]Extent, MaxStrips)
	for i := range strips {
		strips[i] = Extent{Offset: uint64(1+i) << 30, Len: 4 * AllocUnit}
	}
	out = append(out,
		Entry{Seqnum: 5, Type: EntryFile, Size: 16 * AllocUnit, Flags: 2, Mode: 0o644, Path: strings.Repeat("p", MaxRelPath),
			FMap: FMap{Type: ExtSimple, Extents: many}},
		Entry{Seqnum: 6, Type: EntryFile, Size: 64 * AllocUnit, Flags: 2, Mode: 0o600, Path: "a/b/c/wide",
			FMap: FMap{Type: ExtInterleave, Interleaved: []Interleave{{ChunkSize: AllocUnit, Strips: strips}}}},
		Entry{Seqnum: 7, Type: EntryMkdir, UID: 1, GID: 2, Mode: 0o7777, Path: "a/b/c"},
		Entry{Seqnum: 8, Type: EntryDelete, Path: "a/b/c/wide", Delete: Delete{Target: 6, Size: 64 * AllocUnit}},
		Entry{Seqnum: 11, Type: EntryDelete, Path: "a/b/c", Delete: Delete{Target: 7, Dir: true}},
		Entry{Seqnum: 9, Type: EntryInvalid},
		Entry{Seqnum: 12, Type: EntrySymlink, UID: 3, GID: 4, Mode: 0o777, Path: "a/b/c/link", Target: "../wide"},
		Entry{Seqnum: 13, Type: EntrySymlink, Mode: 0o777, Path: "abs", Target: "/" + strings.Repeat("t", MaxSymlinkTarget-1)},
		Entry{Seqnum: 14, Type: EntryDelete, Path: "abs", Delete: Delete{Target: 13, Symlink: true}},
		Entry{Seqnum: 10, Type: EntryFile, Size: 1, Path: "empty-map"},
	)
	return out
}

func FuzzEntry(f *testing.F) {
	for _, e := range seedEntries() {
		b := encodeEntry(f, e)
		f.Add(b, e.Seqnum, false)
		f.Add(b, e.Seqnum+1, false) // wrong slot
	}
	// An intact entry with garbage in the bytes the reader ignores.
	dirty := encodeEntry(f, vectorEntries[1].entry)
	for i := 0x30; i < 0x78; i++ {
		dirty[i] |= byte(i) // after the path's NUL... and the NUL itself
	}
	dirty[0x32] = 0
	for i := 0x88 + 24; i < 0x218; i++ {
		dirty[i] = 0xa5
	}
	dirty[0x0c] = 0x77
	binary.LittleEndian.PutUint64(dirty[enCRC:], EntryCRC(dirty))
	f.Add(dirty, uint64(1), false)
	// intact but malformed: "..", no NUL, 17 extents, 0 strips, unknown types
	mal := func(mod func(b []byte)) []byte {
		b := encodeEntry(f, vectorEntries[1].entry)
		mod(b)
		binary.LittleEndian.PutUint64(b[enCRC:], EntryCRC(b))
		return b
	}
	f.Add(mal(func(b []byte) { copy(b[filePath:], "../etc\x00") }), uint64(1), false)
	f.Add(mal(func(b []byte) { copy(b[filePath:], bytes.Repeat([]byte{'x'}, RelPathField)) }), uint64(1), false)
	f.Add(mal(func(b []byte) { b[fileFMap+fmNExtents] = 17 }), uint64(1), false)
	f.Add(mal(func(b []byte) { b[fileFMap+fmExtType] = 2 }), uint64(1), false)
	f.Add(mal(func(b []byte) { b[enType] = 9 }), uint64(1), false)
	f.Add(make([]byte, EntrySize), uint64(0), true)
	f.Add(make([]byte, 100), uint64(0), false)

	// fix stores the slot's sequence number and a matching CRC before the
	// check, so that mutations reach the payload decoders.
	f.Fuzz(func(t *testing.T, data []byte, index uint64, fix bool) {
		if fix && len(data) >= EntrySize {
			data = bytes.Clone(data)
			binary.LittleEndian.PutUint64(data[enSeqnum:], index)
			binary.LittleEndian.PutUint64(data[enCRC:], EntryCRC(data))
		}
		cerr := CheckEntry(data, index)
		e, err := ParseEntry(data, index)
		if cerr != nil {
			checkErr(t, "check", cerr, ErrShort, ErrSeqnum, ErrBadCRC)
			if kindOf(err) != kindOf(cerr) {
				t.Fatalf("CheckEntry %v but ParseEntry %v", cerr, err)
			}
			if len(data) >= EntrySize && !IsTorn(cerr) {
				t.Fatalf("full-size entry failed its check without being torn: %v", cerr)
			}
			return
		}
		raw := data[:EntrySize]
		if err != nil {
			checkErr(t, "parse", err, ErrBadPath, ErrBadFmap, ErrBadField)
			if IsTorn(err) {
				t.Fatal("intact entry reported torn")
			}
			return
		}
		if e.Seqnum != index || e.CRC != EntryCRC(raw) {
			t.Fatalf("seqnum %d crc %#x in slot %d", e.Seqnum, e.CRC, index)
		}
		switch e.Type {
		case EntryFile, EntryMkdir:
			if err := CheckRelPath(e.Path, false); err != nil {
				t.Fatalf("accepted path: %v", err)
			}
		}
		if e.Type == EntryFile {
			switch e.FMap.Type {
			case ExtSimple:
				if len(e.FMap.Extents) > MaxSimpleExtents || e.FMap.Interleaved != nil {
					t.Fatalf("simple map %+v", e.FMap)
				}
			case ExtInterleave:
				if len(e.FMap.Interleaved) > MaxInterleaved || e.FMap.Extents != nil {
					t.Fatalf("interleaved map %+v", e.FMap)
				}
				for _, ie := range e.FMap.Interleaved {
					if ie.ChunkSize == 0 || len(ie.Strips) == 0 || len(ie.Strips) > MaxStrips {
						t.Fatalf("interleaved extent %+v", ie)
					}
				}
			default:
				t.Fatalf("accepted extent type %d", e.FMap.Type)
			}
		}
		// Re-encode. Paths of 79 bytes are readable but not writable.
		c := e
		canon := make([]byte, EntrySize)
		if err := c.Encode(canon); err != nil {
			if (e.Type == EntryFile || e.Type == EntryMkdir || e.Type == EntryDelete || e.Type == EntrySymlink) && len(e.Path) > MaxRelPath {
				checkErr(t, "re-encode", err, ErrBadPath)
				return
			}
			t.Fatalf("decoded entry does not re-encode: %v", err)
		}
		// The re-encoding differs from the original only in bytes the reader
		// ignores; an original with those bytes zero (as our writer leaves
		// them) is reproduced exactly, CRC included.
		care := careMask(raw)
		clean := true
		for i := range raw {
			if !care[i] && raw[i] != 0 {
				clean = false
			}
			if care[i] && i < enCRC && canon[i] != raw[i] {
				t.Fatalf("re-encoding changed meaningful byte %#x: %#x -> %#x", i, raw[i], canon[i])
			}
			if !care[i] && canon[i] != 0 {
				t.Fatalf("writer left byte %#x non-zero", i)
			}
		}
		if clean && !bytes.Equal(canon, raw) {
			t.Fatalf("clean entry re-encodes differently:\n got %x\nwant %x", canon, raw)
		}
		e2, err := ParseEntry(canon, index)
		if err != nil {
			t.Fatalf("re-encoded entry does not parse: %v", err)
		}
		e.CRC = e2.CRC
		if !reflect.DeepEqual(normEntry(e2), normEntry(e)) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", e2, e)
		}
	})
}

// FuzzEntryEncode builds entries from fields: whatever the writer accepts
// must parse back to the same entry and re-encode to the same bytes.
func FuzzEntryEncode(f *testing.F) {
	for _, e := range seedEntries() {
		var ext []byte
		var chunk uint64
		for _, x := range e.FMap.AllExtents() {
			ext = binary.LittleEndian.AppendUint64(ext, x.DevIndex)
			ext = binary.LittleEndian.AppendUint64(ext, x.Offset)
			ext = binary.LittleEndian.AppendUint64(ext, x.Len)
		}
		if len(e.FMap.Interleaved) > 0 {
			chunk = e.FMap.Interleaved[0].ChunkSize
		}
		f.Add(e.Seqnum, uint32(e.Type), e.Size, e.Flags, e.UID, e.GID, e.Mode, e.Path, uint32(e.FMap.Type), chunk, ext)
	}

	f.Fuzz(func(t *testing.T, seq uint64, typ uint32, size uint64, flags, uid, gid, mode uint32, p string, ext uint32, chunk uint64, raw []byte) {
		e := Entry{Seqnum: seq, Type: EntryType(typ)}
		switch e.Type {
		case EntryFile:
			e.Size, e.Flags, e.UID, e.GID, e.Mode, e.Path = size, flags, uid, gid, mode, p
			var xs []Extent
			for len(raw) >= extentSize && len(xs) <= MaxSimpleExtents {
				xs = append(xs, getExtent(raw))
				raw = raw[extentSize:]
			}
			e.FMap.Type = ExtType(ext)
			switch e.FMap.Type {
			case ExtSimple:
				e.FMap.Extents = xs
			case ExtInterleave:
				if chunk != 0 || len(xs) != 0 { // else: no interleaved extent
					e.FMap.Interleaved = []Interleave{{ChunkSize: chunk, Strips: xs}}
				}
			}
		case EntryMkdir:
			e.UID, e.GID, e.Mode, e.Path = uid, gid, mode, p
		case EntryAddDaxdev:
			e.Daxdev = Daxdev{Size: size, Index: uid}
			copy(e.Daxdev.UUID[:], p)
		}
		b := bytes.Repeat([]byte{0x5a}, EntrySize)
		if err := e.Encode(b); err != nil {
			checkErr(t, "encode", err, ErrBadPath, ErrBadFmap, ErrBadField)
			return
		}
		if e.CRC != EntryCRC(b) || binary.LittleEndian.Uint64(b[enCRC:]) != e.CRC {
			t.Fatal("CRC not stored")
		}
		d, err := ParseEntry(b, seq)
		if err != nil {
			t.Fatalf("the writer produced an entry the reader rejects: %v\nentry %+v", err, e)
		}
		if !reflect.DeepEqual(normEntry(d), normEntry(e)) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", d, e)
		}
		care := careMask(b)
		for i := range b {
			if !care[i] && b[i] != 0 {
				t.Fatalf("writer left byte %#x non-zero", i)
			}
		}
		b2 := make([]byte, EntrySize)
		if err := d.Encode(b2); err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("re-encoding differs (%v)", err)
		}
	})
}

// ---------------------------------------------------------------- fmaps

// maxSegIter bounds the work one Segments call may do in the fuzzer (an
// interleaved map with a 4 KiB chunk has one segment per chunk).
const maxSegIter = 1 << 12

// checkSegments verifies Segments(length) against Resolve and Backing and
// returns the segments.
func checkSegments(t *testing.T, m *FMap, length uint64) []Segment {
	t.Helper()
	segs := m.Segments(length)
	want := min(length, m.Backing())
	var at uint64
	for i, s := range segs {
		if s.FileOff != at || s.Len == 0 {
			t.Fatalf("segment %d %+v: expected file offset %#x, non-empty", i, s, at)
		}
		if s.DevOff+s.Len < s.DevOff {
			t.Fatalf("segment %d %+v wraps", i, s)
		}
		if i > 0 && segs[i-1].DevOff+segs[i-1].Len == s.DevOff {
			t.Fatalf("segments %d and %d not merged", i-1, i)
		}
		at += s.Len
		// Resolve agrees at the start, the end and the middle of the run.
		for _, off := range []uint64{s.FileOff, s.FileOff + s.Len/2, s.FileOff + s.Len - 1} {
			dev, contig, ok := m.Resolve(off, length)
			if !ok || contig == 0 || dev != s.DevOff+(off-s.FileOff) {
				t.Fatalf("segment %+v: Resolve(%#x) = %#x, %#x, %v", s, off, dev, contig, ok)
			}
			if dev+contig < dev {
				t.Fatalf("Resolve(%#x) = %#x+%#x wraps", off, dev, contig)
			}
		}
	}
	if at > length || at != want {
		t.Fatalf("segments cover %#x bytes of %#x requested, backing %#x", at, length, m.Backing())
	}
	if at < length {
		if _, _, ok := m.Resolve(at, length); ok {
			t.Fatalf("Segments stopped at %#x but Resolve maps it", at)
		}
	}
	return segs
}

func disjoint(xs []Extent) bool {
	s := append([]Extent(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i].Offset < s[j].Offset })
	for i := 1; i < len(s); i++ {
		if s[i-1].Offset+s[i-1].Len > s[i].Offset {
			return false
		}
	}
	return true
}

func FuzzFMap(f *testing.F) {
	addMap := func(m FMap, fileSize, devSize uint64, small bool, off uint64) {
		var raw []byte
		var chunk uint64
		for _, x := range m.AllExtents() {
			raw = binary.LittleEndian.AppendUint64(raw, x.DevIndex)
			raw = binary.LittleEndian.AppendUint64(raw, x.Offset)
			raw = binary.LittleEndian.AppendUint64(raw, x.Len)
		}
		if len(m.Interleaved) > 0 {
			chunk = m.Interleaved[0].ChunkSize
		}
		f.Add(uint8(m.Type), chunk, raw, fileSize, devSize, small, off)
	}
	for _, v := range vectorEntries {
		if v.entry.Type == EntryFile {
			addMap(v.entry.FMap, v.entry.Size, 8<<30, false, v.entry.Size/2)
		}
	}
	for _, e := range seedEntries()[5:7] {
		addMap(e.FMap, e.Size, 32<<30, false, e.Size-1)
	}
	addMap(FMap{Type: ExtInterleave, Interleaved: []Interleave{{ChunkSize: 4096,
		Strips: []Extent{{0, 1 << 20, 12 << 10}, {0, 2 << 20, 8 << 10}, {0, 3 << 20, 10 << 10}}}}}, 30<<10, 1<<30, true, 17<<10)
	addMap(FMap{Type: ExtSimple, Extents: []Extent{{0, 0xA00000, 0x200000}, {0, 0xC00000, 0x200000}, {0, 0xA00000, 0x200000}}}, 0x600000, 8<<30, false, 0x500000)

	f.Fuzz(func(t *testing.T, typ uint8, chunk uint64, raw []byte, fileSize, devSize uint64, small bool, off uint64) {
		au := uint64(AllocUnit)
		if small {
			au = SmallAllocUnit
		}
		var xs []Extent
		for len(raw) >= extentSize && len(xs) < MaxSimpleExtents+1 {
			xs = append(xs, getExtent(raw))
			raw = raw[extentSize:]
		}
		m := FMap{Type: ExtType(typ % 3)}
		switch m.Type {
		case ExtSimple:
			m.Extents = xs
		case ExtInterleave:
			m.Interleaved = []Interleave{{ChunkSize: chunk, Strips: xs}}
		}
		// Never panics, whatever the map.
		verr := m.Validate(fileSize, devSize, au)
		dev, contig, ok := m.Resolve(off, fileSize)
		if ok && (off >= fileSize || contig == 0 || dev+contig < dev) {
			t.Fatalf("Resolve(%#x) = %#x+%#x ok for a %#x-byte file", off, dev, contig, fileSize)
		}
		if !ok && (dev != 0 || contig != 0) {
			t.Fatal("Resolve returned a range with ok=false")
		}
		length := fileSize
		if m.Type == ExtInterleave && chunk != 0 && length/chunk > maxSegIter {
			length = chunk * maxSegIter
		}
		if m.Type == ExtType(2) {
			if verr == nil || ok || len(m.Segments(length)) != 0 || m.Backing() != 0 {
				t.Fatal("unknown map type accepted")
			}
			return
		}
		segs := checkSegments(t, &m, length)
		if verr != nil {
			checkErr(t, "validate", verr, ErrBadFmap)
			return
		}
		// A valid map: every byte of the file resolves inside the device,
		// away from the superblock, without wrapping.
		if m.Backing() < fileSize {
			t.Fatalf("valid map backs %#x of %#x bytes", m.Backing(), fileSize)
		}
		if off < fileSize && !ok {
			t.Fatalf("valid map does not resolve %#x < %#x", off, fileSize)
		}
		if ok && (dev < au || dev+contig > devSize) {
			t.Fatalf("Resolve(%#x) = %#x+%#x outside the device %#x", off, dev, contig, devSize)
		}
		for _, s := range segs {
			if s.DevOff < au || s.DevOff+s.Len > devSize {
				t.Fatalf("segment %+v outside the device %#x", s, devSize)
			}
		}
		if length == fileSize && len(segs) > 0 && segs[len(segs)-1].FileOff+segs[len(segs)-1].Len != fileSize {
			t.Fatal("valid map's segments do not reach the file size")
		}
		// With disjoint extents no two segments share device bytes.
		if disjoint(m.AllExtents()) {
			ds := make([]Extent, len(segs))
			for i, s := range segs {
				ds[i] = Extent{Offset: s.DevOff, Len: s.Len}
			}
			if !disjoint(ds) {
				t.Fatalf("segments overlap on the device: %+v", segs)
			}
		}
	})
}

// ---------------------------------------------------------------- paths

func FuzzCheckRelPath(f *testing.F) {
	for _, p := range []string{"a", "dir1/file1", "a/b/c", strings.Repeat("x", MaxRelPath), strings.Repeat("y", MaxRelPath+1),
		strings.Repeat("z", RelPathField), "", "/a", "a/", "a//b", "./a", "a/./b", "a/..", "..", "...", "a\x00b", "a b/\xff", ".hidden/..x"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rerr := CheckRelPath(p, false)
		werr := CheckRelPath(p, true)
		if rerr != nil {
			checkErr(t, "read rules", rerr, ErrBadPath)
		}
		if werr != nil {
			checkErr(t, "write rules", werr, ErrBadPath)
		}
		if werr == nil && rerr != nil {
			t.Fatalf("writable but not readable: %v", rerr)
		}
		if rerr == nil && werr != nil && len(p) <= MaxRelPath {
			t.Fatalf("readable, short, but not writable: %v", werr)
		}
		// Independent statement of the rules.
		valid := p != "" && len(p) < RelPathField && !strings.ContainsRune(p, 0) && !strings.HasPrefix(p, "/")
		if valid {
			for _, c := range strings.Split(p, "/") {
				if c == "" || c == "." || c == ".." {
					valid = false
				}
			}
		}
		if valid != (rerr == nil) {
			t.Fatalf("CheckRelPath(%q) = %v, independent rules say valid=%v", p, rerr, valid)
		}
		if rerr != nil {
			return
		}
		if path.Clean(p) != p || path.IsAbs(p) || !strings.HasPrefix(path.Clean("/x/"+p), "/x/") {
			t.Fatalf("accepted %q escapes or is not clean", p)
		}
		// It survives the relpath field: written by the writer, read back.
		if werr == nil {
			b := make([]byte, EntrySize)
			for _, typ := range []EntryType{EntryMkdir, EntryFile} {
				e := Entry{Seqnum: 1, Type: typ, Path: p, FMap: FMap{Type: ExtSimple}}
				if err := e.Encode(b); err != nil {
					t.Fatal(err)
				}
				d, err := ParseEntry(b, 1)
				if err != nil || d.Path != p {
					t.Fatalf("path %q read back as %q: %v", p, d.Path, err)
				}
			}
		}
	})
}
