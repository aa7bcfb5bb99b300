package namespace

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/famfs-go/famfs/internal/omf"
)

func del(p string, target uint64, dir bool, size uint64) *omf.Entry {
	return &omf.Entry{Type: omf.EntryDelete, Path: p, Delete: omf.Delete{Target: target, Dir: dir, Size: size}}
}

// reclaimTree applies entries through ApplyRaw (the replay path) on a tree
// made for delete.
func reclaimTree(tb testing.TB, entries ...*omf.Entry) *Tree {
	t := New(dev, au, meta)
	t.SetReclaim(true)
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

func TestDeleteFileFreesSpace(t *testing.T) {
	tr := reclaimTree(t,
		dir("d"),                   // 0
		file("d/a", meta, 3*au),    // 1
		file("d/b", meta+3*au, au), // 2
		del("d/a", 1, false, 3*au), // 3
		file("d/a", meta+5*au, au), // 4: the name again, elsewhere
		file("d/c", meta, 2*au),    // 5: a's old space, no collision
	)
	if p := tr.Problems(); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	n := tr.Lookup("d/a")
	if n == nil || n.Index() != 4 {
		t.Fatalf("d/a is %v, want the file of entry 4", n)
	}
	if tr.ByIno(InoBase+1) != nil {
		t.Error("the deleted node is still found by inode number")
	}
	if got := names(tr.Lookup("d")); got != "b,a,c" {
		t.Errorf("children %q", got)
	}
	ps := tr.Pending()
	if len(ps) != 1 || ps[0].Index != 3 || ps[0].Target != 1 || ps[0].Bytes != 3*au || ps[0].Path != "d/a" {
		t.Fatalf("pending %+v", ps)
	}
	st := tr.Stats()
	if st.Files != 3 || st.Deleted != 1 || st.DelEntries != 1 || st.Collisions != 0 {
		t.Errorf("stats %+v", st)
	}
	// units: meta..meta+2 (c), +3 (b), +5 (new a); unit meta+2au is free
	if tr.Bitmap().Test((meta + 2*au) / au) {
		t.Error("a unit of the deleted file that nothing reused is still marked")
	}
	if !tr.Bitmap().Test(meta/au) || !tr.Bitmap().Test((meta+5*au)/au) {
		t.Error("reused units not marked")
	}
}

func names(n *Node) string {
	s := ""
	for i, c := range n.Children() {
		if i > 0 {
			s += ","
		}
		s += c.Name()
	}
	return s
}

func TestDeleteProblems(t *testing.T) {
	tr := reclaimTree(t,
		dir("d"),                   // 0
		file("d/a", meta, au),      // 1
		del("d", 0, true, 0),       // 2: not empty
		del("d/a", 1, true, 0),     // 3: kind
		del("d/a", 1, false, 7),    // 4: size
		del("d/a", 0, false, au),   // 5: made by another entry
		del("d/x", 9, false, au),   // 6: no such path
		del("d/a", 1, false, au),   // 7: good
		del("d/a", 1, false, au),   // 8: double
		file("d/a", meta+au, au),   // 9
		del("d/a", 1, false, au),   // 10: double (the path is another file now)
		del("d/a", 9, false, au),   // 11: good
		del("d", 0, true, 0),       // 12: good: empty now
		file("d/z", meta+2*au, au), // 13: missing parent
		dir("d"),                   // 14
		file("d/z", meta+3*au, au), // 15: placed in the new d (13 marked its units anyway)
	)
	want := map[uint64]ProblemKind{2: NotEmpty, 3: BadDelete, 4: BadDelete, 5: UnknownDelete, 6: UnknownDelete, 8: DoubleDelete, 10: DoubleDelete, 13: MissingParent}
	got := map[uint64]ProblemKind{}
	for _, p := range tr.Problems() {
		got[p.Index] = p.Kind
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("problems %v\nwant %v\n%v", got, want, tr.Problems())
	}
	if n := tr.Lookup("d/z"); n == nil || n.Index() != 15 || n.Parent().Index() != 14 {
		t.Fatalf("d/z is %v", n)
	}
	if st := tr.Stats(); st.Refused != uint64(len(want)) || st.Deleted != 3 || st.Dirs != 1 || st.Files != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestDeleteWithoutReclaim(t *testing.T) {
	tr := build(file("a", meta, au), del("a", 0, false, au))
	if tr.Lookup("a") == nil {
		t.Fatal("a DELETE was applied on a file system made without delete")
	}
	if p := tr.Problems(); len(p) != 0 {
		t.Fatalf("problems %v (the reference ignores DELETE entries)", p)
	}
}

// Random creates and deletes in a few directories keep the index, the
// children lists and a plain map of the live names in agreement.
func TestDeleteRandomAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tr := New(dev, au, meta)
	tr.SetReclaim(true)
	type live struct {
		index uint64
		size  uint64
	}
	model := map[string]live{}
	i := uint64(0)
	for _, d := range []string{"x", "y", "z"} {
		tr.Apply(i, dir(d), nil)
		i++
	}
	for step := 0; step < 20000; step++ {
		p := fmt.Sprintf("%c/f%d", "xyz"[rng.IntN(3)], rng.IntN(300))
		if l, ok := model[p]; ok && rng.IntN(2) == 0 {
			tr.Apply(i, del(p, l.index, false, l.size), nil)
			delete(model, p)
		} else if !ok {
			tr.Apply(i, &omf.Entry{Type: omf.EntryFile, Size: 1, Path: p, Mode: 0o644}, nil) // a bad map: refused, no node
			tr.Apply(i+1, file(p, meta+(i%1000)*au, 1), nil)
			i++
			model[p] = live{index: i, size: 1}
		}
		i++
	}
	for p, l := range model {
		if n := tr.Lookup(p); n == nil || n.Index() != int64(l.index) {
			t.Fatalf("%s: got %v, want entry %d", p, n, l.index)
		}
	}
	count := 0
	for _, d := range tr.Root().Children() {
		kids := d.Children()
		if len(kids) != d.NumChildren() {
			t.Fatalf("%s: %d children listed, %d counted", d.Name(), len(kids), d.NumChildren())
		}
		for _, c := range kids {
			if _, ok := model[c.Path()]; !ok {
				t.Fatalf("%s listed but deleted", c.Path())
			}
			if _, del := c.Deleted(); del {
				t.Fatalf("%s listed and marked deleted", c.Path())
			}
		}
		count += len(kids)
	}
	if count != len(model) {
		t.Fatalf("%d listed, %d live", count, len(model))
	}
	for k := 0; k < 300; k++ {
		for _, d := range "xyz" {
			p := fmt.Sprintf("%c/f%d", d, k)
			if _, ok := model[p]; !ok && tr.Lookup(p) != nil {
				t.Fatalf("%s found after its delete", p)
			}
		}
	}
}
