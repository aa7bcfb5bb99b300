package bare

import (
	"bytes"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/internal/omf"
)

func TestLogEntriesShape(t *testing.T) {
	for _, n := range []int{1, 5, 100, 15420} {
		es := Workload(n, omf.LogOffset+omf.DefaultLogLen)
		if len(es) != n {
			t.Fatalf("n=%d: %d entries", n, len(es))
		}
		seen := map[string]omf.EntryType{"": omf.EntryMkdir}
		var files, dirs int
		for i, e := range es {
			if err := omf.CheckRelPath(e.Path, true); err != nil {
				t.Fatalf("n=%d entry %d: %v", n, i, err)
			}
			if _, dup := seen[e.Path]; dup {
				t.Fatalf("n=%d: %q twice", n, e.Path)
			}
			parent := ""
			if k := strings.LastIndexByte(e.Path, '/'); k >= 0 {
				parent = e.Path[:k]
			}
			if seen[parent] != omf.EntryMkdir {
				t.Fatalf("n=%d: %q before its directory", n, e.Path)
			}
			seen[e.Path] = e.Type
			if e.Type == omf.EntryFile {
				if err := e.FMap.Validate(e.Size, 64<<30, omf.AllocUnit); err != nil {
					t.Fatal(err)
				}
				files++
			} else {
				dirs++
			}
		}
		if n == 15420 && (dirs != 420 || files != 15000) {
			t.Fatalf("full log: %d dirs, %d files", dirs, files)
		}
		if es.Files() != files {
			t.Fatalf("n=%d: Files says %d, counted %d", n, es.Files(), files)
		}
		if first := es.FirstFile(); seen[first] != omf.EntryFile {
			t.Fatalf("n=%d: first file %q is not a file", n, first)
		}
	}
	if Dirs([]string{"a", "a/b"}).Files() != 0 || Dirs([]string{"a"}).FirstFile() != "" {
		t.Fatal("directories counted as files")
	}
}

// The raw appender refuses entries that do not fit and then writes nothing.
func TestRawAppendFull(t *testing.T) {
	const n = 16 << 10 // a short log: the header only checks length and last index
	log := make([]byte, n)
	h := omf.NewLogHeader(n)
	h.Encode(log)
	l, err := NewLog(log)
	if err != nil {
		t.Fatal(err)
	}
	es := Workload(int(l.cap), omf.LogOffset+n)
	if err := l.Append(es[:len(es)-1]); err != nil {
		t.Fatal(err)
	}
	before := bytes.Clone(log)
	if err := l.Append(make(Entries, 2)); err == nil {
		t.Fatal("two entries appended to a log with one free slot")
	}
	if !bytes.Equal(log, before) {
		t.Fatal("a refused append changed the log")
	}
	if err := l.Append(es[len(es)-1:]); err != nil {
		t.Fatal(err)
	}
	got, err := omf.ParseLogHeader(log[:omf.LogHeaderSize], n)
	if err != nil || got.NextIndex != l.cap || got.NextSeqnum != l.cap {
		t.Fatalf("header after filling the log: %+v, %v", got, err)
	}
	for i := range l.cap {
		if err := omf.CheckEntry(log[omf.EntryOffset(i):omf.EntryOffset(i+1)], i); err != nil {
			t.Fatal(err)
		}
	}
}

// The replay floor reads and checksums every byte of the log.
func TestReadCRC(t *testing.T) {
	log := make([]byte, 3*FloorChunk+100)
	for i := range log {
		log[i] = byte(i * 7)
	}
	if got, want := ReadCRC(log, make([]byte, FloorChunk)), crc32.ChecksumIEEE(log); got != want {
		t.Fatalf("crc %#x, want %#x", got, want)
	}
}
