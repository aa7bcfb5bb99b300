package omf

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/google/uuid"
)

// The slot's bytes at the offsets docs/delete.md gives.
func TestSlotBytes(t *testing.T) {
	id := SlotIdentity{State: SlotActive, Kind: KindLibrary, Gen: 7, Nonce: 0x1122, Registered: 42,
		Host: uuid.UUID{1}, Boot: uuid.UUID{2}, PID: 99, LeaseMs: 5000, ClaimedNs: 123, Name: "prog"}
	var b [SlotIdentitySize]byte
	id.Encode(b[:])
	le := binary.LittleEndian
	for _, c := range []struct {
		off  int
		got  uint64
		want uint64
	}{
		{0x00, uint64(le.Uint32(b[0x00:])), 2}, {0x04, uint64(le.Uint32(b[0x04:])), 2},
		{0x08, le.Uint64(b[0x08:]), 7}, {0x10, le.Uint64(b[0x10:]), 0x1122}, {0x18, le.Uint64(b[0x18:]), 42},
		{0x20, uint64(b[0x20]), 1}, {0x30, uint64(b[0x30]), 2}, {0x40, uint64(le.Uint32(b[0x40:])), 99},
		{0x44, uint64(le.Uint32(b[0x44:])), 5000}, {0x48, le.Uint64(b[0x48:]), 123},
		{0x7C, uint64(le.Uint32(b[0x7C:])), uint64(crc32.ChecksumIEEE(b[:0x7C]))},
	} {
		if c.got != c.want {
			t.Errorf("identity byte 0x%x: %d, want %d", c.off, c.got, c.want)
		}
	}
	if string(b[0x50:0x54]) != "prog" || b[0x54] != 0 {
		t.Errorf("name %q", b[0x50:0x58])
	}
	got, err := DecodeSlotIdentity(b[:])
	if err != nil || got != id {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	b[0x10] ^= 1
	if _, err := DecodeSlotIdentity(b[:]); !errors.Is(err, ErrBadCRC) {
		t.Errorf("a torn identity decoded: %v", err)
	}
	pg := SlotProgress{Gen: 7, Replayed: 50, Released: 40, HeartbeatNs: 9, Seq: 3, Holds: 1, HeldBytes: 2 << 20}
	var p [SlotProgressSize]byte
	pg.Encode(p[:])
	if le.Uint64(p[0x10:]) != 40 || le.Uint32(p[0x38:]) != crc32.ChecksumIEEE(p[:0x38]) {
		t.Errorf("progress bytes % x", p)
	}
	if got, err := DecodeSlotProgress(p[:]); err != nil || got != pg {
		t.Fatalf("progress decoded %+v, %v", got, err)
	}
	var h [ParticipantHeaderSize]byte
	EncodeParticipantHeader(h[:])
	if string(h[:6]) != "FAMPT1" || le.Uint32(h[0x0C:]) != 512 || le.Uint32(h[0x10:]) != 256 {
		t.Errorf("header % x", h[:0x18])
	}
	if err := CheckParticipantHeader(h[:]); err != nil {
		t.Fatal(err)
	}
	h[0x0C] = 1
	if err := CheckParticipantHeader(h[:]); err == nil {
		t.Error("a header with another slot count passed")
	}
	if SlotOffset(3) != 0x100+3*0x100 || ParticipantTableOffset+ParticipantTableSize != 0x30100 {
		t.Error("table layout")
	}
}

func FuzzParticipantSlot(f *testing.F) {
	var b [ParticipantSlotSize]byte
	id := SlotIdentity{State: SlotActive, Kind: KindDaemon, Gen: 1, Nonce: 3, Name: "x"}
	id.Encode(b[:])
	(&SlotProgress{Gen: 1, Replayed: 5, Released: 4}).Encode(b[SlotProgressOffset:])
	f.Add(b[:])
	f.Add(make([]byte, 10))
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, err := DecodeSlotIdentity(raw)
		if err == nil && len(raw) >= SlotIdentitySize {
			var again [SlotIdentitySize]byte
			id.Encode(again[:])
			if id.State != SlotFree || id.Gen != 0 || id.Nonce != 0 {
				back, err := DecodeSlotIdentity(again[:])
				if err != nil || back != id {
					t.Fatalf("identity round trip: %+v %v", back, err)
				}
			}
		}
		if len(raw) >= SlotProgressOffset {
			if pg, err := DecodeSlotProgress(raw[SlotProgressOffset:]); err == nil {
				var again [SlotProgressSize]byte
				pg.Encode(again[:])
				if back, err := DecodeSlotProgress(again[:]); err != nil || back != pg {
					t.Fatalf("progress round trip: %+v %v", back, err)
				}
			}
		}
		CheckParticipantHeader(raw)
	})
}
