package namespace

import (
	"testing"

	"github.com/famfs-go/famfs/internal/omf"
)

func symlink(p, target string) *omf.Entry {
	return &omf.Entry{Type: omf.EntrySymlink, Path: p, Target: target, Mode: 0o777, UID: 7, GID: 8}
}

// A symbolic link is a node of its own kind holding its target; its name is
// taken like any other, it takes no space, and a delete of it must say it is
// one.
func TestSymlinkNodes(t *testing.T) {
	tr := reclaimTree(t,
		dir("d"),                      // 0
		file("d/f", meta, au),         // 1
		symlink("d/l", "f"),           // 2
		symlink("abs", "/etc/passwd"), // 3: just a string
		symlink("d/f", "elsewhere"),   // 4: the name is taken
		file("d/l", meta+au, au),      // 5: so is this one
		del("d/l", 2, false, 0),       // 6: not a file
		&omf.Entry{Type: omf.EntryDelete, Path: "d/l", Delete: omf.Delete{Target: 2, Symlink: true}}, // 7
		symlink("d/l", "again"), // 8: the name is free again
	)
	l := tr.Lookup("d/l")
	if l == nil || !l.IsSymlink() || l.Target() != "again" || l.Index() != 8 || l.Mode() != 0o777 || l.UID() != 7 {
		t.Fatalf("d/l: %+v", l)
	}
	if a := tr.Lookup("abs"); a == nil || a.Target() != "/etc/passwd" || a.Kind() != Symlink {
		t.Fatalf("abs: %v", a)
	}
	if f := tr.Lookup("d/f"); f == nil || f.Kind() != File || f.Target() != "" {
		t.Fatalf("d/f: %v", f)
	}
	kinds := map[uint64]ProblemKind{}
	for _, p := range tr.Problems() {
		kinds[p.Index] = p.Kind
	}
	if kinds[4] != Duplicate || kinds[5] != Duplicate || kinds[6] != BadDelete || len(kinds) != 3 {
		t.Fatalf("problems: %v", tr.Problems())
	}
	st := tr.Stats()
	if st.Symlinks != 2 || st.LinkEntries != 4 || st.Files != 1 || st.Deleted != 1 || len(tr.Pending()) != 0 {
		t.Errorf("stats %+v, pending %v", st, tr.Pending())
	}
	// d/f and the refused file d/l (whose space is marked all the same).
	if tr.Bitmap().UsedBytes() != meta+2*au {
		t.Errorf("links took space: %d bytes in use", tr.Bitmap().UsedBytes())
	}
}
