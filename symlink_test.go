package famfs

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// The master logs a symbolic link; a client replays it; it is not a file,
// takes no space, and (on a file system made for delete) can be removed.
func TestSymlink(t *testing.T) {
	m, dev := newReclaimFS(t)
	if err := m.Mkdir("d", MkdirOptions{Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create("d/f", CreateOptions{Size: 4096, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	before := m.Stats()
	if err := m.Symlink("f", "d/l", SymlinkOptions{UID: 5, GID: 6}); err != nil {
		t.Fatal(err)
	}
	if err := m.Symlink("/outside/anything", "abs", SymlinkOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ target, path string }{
		{"", "empty"}, {strings.Repeat("x", 424), "long"}, {"x", "d/l"}, {"x", "nodir/l"}, {"x", ".meta"},
	} {
		if err := m.Symlink(bad.target, bad.path, SymlinkOptions{}); err == nil {
			t.Errorf("symlink %q at %q accepted", bad.target, bad.path)
		}
	}
	c := openAs(t, dev, clientID)
	in, err := c.Stat("d/l")
	if err != nil {
		t.Fatal(err)
	}
	if in.Mode&fs.ModeSymlink == 0 || in.Mode.Perm() != 0o777 || in.Target != "f" || in.Size != 1 || in.UID != 5 || in.GID != 6 {
		t.Fatalf("client stat of the link: %+v", in)
	}
	if _, err := c.OpenFile("d/l"); !errors.Is(err, fs.ErrInvalid) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("open of a link: %v", err)
	}
	if _, err := m.Create("d/l/x", CreateOptions{Size: 1}); !errors.Is(err, ErrNotDir) {
		t.Errorf("create under a link: %v", err)
	}
	cs := c.Stats().Counts
	if cs.Symlinks != 2 || cs.LinkEntries != 2 || cs.Files != before.Counts.Files {
		t.Errorf("counts %+v", cs)
	}
	if m.Stats().Used != before.Used {
		t.Errorf("links took space")
	}
	var walked []string
	c.Walk("", func(i Info) error { walked = append(walked, i.Path); return nil })
	if strings.Join(walked, ",") != ",d,d/f,d/l,abs" {
		t.Errorf("walk %v", walked)
	}
	if err := m.Remove([]string{"d/l"}, RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove([]string{"d"}, RemoveOptions{Recursive: true}); err != nil {
		t.Fatal(err)
	}
	c.Refresh()
	if _, err := c.Stat("d/l"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("removed link: %v", err)
	}
	if r := c.fsck(); !r.Clean() || r.Symlinks != 1 {
		t.Errorf("fsck: clean %v, %d links, problems %v", r.Clean(), r.Symlinks, r.Problems)
	}
}
