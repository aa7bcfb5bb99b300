package famfs

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// newReclaimFS makes a file system made for delete and opens it as the
// master; its participant locks live in a directory of the test's own.
func newReclaimFS(t *testing.T) (*FS, string) {
	t.Helper()
	t.Setenv("FAMFS_RUN_DIR", t.TempDir())
	dev := filepath.Join(t.TempDir(), "famfs.img")
	if _, err := Mkfs(dev, MkfsOptions{Size: 4 << 30, SystemUUID: masterID, Reclaim: true}); err != nil {
		t.Fatal(err)
	}
	return openAs(t, dev, masterID), dev
}

// fillBut fills the device with one file, leaving n allocation units free.
func fillBut(t *testing.T, f *FS, n uint64) {
	t.Helper()
	sp, err := f.Space()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Create("filler", CreateOptions{Size: sp.Free - n*(2<<20), Mode: 0o644, NoZero: true}); err != nil {
		t.Fatal(err)
	}
}

// A file deleted while another participant maps it keeps its space until
// that participant unmaps; then the master reuses it at once, with no
// heartbeat in between.
func TestRemoveReusesAfterUnmap(t *testing.T) {
	m, dev := newReclaimFS(t)
	fillBut(t, m, 1)
	if _, err := m.Create("a", CreateOptions{Size: 2 << 20, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	h := openAs(t, dev, clientID)
	fl, err := h.OpenFile("a")
	if err != nil {
		t.Fatal(err)
	}
	mp, err := fl.Map(MapOptions{Access: MapReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Remove([]string{"a"}, RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create("b", CreateOptions{Size: 2 << 20, Mode: 0o644}); !errors.Is(err, ErrNoSpace) ||
		!strings.Contains(err.Error(), "2097152 bytes more are freed by deletes but wait for participants") {
		t.Fatalf("create while a deleted file is mapped: %v, want ErrNoSpace naming the waiting space", err)
	}
	if sp, err := m.Space(); err != nil || sp.Waiting != 2<<20 || len(sp.Holders) != 1 {
		t.Fatalf("space while held: %+v, %v; want 2 MiB waiting for one holder", sp, err)
	}
	if err := mp.Unmap(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create("b", CreateOptions{Size: 2 << 20, Mode: 0o644}); err != nil {
		t.Fatalf("create right after the holder unmapped: %v", err)
	}
}
