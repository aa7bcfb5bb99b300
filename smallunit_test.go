package famfs

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/famfs-go/famfs/internal/omf"
)

// A file system made with a 4 KiB allocation unit (mkfs --4k) records 0x1000
// in ts_alloc_unit, allocates files in 4 KiB steps, stripes them in chunks of
// any multiple of 4 KiB, and maps, reads and checks them like any other.
func TestSmallAllocUnit(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "famfs.img")
	if _, err := Mkfs(dev, MkfsOptions{Size: 4 << 30, SystemUUID: masterID, AllocUnit: 4096}); err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, omf.SuperblockSize)
	if fd, err := os.Open(dev); err != nil {
		t.Fatal(err)
	} else {
		fd.ReadAt(raw, 0)
		fd.Close()
	}
	if au := binary.LittleEndian.Uint64(raw[0x20:]); au != 0x1000 {
		t.Fatalf("ts_alloc_unit 0x%x, want 0x1000", au)
	}
	if _, err := omf.ParseSuperblock(raw); err != nil {
		t.Fatalf("the reference's superblock checks refuse it: %v", err)
	}
	m := openAs(t, dev, masterID)
	if m.Superblock().AllocUnit != 4096 {
		t.Fatalf("superblock says %d", m.Superblock().AllocUnit)
	}
	a, err := m.Create("a", CreateOptions{Size: 5000, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Create("b", CreateOptions{Size: 1, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	ea, eb := a.fmap.Extents, b.fmap.Extents
	if len(ea) != 1 || ea[0].Len != 8192 || ea[0].Offset%4096 != 0 || len(eb) != 1 || eb[0].Len != 4096 || eb[0].Offset != ea[0].Offset+8192 {
		t.Fatalf("extents a %+v, b %+v: want 8 KiB then 4 KiB right after", ea, eb)
	}
	st, err := m.Create("striped", CreateOptions{Size: 1 << 20, Mode: 0o644,
		Interleave: Interleave{NBuckets: 4, NStrips: 4, ChunkSize: 64 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create("bad", CreateOptions{Size: 1 << 20, Interleave: Interleave{NBuckets: 4, NStrips: 4, ChunkSize: 2048}}); err == nil {
		t.Error("a chunk smaller than the unit was accepted")
	}
	want := bytes.Repeat([]byte("famfs4k!"), (1<<20)/8)
	for _, fl := range []*File{a, st} {
		mp, err := fl.Map(MapOptions{Access: MapReadWrite})
		if err != nil {
			t.Fatalf("map %s: %v", fl.Path(), err)
		}
		copy(mp.Bytes(), want)
		mp.Flush()
		mp.Unmap()
	}
	c := openAs(t, dev, clientID)
	for _, p := range []string{"a", "striped"} {
		fl, err := c.OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, fl.Size())
		if _, err := fl.ReadAt(got, 0); err != nil || !bytes.Equal(got, want[:len(got)]) {
			t.Errorf("%s read back on the client: %v", p, err)
		}
		mp, err := fl.Map(MapOptions{Access: MapReadOnly})
		if err != nil || !bytes.Equal(mp.Bytes(), want[:fl.Size()]) {
			t.Errorf("%s mapped on the client: %v", p, err)
		}
		if mp != nil {
			mp.Unmap()
		}
	}
	if r := c.fsck(); !r.Clean() || r.Superblock.AllocUnit != 4096 {
		t.Errorf("fsck: %+v", r.Problems)
	}
	// Replay on a 4 KiB file system refuses a map that is not 4 KiB-granular.
	bad := omf.FMap{Type: omf.ExtSimple, Extents: []omf.Extent{{Offset: ea[0].Offset + 512, Len: 4096}}}
	if err := bad.Validate(4096, 4<<30, 4096); err == nil {
		t.Error("an extent off the 4 KiB grid was accepted")
	}
}

func TestMkfsAllocUnitChoices(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "famfs.img")
	if _, err := Mkfs(dev, MkfsOptions{Size: 4 << 30, SystemUUID: masterID, AllocUnit: 8192}); err == nil {
		t.Fatal("an 8 KiB unit was accepted")
	}
	if _, err := os.Stat(dev); !os.IsNotExist(err) {
		t.Errorf("a refused mkfs left the device file: %v", err)
	}
}
