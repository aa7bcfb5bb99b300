package namespace

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

const (
	au   = omf.AllocUnit
	dev  = 4 << 30
	meta = omf.LogOffset + omf.DefaultLogLen
)

func dir(p string) *omf.Entry { return &omf.Entry{Type: omf.EntryMkdir, Mode: 0o755, Path: p} }

func file(p string, off, size uint64) *omf.Entry {
	return &omf.Entry{Type: omf.EntryFile, Size: size, Flags: 2, Mode: 0o644, Path: p,
		FMap: omf.FMap{Type: omf.ExtSimple, Extents: []omf.Extent{{Offset: off, Len: (size + au - 1) / au * au}}}}
}

func twoExtents(p string, off, len2 uint64) *omf.Entry {
	e := file(p, off, au+len2)
	e.FMap.Extents = []omf.Extent{{Offset: off, Len: au}, {Offset: omf.LogOffset, Len: len2}}
	return e
}

func striped(p string, off, size uint64) *omf.Entry {
	return &omf.Entry{Type: omf.EntryFile, Size: size, Flags: 2, Mode: 0o644, Path: p,
		FMap: omf.FMap{Type: omf.ExtInterleave, Interleaved: []omf.Interleave{{ChunkSize: au,
			Strips: []omf.Extent{{Offset: off, Len: size / 2}, {Offset: omf.LogOffset, Len: size / 2}}}}}}
}

func build(entries ...*omf.Entry) *Tree {
	t := New(dev, au, meta)
	for i, e := range entries {
		t.Apply(uint64(i), e, nil)
	}
	return t
}

// buildRaw is build through ApplyRaw, from the entries' images.
func buildRaw(tb testing.TB, entries ...*omf.Entry) *Tree {
	t := New(dev, au, meta)
	var dec omf.EntryDecoder
	b := make([]byte, omf.EntrySize)
	for i, e := range entries {
		e := *e
		e.Seqnum = uint64(i)
		if err := e.Encode(b); err != nil {
			tb.Fatal(err)
		}
		t.ApplyRaw(uint64(i), b, &dec)
	}
	return t
}

func kinds(t *Tree) []ProblemKind {
	var out []ProblemKind
	for _, p := range t.Problems() {
		out = append(out, p.Kind)
	}
	return out
}

func TestTreeBuildsAndLooksUp(t *testing.T) {
	tr := build(dir("a"), dir("a/b"), file("a/b/f", 5*au, 100), file("g", 6*au, 3*au))
	if len(tr.Problems()) != 0 {
		t.Fatal(tr.Problems())
	}
	f := tr.Lookup("a/b/f")
	if f == nil || f.Kind() != File || f.Size() != 100 || f.Ino() != InoBase+2 || f.Path() != "a/b/f" || f.Parent().Name() != "b" {
		t.Fatalf("%+v", f)
	}
	if tr.Lookup("") != tr.Root() || tr.Lookup("a/x") != nil || tr.Lookup("a/b/f/x") != nil {
		t.Fatal("lookup")
	}
	st := tr.Stats()
	if st.Files != 2 || st.Dirs != 2 || st.SumSizes != 100+3*au || st.Collisions != 0 {
		t.Fatalf("%+v", st)
	}
	if got := tr.Bitmap().UsedBytes(); got != meta+au+3*au {
		t.Fatalf("allocated %d", got)
	}
	if c := tr.Root().Children(); len(c) != 2 || c[0].Name() != "a" || c[1].Name() != "g" {
		t.Fatal("children not in log order")
	}
}

func TestTreeReportsInsteadOfMisplacing(t *testing.T) {
	cases := []struct {
		name    string
		entries []*omf.Entry
		want    ProblemKind
		path    string // must not exist afterwards
	}{
		{"missing parent", []*omf.Entry{file("nodir/f", 5*au, 1)}, MissingParent, "nodir"},
		{"file as parent", []*omf.Entry{file("f", 5*au, 1), file("f/g", 6*au, 1)}, NotDir, "f/g"},
		{"duplicate file", []*omf.Entry{file("f", 5*au, 1), file("f", 6*au, 2)}, Duplicate, ""},
		{"file over dir", []*omf.Entry{dir("d"), file("d", 6*au, 2)}, Duplicate, ""},
		{"dir over file", []*omf.Entry{file("d", 6*au, 2), dir("d")}, Duplicate, ""},
		{"cross-link", []*omf.Entry{file("f", 5*au, 1), file("g", 5*au, 1)}, Collision, ""},
		{"inside the log", []*omf.Entry{file("f", 4*au, 1)}, BadMap, "f"},
		{"at the log's start", []*omf.Entry{file("f", omf.LogOffset, au)}, BadMap, "f"},
		{"straddles the log's end", []*omf.Entry{file("f", meta-au, 2*au)}, BadMap, "f"},
		{"one extent of two in the log", []*omf.Entry{twoExtents("f", 6*au, au)}, BadMap, "f"},
		{"a strip in the log", []*omf.Entry{striped("f", 6*au, 2*au)}, BadMap, "f"},
		{"offset 0", []*omf.Entry{file("f", 0, 1)}, BadMap, "f"},
		{"dir .meta at the root", []*omf.Entry{dir(".meta")}, Reserved, ".meta"},
		{"file .meta at the root", []*omf.Entry{file(".meta", 5*au, 1)}, Reserved, ".meta"},
		{"past the end", []*omf.Entry{file("f", dev, 1)}, BadMap, "f"},
		{"unaligned", []*omf.Entry{file("f", 5*au+4096, 1)}, BadMap, "f"},
	}
	for _, c := range cases {
		for _, tr := range []*Tree{build(c.entries...), buildRaw(t, c.entries...)} {
			ps := tr.Problems()
			if len(ps) == 0 || ps[len(ps)-1].Kind != c.want && ps[0].Kind != c.want {
				t.Errorf("%s: problems %v", c.name, ps)
			}
			if c.path != "" && tr.Lookup(c.path) != nil {
				t.Errorf("%s: %q was placed", c.name, c.path)
			}
			// Every entry but a cross-linked one is refused, once.
			want := uint64(1)
			if c.want == Collision {
				want = 0
			}
			if st := tr.Stats(); st.Refused != want || st.Files+st.Dirs+st.Refused != uint64(len(c.entries)) {
				t.Errorf("%s: %+v", c.name, st)
			}
		}
	}
	// .meta is reserved at the root only, and the refusal says why.
	tr0 := build(dir(".meta"), dir("d"), dir("d/.meta"), file("d/.meta/f", 5*au, 1))
	if ps := tr0.Problems(); len(ps) != 1 || !strings.Contains(ps[0].String(), "metadata directory") || tr0.Lookup("d/.meta/f") == nil {
		t.Fatalf("%v", ps)
	}
	// The extent refused in the log says where the log ends.
	if ps := build(file("f", 4*au, 1)).Problems(); len(ps) != 2 || ps[0].Kind != Collision || !strings.Contains(ps[1].Reason, "overlaps the superblock and log") {
		t.Fatalf("%v", ps)
	}
	// The first entry wins a duplicate.
	tr := build(file("f", 5*au, 1), file("f", 6*au, 2))
	if f := tr.Lookup("f"); f.Size() != 1 {
		t.Fatalf("later duplicate replaced the first: %+v", f)
	}
	// A rejected file's space stays allocated.
	if !tr.Bitmap().Test(6) {
		t.Fatal("space of a rejected duplicate was left free")
	}
	// A file too big for its map is rejected.
	e := file("big", 5*au, 1)
	e.Size = 2 * au
	if tr := build(e); tr.Lookup("big") != nil || kinds(tr)[0] != BadMap {
		t.Fatal("file larger than its map accepted")
	}
}

func TestMalformedAndIgnoredTypes(t *testing.T) {
	tr := New(dev, au, meta)
	tr.Apply(0, &omf.Entry{Type: omf.EntryDelete}, nil)
	tr.Apply(1, &omf.Entry{Type: omf.EntryInvalid}, nil)
	tr.Apply(2, &omf.Entry{Type: 7}, errors.New("unknown entry type 7"))
	tr.Torn(3, errors.New("CRC mismatch"))
	if k := kinds(tr); len(k) != 2 || k[0] != Malformed || k[1] != Torn {
		t.Fatalf("%v", tr.Problems())
	}
	if st := tr.Stats(); st.Entries != 4 || st.Torn != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestDaxdevTable(t *testing.T) {
	u1, u2 := uuid.New(), uuid.New()
	add := func(idx uint32, u uuid.UUID) *omf.Entry {
		return &omf.Entry{Type: omf.EntryAddDaxdev, Daxdev: omf.Daxdev{Size: 8 << 30, UUID: u, Index: idx}}
	}
	tr := build(add(1, u1), add(3, u2), add(2, u1), add(2, u2))
	if k := kinds(tr); len(k) != 2 || k[0] != BadDaxdev || k[1] != BadDaxdev {
		t.Fatalf("%v", tr.Problems())
	}
	if d := tr.Daxdevs(); len(d) != 3 || d[1].UUID != u1 || d[2].UUID != u2 {
		t.Fatalf("%+v", d)
	}
}

func TestPrintableQuotesControlCharacters(t *testing.T) {
	if got := Printable("dir/file name.bin"); got != "dir/file name.bin" {
		t.Fatal(got)
	}
	if got := Printable("evil\x1b[2J"); got != `"evil\x1b[2J"` {
		t.Fatal(got)
	}
	if got := Printable("bad\xffutf8"); got != `"bad\xffutf8"` {
		t.Fatal(got)
	}
	p := Problem{Index: 3, Kind: Duplicate, Path: "x\ny", Reason: "r"}
	if s := p.String(); s != `log entry 3 ("x\ny"): duplicate path: r` {
		t.Fatal(s)
	}
}

// Large directories switch from a linear scan to a hash index and grow it;
// every child stays findable, in log order, and duplicates are still caught
// at every size.
func TestLargeDirectoryIndex(t *testing.T) {
	var es []*omf.Entry
	es = append(es, dir("d"))
	const n = 1000
	for i := range n {
		es = append(es, file(fmt.Sprintf("d/f%d", i), uint64(5+i)*au, 1))
		if i%97 == 0 { // a duplicate of an earlier name, at many sizes
			es = append(es, file(fmt.Sprintf("d/f%d", i/2), uint64(5+n+i)*au, 2))
		}
	}
	tr := build(es...)
	dups := 0
	for _, p := range tr.Problems() {
		if p.Kind != Duplicate {
			t.Fatalf("unexpected problem %v", p)
		}
		dups++
	}
	if dups != (n+96)/97 {
		t.Fatalf("%d duplicates reported", dups)
	}
	d := tr.Lookup("d")
	kids := d.Children()
	if len(kids) != n {
		t.Fatalf("%d children", len(kids))
	}
	for i, k := range kids {
		name := fmt.Sprintf("f%d", i)
		if k.Name() != name || tr.Child(d, name) != k || tr.Lookup("d/"+name) != k || k.Size() != 1 {
			t.Fatalf("child %d: %+v", i, k)
		}
	}
	for _, missing := range []string{"f", "f1000", "g1", ""} {
		if tr.Child(d, missing) != nil {
			t.Fatalf("found %q", missing)
		}
	}
}

// Apply remembers the last directory it resolved; a failed lookup is not
// remembered, and other directories still resolve.
func TestParentCache(t *testing.T) {
	tr := build(dir("a"), file("a/b/f", 5*au, 1), dir("a/b"), file("a/b/f", 6*au, 1),
		file("a/g", 7*au, 1), file("a/b/h", 8*au, 1), file("a/b", 9*au, 1), file("a/b/h/x", 10*au, 1))
	if k := kinds(tr); len(k) != 3 || k[0] != MissingParent || k[1] != Duplicate || k[2] != NotDir {
		t.Fatalf("%v", tr.Problems())
	}
	for _, p := range []string{"a/b/f", "a/g", "a/b/h"} {
		if tr.Lookup(p) == nil {
			t.Fatalf("%s missing", p)
		}
	}
}

// The same names in many directories resolve to their own directory's entry,
// whatever Grow was told (nothing, too little, far too much), including
// while the index grows.
func TestSameNamesInManyDirs(t *testing.T) {
	const dirs, per = 40, 50
	for _, hint := range []int{-1, 10, dirs * (per + 1), 1 << 30} {
		tr := New(dev, au, meta)
		if hint >= 0 {
			tr.Grow(hint)
		}
		i, off := uint64(0), uint64(5*au)
		for d := range dirs {
			tr.Apply(i, dir(fmt.Sprintf("d%d", d)), nil)
			i++
			for f := range per {
				tr.Apply(i, file(fmt.Sprintf("d%d/f%d", d, f), off, 1), nil)
				i, off = i+1, off+au
			}
		}
		if len(tr.Problems()) != 0 {
			t.Fatalf("hint %d: %v", hint, tr.Problems()[0])
		}
		for d := range dirs {
			dn := tr.Lookup(fmt.Sprintf("d%d", d))
			kids := dn.Children()
			if len(kids) != per || dn.NumChildren() != per {
				t.Fatalf("hint %d: d%d has %d children", hint, d, len(kids))
			}
			for f, k := range kids {
				name := fmt.Sprintf("f%d", f)
				if k.Name() != name || k.Parent() != dn || tr.Child(dn, name) != k {
					t.Fatalf("hint %d: d%d/%s: got %q under %q", hint, d, name, k.Name(), k.Parent().Name())
				}
			}
			if tr.Child(dn, fmt.Sprintf("f%d", per)) != nil || tr.Child(dn, fmt.Sprintf("d%d", d)) != nil {
				t.Fatalf("hint %d: d%d finds a name it does not hold", hint, d)
			}
		}
		// a name taken in another directory is still free here
		tr.Apply(i, file(fmt.Sprintf("d%d", 0)+"/f0", off, 1), nil)
		if k := tr.Problems(); len(k) != 1 || k[0].Kind != Duplicate {
			t.Fatalf("hint %d: duplicate not reported: %v", hint, k)
		}
	}
}
