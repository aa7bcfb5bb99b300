package famfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"testing"

	"github.com/famfs-go/famfs/internal/omf"
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

// fsck of a file system made for delete shows the waiting space and its
// holder, and finds torn slots, a damaged table header and space reused
// while a participant could still reach it.
func TestFsckParticipantTable(t *testing.T) {
	m, dev := newReclaimFS(t)
	a, err := m.Create("a", CreateOptions{Size: 2 << 20, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	h := openAs(t, dev, clientID)
	fl, err := h.OpenFile("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fl.Map(MapOptions{Access: MapReadOnly}); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove([]string{"a"}, RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	r, err := Fsck(dev, FsckOptions{SystemUUID: masterID})
	if err != nil {
		t.Fatal(err)
	}
	rc := r.Reclaim
	if !r.Clean() || rc == nil || rc.Waiting != 2<<20 || len(rc.Deletes) != 1 || rc.Deletes[0].Path != "a" ||
		len(rc.Participants) != 1 || !rc.Participants[0].Blocking {
		t.Fatalf("held delete: clean %v, %+v", r.Clean(), rc)
	}

	// A later file on a's extent while the holder still holds it.
	ext := a.fmap
	m.mu.Lock()
	err = m.appendLocked([]omf.Entry{{Type: omf.EntryFile, Size: 2 << 20, Flags: omf.FileFlagsAllHostsRW, Mode: 0o644, Path: "b", FMap: ext}}, nil)
	m.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	r, _ = Fsck(dev, FsckOptions{SystemUUID: masterID})
	if r.Clean() || !hasProblem(r.Reclaim.Problems, "space of a (deleted by log entry 1) is reused by a later file") {
		t.Fatalf("reused while held: %+v", r.Reclaim.Problems)
	}

	// A torn slot.
	slot := rc.Participants[0].Slot
	junk := []byte("not a slot identity, just bytes....")
	if err := m.part.mem.WriteAt(junk, omf.ParticipantTableOffset+omf.SlotOffset(slot)+8); err != nil {
		t.Fatal(err)
	}
	m.part.mem.Flush(0, omf.SuperblockRegion)
	r, _ = Fsck(dev, FsckOptions{SystemUUID: masterID})
	if !hasProblem(r.Reclaim.Problems, fmt.Sprintf("slot %d is torn", slot)) {
		t.Fatalf("torn slot: %+v", r.Reclaim.Problems)
	}

	// A damaged header.
	if err := m.part.mem.WriteAt([]byte("XXXX"), omf.ParticipantTableOffset); err != nil {
		t.Fatal(err)
	}
	m.part.mem.Flush(0, omf.SuperblockRegion)
	r, _ = Fsck(dev, FsckOptions{SystemUUID: masterID})
	if r.Clean() || !strings.Contains(r.Reclaim.TableErr, "participant table at device offset 0x10000") {
		t.Fatalf("damaged header: %q", r.Reclaim.TableErr)
	}
}

func hasProblem(ps []string, want string) bool {
	for _, p := range ps {
		if strings.Contains(p, want) {
			return true
		}
	}
	return false
}
