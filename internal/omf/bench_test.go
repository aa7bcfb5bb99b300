package omf

import (
	"hash/crc32"
	"testing"
)

func benchEntryImage(b *testing.B) []byte {
	e := Entry{Seqnum: 7, Type: EntryFile, Size: 12345, Flags: 2, UID: 1000, GID: 1000, Mode: 0o644,
		Path: "dataset-07/shard-013/part-00123.parquet",
		FMap: FMap{Type: ExtSimple, Extents: []Extent{{Offset: 10 << 20, Len: AllocUnit}}}}
	buf := make([]byte, EntrySize)
	if err := e.Encode(buf); err != nil {
		b.Fatal(err)
	}
	return buf
}

// BenchmarkEntryCRC is the plain CRC-32 of one entry (EntryCRC takes a
// shortcut through its zero tail; see BenchmarkCheckEntry).
func BenchmarkEntryCRC(b *testing.B) {
	buf := benchEntryImage(b)
	b.SetBytes(EntryCRCOffset)
	for b.Loop() {
		crc32.ChecksumIEEE(buf[:EntryCRCOffset])
	}
}

func BenchmarkCheckEntry(b *testing.B) {
	buf := benchEntryImage(b)
	for b.Loop() {
		if err := CheckEntry(buf, 7); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEntry(b *testing.B) {
	buf := benchEntryImage(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseEntry(buf, 7); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeChecked is what replay does after CheckEntry.
func BenchmarkDecodeChecked(b *testing.B) {
	buf := benchEntryImage(b)
	var d EntryDecoder
	d.Expect(1 << 30)
	var e Entry
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(buf, &e); err != nil {
			b.Fatal(err)
		}
	}
}

var benchPaths = []string{"dataset-03/shard-007/part-01234.parquet", "dataset-03/shard-007", "a/b/c.d", "x"}

func BenchmarkValidRelPath(b *testing.B) {
	for b.Loop() {
		for _, p := range benchPaths {
			if !validRelPath(p) {
				b.Fatal(p)
			}
		}
	}
}
