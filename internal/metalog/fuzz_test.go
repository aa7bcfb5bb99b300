package metalog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/famfs-go/famfs/internal/testutil/ncmem"
	"github.com/google/uuid"
)

// Replay fuzzing: a 16 KiB log (30 slots) with a valid header and fuzzed
// entry bytes is replayed (Replay, incrementally, and Scan as fsck does) into
// namespace trees, which must keep their invariants whatever the log holds.
//
// Inputs are up to 16 KiB, so the fuzzer's default minimisation of every new
// interesting input (up to 60 s each) stalls progress; limit it:
//
//	go test -run='^$' -fuzz='^FuzzReplay$' -fuzztime=60s -fuzzminimizetime=200x ./metalog

const (
	fuzzDev  = 1 << 30 // device size the trees are built for
	fuzzAU   = omf.AllocUnit
	fuzzMeta = omf.LogOffset + smallLog
)

// Fuzz modes (bits of the mode argument).
const (
	fixSeqnums = 1 << 0 // store seqnum i in every slot i the data covers
	fixCRCs    = 1 << 1 // then recompute every covered slot's CRC, so mutated payloads get decoded
)

// fuzzLog writes a log holding data after a fresh header with next_index n
// and returns a reader host's view of it.
func fuzzLog(data []byte, n uint64, mode uint8) *Log {
	mem := ncmem.New(smallLog)
	w := mem.Host()
	h := omf.NewLogHeader(smallLog)
	h.NextIndex, h.NextSeqnum = n, n
	var hb [omf.LogHeaderSize]byte
	h.Encode(hb[:])
	w.WriteAt(hb[:], 0)
	data = data[:min(len(data), smallLog-omf.LogHeaderSize)]
	body := append([]byte(nil), data...)
	for i := 0; (i+1)*omf.EntrySize <= len(body); i++ {
		e := body[i*omf.EntrySize : (i+1)*omf.EntrySize]
		if mode&fixSeqnums != 0 {
			binary.LittleEndian.PutUint64(e, uint64(i))
		}
		if mode&fixCRCs != 0 {
			binary.LittleEndian.PutUint64(e[omf.EntryCRCOffset:], omf.EntryCRC(e))
		}
	}
	w.WriteAt(body, omf.LogHeaderSize)
	w.Flush(0, smallLog)
	return New(mem.Host(), smallLog)
}

// checkTree asserts the tree's invariants: every placed node hangs under a
// directory that names it, paths are valid and resolve back to the node,
// inode numbers are unique and derived from log indexes below limit, placed
// files have valid maps whose units are marked in the bitmap, and the
// counters match the tree.
func checkTree(t *testing.T, tr *namespace.Tree, limit uint64, visits uint64) {
	t.Helper()
	root := tr.Root()
	if root.Parent() != nil || !root.IsDir() || root.Ino() != namespace.RootIno || tr.Lookup("") != root {
		t.Fatalf("bad root %+v", root)
	}
	inos := map[uint64]string{}
	var files, dirs uint64
	bm := tr.Bitmap()
	var walk func(n *namespace.Node)
	walk = func(n *namespace.Node) {
		for _, c := range n.Children() {
			p := c.Path()
			switch {
			case c.Parent() != n || !n.IsDir() || tr.Child(n, c.Name()) != c:
				t.Fatalf("%q: parent link broken", p)
			case c.Name() == "" || c.Name() == "." || c.Name() == ".." || strings.ContainsAny(c.Name(), "/\x00"):
				t.Fatalf("bad name %q", c.Name())
			case tr.Lookup(p) != c:
				t.Fatalf("Lookup(%q) does not find the node", p)
			case c.Index() < 0 || uint64(c.Index()) >= limit || c.Ino() != namespace.InoBase+uint64(c.Index()):
				t.Fatalf("%q: index %d ino %d (limit %d)", p, c.Index(), c.Ino(), limit)
			}
			if err := omf.CheckRelPath(p, false); err != nil {
				t.Fatalf("placed node with a bad path: %v", err)
			}
			if old, dup := inos[c.Ino()]; dup {
				t.Fatalf("inode %d used by %q and %q", c.Ino(), old, p)
			}
			inos[c.Ino()] = p
			if c.IsDir() {
				dirs++
				walk(c)
				continue
			}
			files++
			if len(c.Children()) != 0 {
				t.Fatalf("file %q has children", p)
			}
			m := c.FMap()
			if err := m.Validate(c.Size(), fuzzDev, fuzzAU); err != nil {
				t.Fatalf("file %q placed with a bad map: %v", p, err)
			}
			for _, x := range m.AllExtents() {
				for u := x.Offset / fuzzAU; u < (x.Offset+x.Len)/fuzzAU; u++ {
					if !bm.Test(u) {
						t.Fatalf("file %q: unit %d not marked in the bitmap", p, u)
					}
				}
			}
		}
	}
	walk(root)
	st := tr.Stats()
	if st.Files != files || st.Dirs != dirs || st.Entries != visits {
		t.Fatalf("stats %+v, tree has %d files %d dirs, %d entries visited", st, files, dirs, visits)
	}
	for _, p := range tr.Problems() {
		if p.Index >= limit {
			t.Fatalf("problem at %d beyond %d: %v", p.Index, limit, p)
		}
	}
	if bm.UsedBytes() > bm.Capacity() || !bm.Test(0) {
		t.Fatalf("bitmap used %d of %d", bm.UsedBytes(), bm.Capacity())
	}
}

// dump renders a tree for comparisons.
func dump(tr *namespace.Tree) string {
	var sb strings.Builder
	var walk func(n *namespace.Node)
	walk = func(n *namespace.Node) {
		for _, c := range n.Children() {
			fmt.Fprintf(&sb, "%s %d %d %d %o %d %d %d %d %+v\n", c.Path(), c.Kind(), c.Ino(), c.Index(), c.Mode(), c.UID(), c.GID(), c.Size(), c.Flags(), c.FMap())
			walk(c)
		}
	}
	walk(tr.Root())
	for _, p := range tr.Problems() {
		fmt.Fprintln(&sb, p)
	}
	fmt.Fprintf(&sb, "%+v %x", tr.Stats(), tr.Bitmap().Units())
	return sb.String()
}

// replayInto replays [from, to) into tr, asserting the visit order and the
// result contract, and returns the next index and the number of visits.
func replayInto(t *testing.T, l *Log, tr *namespace.Tree, from, to uint64) (uint64, uint64) {
	t.Helper()
	want := from
	next, err := l.Replay(from, to, func(i uint64, e *omf.Entry, err error) {
		if i != want {
			t.Fatalf("visited %d, expected %d", i, want)
		}
		want++
		if err != nil && omf.IsTorn(err) {
			t.Fatalf("Replay passed a torn entry %d: %v", i, err)
		}
		tr.Apply(i, e, err)
	})
	if next != want || next > to || next < from {
		t.Fatalf("Replay(%d, %d) returned %d after visiting up to %d", from, to, next, want)
	}
	var bad *BadEntry
	switch {
	case err == nil:
		if next != to {
			t.Fatalf("Replay stopped at %d < %d without an error", next, to)
		}
	case errors.As(err, &bad):
		if bad.Index != next || !omf.IsTorn(bad.Err) {
			t.Fatalf("Replay stopped at %d with %v", next, err)
		}
	default:
		t.Fatalf("Replay I/O error on a model memory: %v", err)
	}
	return next, next - from
}

// seedLog appends entries to a fresh small log and returns its entry bytes.
func seedLog(f *testing.F, entries []omf.Entry) ([]byte, uint64) {
	mem := ncmem.New(smallLog)
	h := mem.Host()
	formatSmall(f, h, smallLog)
	l := New(h, smallLog)
	for k := range entries {
		// one at a time: a bad entry (seeding malformed ones) fails alone
		if _, err := l.Append(entries[k : k+1]); err != nil {
			f.Fatal(err)
		}
	}
	snap := mem.Snapshot()
	return snap[omf.LogHeaderSize:], uint64(len(entries))
}

func fuzzFile(p string, size uint64, xs ...omf.Extent) omf.Entry {
	return omf.Entry{Type: omf.EntryFile, Size: size, Flags: 2, Mode: 0o644, UID: 1000, GID: 1000, Path: p,
		FMap: omf.FMap{Type: omf.ExtSimple, Extents: xs}}
}

func fuzzDir(p string) omf.Entry {
	return omf.Entry{Type: omf.EntryMkdir, Mode: 0o755, Path: p}
}

func FuzzReplay(f *testing.F) {
	mb := uint64(1 << 20)
	good := []omf.Entry{
		fuzzDir("dir1"),
		fuzzFile("dir1/file1", 3*mb, omf.Extent{Offset: 4 * mb, Len: 4 * mb}),
		fuzzFile("file2", 100, omf.Extent{Offset: 8 * mb, Len: 2 * mb}),
		{Type: omf.EntryFile, Size: 9 * mb, Flags: 2, Mode: 0o644, Path: "striped", FMap: omf.FMap{Type: omf.ExtInterleave,
			Interleaved: []omf.Interleave{{ChunkSize: 2 * mb, Strips: []omf.Extent{{Offset: 256 * mb, Len: 6 * mb}, {Offset: 512 * mb, Len: 6 * mb}}}}}},
		{Type: omf.EntryAddDaxdev, Daxdev: omf.Daxdev{Size: 1 << 34, UUID: uuid.UUID{0xab}, Index: 1}},
		fuzzDir("dir1/sub"),
		fuzzFile("dir1/sub/two-extents", 4*mb, omf.Extent{Offset: 10 * mb, Len: 2 * mb}, omf.Extent{Offset: 20 * mb, Len: 2 * mb}),
		{Type: omf.EntryDelete, Path: "d", Delete: omf.Delete{Target: 0, Dir: true}},
		{Type: omf.EntryInvalid},
	}
	troubled := []omf.Entry{
		fuzzDir("a"),
		fuzzDir("a"), // duplicate
		fuzzFile("a/f", 1, omf.Extent{Offset: 4 * mb, Len: 2 * mb}),
		fuzzFile("a/f/g", 1, omf.Extent{Offset: 6 * mb, Len: 2 * mb}), // parent is a file
		fuzzFile("b/c", 1, omf.Extent{Offset: 8 * mb, Len: 2 * mb}),   // missing parent
		fuzzFile("x", 1, omf.Extent{Offset: 4 * mb, Len: 2 * mb}),     // cross-linked
		fuzzFile("y", 1, omf.Extent{Offset: 0, Len: 2 * mb}),          // superblock
		fuzzFile("z", 1, omf.Extent{Offset: 1 << 30, Len: 2 * mb}),    // past the device
		fuzzFile("w", 5*mb, omf.Extent{Offset: 12 * mb, Len: 2 * mb}), // too small
		fuzzDir("a/d"),
	}
	for _, es := range [][]omf.Entry{good, troubled} {
		data, n := seedLog(f, es)
		f.Add(data[:n*omf.EntrySize], n, uint8(0))
		f.Add(data[:n*omf.EntrySize], n+3, uint8(fixSeqnums))
		f.Add(data[:n*omf.EntrySize], n-2, uint8(0))
	}
	// intact entries the reader must refuse: ".." path, no NUL, bad extent
	// count (CRCs fixed by the harness)
	data, n := seedLog(f, good[:3])
	copy(data[omf.EntrySize+0x28:], "../../etc\x00")
	copy(data[2*omf.EntrySize+0x28:], strings.Repeat("q", 80))
	f.Add(data[:n*omf.EntrySize], n, uint8(fixCRCs))
	data, n = seedLog(f, good[:4])
	data[3*omf.EntrySize+0x80] = 17
	data[1*omf.EntrySize+0x78] = 1 // simple map read as interleaved
	f.Add(data[:n*omf.EntrySize], n, uint8(fixCRCs))
	// a torn entry in the middle
	data, n = seedLog(f, good)
	data[4*omf.EntrySize+0x30] ^= 0xff
	f.Add(data[:n*omf.EntrySize], n, uint8(0))
	f.Add([]byte{}, uint64(0), uint8(0))
	f.Add(make([]byte, 3*omf.EntrySize), uint64(3), uint8(fixSeqnums|fixCRCs))

	f.Fuzz(func(t *testing.T, data []byte, nextIndex uint64, mode uint8) {
		l := fuzzLog(data, nextIndex, mode)
		h, err := l.Header()
		if err != nil {
			if nextIndex <= omf.LastIndexFor(smallLog)+1 || !errors.Is(err, omf.ErrBadField) {
				t.Fatalf("header with next_index %d refused: %v", nextIndex, err)
			}
			return
		}
		to := h.NextIndex

		// one pass
		tr := namespace.New(fuzzDev, fuzzAU, fuzzMeta)
		next, visits := replayInto(t, l, tr, 0, to)
		checkTree(t, tr, next, visits)

		// incremental, split where the mode says: the same tree
		split := min(uint64(mode>>2), next)
		tr2 := namespace.New(fuzzDev, fuzzAU, fuzzMeta)
		n1, v1 := replayInto(t, l, tr2, 0, split)
		n2, v2 := replayInto(t, l, tr2, n1, to)
		if n2 != next || v1+v2 != visits {
			t.Fatalf("incremental replay reached %d (%d visits), one pass %d (%d)", n2, v1+v2, next, visits)
		}
		if a, b := dump(tr), dump(tr2); a != b {
			t.Fatalf("incremental replay differs:\n%s\n---\n%s", a, b)
		}

		// fsck's scan: every entry, torn ones counted
		tr3 := namespace.New(fuzzDev, fuzzAU, fuzzMeta)
		var torn, sv uint64
		want := uint64(0)
		err = l.Scan(0, to, func(i uint64, e *omf.Entry, err error) {
			if i != want {
				t.Fatalf("Scan visited %d, expected %d", i, want)
			}
			want++
			sv++
			if omf.IsTorn(err) {
				torn++
				tr3.Torn(i, err)
				return
			}
			tr3.Apply(i, e, err)
		})
		if err != nil || want != to {
			t.Fatalf("Scan stopped at %d of %d: %v", want, to, err)
		}
		checkTree(t, tr3, to, sv)
		if tr3.Stats().Torn != torn || (torn == 0) != (next == to) {
			t.Fatalf("scan found %d torn, replay stopped at %d of %d", torn, next, to)
		}
		if torn == 0 && dump(tr3) != dump(tr) {
			t.Fatalf("scan and replay of an untorn log differ:\n%s\n---\n%s", dump(tr3), dump(tr))
		}

		// the raw path (namespace.ApplyRaw's fast decoding), from a copy and
		// read in place: the same trees as decoding every entry
		for _, rl := range []*Log{l, flatLog(t, l)} {
			tr4 := namespace.New(fuzzDev, fuzzAU, fuzzMeta)
			var dec omf.EntryDecoder
			n4, err := rl.ReplayRaw(0, to, func(i uint64, raw []byte, err error) {
				if err != nil {
					t.Fatalf("ReplayRaw passed a torn entry %d: %v", i, err)
				}
				tr4.ApplyRaw(i, raw, &dec)
			})
			if n4 != next || (err == nil) != (next == to) {
				t.Fatalf("ReplayRaw stopped at %d (%v), Replay at %d", n4, err, next)
			}
			if a, b := dump(tr4), dump(tr); a != b {
				t.Fatalf("raw replay differs:\n%s\n---\n%s", a, b)
			}
			tr5 := namespace.New(fuzzDev, fuzzAU, fuzzMeta)
			if err := rl.ScanRaw(0, to, func(i uint64, raw []byte, err error) {
				if err != nil {
					tr5.Torn(i, err)
					return
				}
				tr5.ApplyRaw(i, raw, &dec)
			}); err != nil {
				t.Fatal(err)
			}
			if a, b := dump(tr5), dump(tr3); a != b {
				t.Fatalf("raw scan differs:\n%s\n---\n%s", a, b)
			}
		}
	})
}

// flat is a Media over plain memory that can be read in place (Viewer), as
// a device mapping can.
type flat []byte

func (f flat) ReadAt(p []byte, off uint64) error  { copy(p, f[off:]); return nil }
func (f flat) WriteAt(p []byte, off uint64) error { copy(f[off:], p); return nil }
func (f flat) LoadU64(off uint64) (uint64, error) { return binary.LittleEndian.Uint64(f[off:]), nil }
func (f flat) StoreU64(off uint64, v uint64) error {
	binary.LittleEndian.PutUint64(f[off:], v)
	return nil
}
func (f flat) Flush(off, n uint64)                       {}
func (f flat) Invalidate(off, n uint64)                  {}
func (f flat) View(off, n uint64, fn func([]byte)) error { fn(f[off : off+n]); return nil }

// flatLog copies what l's host sees into a flat Media, behind a Sub as the
// log of a mapped metadata region is.
func flatLog(t *testing.T, l *Log) *Log {
	b := make(flat, 64+l.Len())
	l.m.Invalidate(0, l.Len())
	if err := l.m.ReadAt(b[64:], 0); err != nil {
		t.Fatal(err)
	}
	return New(Sub(b, 64), l.Len())
}
