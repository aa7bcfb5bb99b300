package omf

import (
	"math"
	"testing"
)

// ValidFor must agree with Validate on every one-extent simple map.
func FuzzValidFor(f *testing.F) {
	const dev, au = 4 << 30, AllocUnit
	f.Add(uint64(0), uint64(au), uint64(au), uint64(100))
	f.Add(uint64(0), uint64(0), uint64(au), uint64(1))
	f.Add(uint64(0), uint64(au+1), uint64(au), uint64(1))
	f.Add(uint64(0), uint64(au), uint64(0), uint64(0))
	f.Add(uint64(0), uint64(au), uint64(au+5), uint64(1))
	f.Add(uint64(1), uint64(au), uint64(au), uint64(1))
	f.Add(uint64(0), uint64(dev-au), uint64(au), uint64(au))
	f.Add(uint64(0), uint64(dev), uint64(au), uint64(1))
	f.Add(uint64(0), uint64(au), uint64(au), uint64(au+1))
	f.Add(uint64(0), uint64(math.MaxUint64-au+1), uint64(au), uint64(1))
	f.Add(uint64(0), uint64(au), uint64(math.MaxUint64-au+1), uint64(1))
	f.Fuzz(func(t *testing.T, idx, off, n, size uint64) {
		e := Extent{DevIndex: idx, Offset: off, Len: n}
		m := FMap{Type: ExtSimple, Extents: []Extent{e}}
		want := m.Validate(size, dev, au) == nil
		if got := e.ValidFor(size, dev, au); got != want {
			t.Fatalf("ValidFor(%+v, size %d) = %v, Validate accepts: %v", e, size, got, want)
		}
	})
}

// DecodeQuick must agree with ParseEntry on every entry it takes.
func FuzzDecodeQuick(f *testing.F) {
	for _, e := range []Entry{
		{Type: EntryMkdir, Mode: 0o755, UID: 1, GID: 2, Path: "a/b"},
		{Type: EntryFile, Size: 10, Flags: 2, Mode: 0o644, Path: "a/.x",
			FMap: FMap{Type: ExtSimple, Extents: []Extent{{Offset: AllocUnit, Len: AllocUnit}}}},
		{Type: EntryFile, Size: 10, Path: "two", FMap: FMap{Type: ExtSimple, Extents: []Extent{{Offset: 1}, {Offset: 2}}}},
	} {
		var b [EntrySize]byte
		if err := e.Encode(b[:]); err != nil {
			f.Fatal(err)
		}
		f.Add(b[:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var q Quick
		if !DecodeQuick(b, &q) {
			return
		}
		var e Entry
		if err := e.decodePayload(b[:EntrySize], nil); err != nil {
			t.Fatalf("DecodeQuick took an entry ParseEntry refuses: %v", err)
		}
		ok := e.Type == q.Type && e.UID == q.UID && e.GID == q.GID && e.Mode == q.Mode && e.Path == string(q.Path)
		if q.Type == EntryFile {
			ok = ok && e.Size == q.Size && e.Flags == q.Flags && e.FMap.Type == ExtSimple &&
				len(e.FMap.Extents) == 1 && e.FMap.Extents[0] == q.Ext
		}
		if !ok {
			t.Fatalf("DecodeQuick %+v, ParseEntry %+v", q, e)
		}
	})
}
