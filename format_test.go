package famfs

import (
	"errors"
	"os"
	"testing"

	"github.com/famfs-go/famfs/internal/omf"
)

// Format describes the format the codec writes: the figures programs print
// and size requests by.
func TestFormat(t *testing.T) {
	f := Format()
	if f.Major != 2 || f.Minor != 2 || f.SuperblockVersion != 48 || f.ReclaimVersion != 49 {
		t.Errorf("version %d.%d, superblock versions %d and %d", f.Major, f.Minor, f.SuperblockVersion, f.ReclaimVersion)
	}
	if f.AllocUnit != 2<<20 || f.SmallAllocUnit != 4096 || f.EntrySize != 544 || f.LogHeaderSize != 48 ||
		f.SuperblockSize != 200 || f.LogOffset != 2<<20 || f.DefaultLogLen != 8<<20 || f.MinDeviceSize != 4<<30 {
		t.Errorf("sizes %+v", f)
	}
	if f.MaxRelPath != 78 || f.MaxSymlinkTarget != 423 || f.MaxSimpleExtents != 16 || f.MaxInterleaved != 1 {
		t.Errorf("limits %+v", f)
	}
	if f.EntryOffset(3) != omf.EntryOffset(3) {
		t.Errorf("entry 3 at %d", f.EntryOffset(3))
	}
}

// A superblock and a log header decode from the bytes of a device, and
// damaged ones are refused.
func TestUnmarshalMeta(t *testing.T) {
	m, dev := newFS(t)
	if err := m.Mkdir("d", MkdirOptions{Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	sb := m.Superblock()
	raw := make([]byte, sb.MetaSize())
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.ReadAt(raw, 0)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var got Superblock
	if err := got.UnmarshalBinary(raw[:omf.SuperblockSize]); err != nil || got != sb {
		t.Fatalf("superblock %+v, %v; want %+v", got, err, sb)
	}
	log := raw[sb.LogOffset : sb.LogOffset+sb.LogLen]
	for _, b := range [][]byte{log, log[:omf.LogHeaderSize]} {
		var h LogInfo
		if err := h.UnmarshalBinary(b); err != nil || h.NextIndex != 1 || h.Len != sb.LogLen || h.Capacity != omf.EntriesFor(sb.LogLen) {
			t.Fatalf("log header of %d bytes: %+v, %v", len(b), h, err)
		}
	}
	var h LogInfo
	for _, n := range []uint64{sb.LogLen / 2, omf.LogHeaderSize + 1, sb.LogLen + 1} {
		b := make([]byte, n)
		copy(b, log)
		if err := h.UnmarshalBinary(b); !errors.Is(err, ErrLogDamaged) {
			t.Errorf("%d bytes of a %d-byte log: %v", n, sb.LogLen, err)
		}
	}
	short := omf.NewLogHeader(1000) // a length no log has
	var hb [omf.LogHeaderSize]byte
	short.Encode(hb[:])
	if err := h.UnmarshalBinary(hb[:]); !errors.Is(err, ErrLogDamaged) {
		t.Errorf("a header of a 1000-byte log: %v", err)
	}
	raw[8] ^= 1 // inside the superblock's CRC'd bytes
	got = Superblock{}
	if err := got.UnmarshalBinary(raw[:omf.SuperblockSize]); !errors.Is(err, ErrNoSuperblock) || got.UUID != sb.UUID {
		t.Errorf("a damaged superblock: %v, decoded as %+v", err, got)
	}
	log[0] ^= 1
	if err := h.UnmarshalBinary(log); !errors.Is(err, ErrLogDamaged) || h.Len != sb.LogLen {
		t.Errorf("damaged log header: %v, decoded as %+v", err, h)
	}
	if err := got.UnmarshalBinary(nil); !errors.Is(err, ErrNoSuperblock) {
		t.Errorf("no bytes decoded as a superblock: %v", err)
	}
	if err := h.UnmarshalBinary(hb[:10]); !errors.Is(err, ErrLogDamaged) {
		t.Errorf("10 bytes decoded as a log header: %v", err)
	}
}
