package omf

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/google/uuid"
)

// The participant table of a file system made for delete (docs/delete.md,
// "The participant table"): a header and fixed slots in the superblock
// region, each slot four cache lines — the identity (lines 0 and 1), the
// progress (line 2) and a reserved line.
const (
	ParticipantTableOffset = 0x10000 // device offset of the table header
	ParticipantHeaderSize  = 256
	ParticipantSlots       = 512
	ParticipantSlotSize    = 256
	ParticipantMagic       = 0x3154504d4146 // "FAMPT1"
	ParticipantVersion     = 1

	// ParticipantTableSize is the table's bytes, header included.
	ParticipantTableSize = ParticipantHeaderSize + ParticipantSlots*ParticipantSlotSize

	// Within a slot: the identity's two lines and the progress line.
	SlotIdentityOffset = 0x00
	SlotIdentitySize   = 0x80
	SlotProgressOffset = 0x80
	SlotProgressSize   = 0x40
)

// SlotOffset is slot i's offset from the table header.
func SlotOffset(i int) uint64 { return ParticipantHeaderSize + uint64(i)*ParticipantSlotSize }

// SlotState is a slot's state.
type SlotState uint32

const (
	SlotFree     SlotState = 0
	SlotClaiming SlotState = 1
	SlotActive   SlotState = 2
	SlotEvicted  SlotState = 3
)

func (s SlotState) String() string {
	switch s {
	case SlotFree:
		return "free"
	case SlotClaiming:
		return "claiming"
	case SlotActive:
		return "active"
	case SlotEvicted:
		return "evicted"
	}
	return fmt.Sprintf("state(%d)", uint32(s))
}

// ParticipantKind is what a participant is.
type ParticipantKind uint32

const (
	KindDaemon  ParticipantKind = 1 // a mount's daemon
	KindLibrary ParticipantKind = 2 // a program using the library
)

func (k ParticipantKind) String() string {
	switch k {
	case KindDaemon:
		return "daemon"
	case KindLibrary:
		return "library"
	}
	return fmt.Sprintf("kind(%d)", uint32(k))
}

// SlotNameSize is the identity's name field.
const SlotNameSize = 40

// SlotIdentity is lines 0 and 1 of a slot.
type SlotIdentity struct {
	State      SlotState
	Kind       ParticipantKind
	Gen        uint64
	Nonce      uint64
	Registered uint64
	Host       uuid.UUID
	Boot       uuid.UUID
	PID        uint32
	LeaseMs    uint32
	ClaimedNs  uint64
	Name       string
}

// SlotProgress is line 2 of a slot.
type SlotProgress struct {
	Gen         uint64
	Replayed    uint64
	Released    uint64
	HeartbeatNs uint64
	Seq         uint64
	Holds       uint64
	HeldBytes   uint64
}

// identity field offsets
const (
	idState      = 0x00
	idKind       = 0x04
	idGen        = 0x08
	idNonce      = 0x10
	idRegistered = 0x18
	idHost       = 0x20
	idBoot       = 0x30
	idPID        = 0x40
	idLease      = 0x44
	idClaimed    = 0x48
	idName       = 0x50
	idCRC        = 0x7C

	pgGen       = 0x00 // relative to the progress line
	pgReplayed  = 0x08
	pgReleased  = 0x10
	pgHeartbeat = 0x18
	pgSeq       = 0x20
	pgHolds     = 0x28
	pgHeldBytes = 0x30
	pgCRC       = 0x38
)

// Encode writes the identity into b[0:SlotIdentitySize] with its CRC.
func (s *SlotIdentity) Encode(b []byte) {
	b = b[:SlotIdentitySize]
	clear(b)
	le := binary.LittleEndian
	le.PutUint32(b[idState:], uint32(s.State))
	le.PutUint32(b[idKind:], uint32(s.Kind))
	le.PutUint64(b[idGen:], s.Gen)
	le.PutUint64(b[idNonce:], s.Nonce)
	le.PutUint64(b[idRegistered:], s.Registered)
	copy(b[idHost:], s.Host[:])
	copy(b[idBoot:], s.Boot[:])
	le.PutUint32(b[idPID:], s.PID)
	le.PutUint32(b[idLease:], s.LeaseMs)
	le.PutUint64(b[idClaimed:], s.ClaimedNs)
	copy(b[idName:idName+SlotNameSize], s.Name)
	le.PutUint32(b[idCRC:], crc32.ChecksumIEEE(b[:idCRC]))
}

// DecodeSlotIdentity decodes and checks an identity: a CRC mismatch is a
// torn (or never written) identity and wraps ErrBadCRC; an unknown state or
// kind wraps ErrBadField. An all-zero identity is a free slot that was never
// used, not an error.
func DecodeSlotIdentity(b []byte) (SlotIdentity, error) {
	var s SlotIdentity
	if len(b) < SlotIdentitySize {
		return s, fieldErr(ErrShort, "participant slot", "", uint64(len(b)), "%d bytes, need %d", len(b), SlotIdentitySize)
	}
	le := binary.LittleEndian
	if allZero(b[:SlotIdentitySize]) {
		return s, nil
	}
	if stored, want := le.Uint32(b[idCRC:]), crc32.ChecksumIEEE(b[:idCRC]); stored != want {
		return s, fieldErr(ErrBadCRC, "participant slot", "id_crc", uint64(stored), "stored 0x%x, computed 0x%x", stored, want)
	}
	s.State = SlotState(le.Uint32(b[idState:]))
	s.Kind = ParticipantKind(le.Uint32(b[idKind:]))
	s.Gen = le.Uint64(b[idGen:])
	s.Nonce = le.Uint64(b[idNonce:])
	s.Registered = le.Uint64(b[idRegistered:])
	copy(s.Host[:], b[idHost:])
	copy(s.Boot[:], b[idBoot:])
	s.PID = le.Uint32(b[idPID:])
	s.LeaseMs = le.Uint32(b[idLease:])
	s.ClaimedNs = le.Uint64(b[idClaimed:])
	s.Name = cString(b[idName : idName+SlotNameSize])
	if s.State > SlotEvicted {
		return s, fieldErr(ErrBadField, "participant slot", "state", uint64(s.State), "state %d is not 0-3", uint32(s.State))
	}
	if (s.State == SlotClaiming || s.State == SlotActive) && s.Kind != KindDaemon && s.Kind != KindLibrary {
		return s, fieldErr(ErrBadField, "participant slot", "kind", uint64(s.Kind), "kind %d is neither 1 (daemon) nor 2 (library)", uint32(s.Kind))
	}
	return s, nil
}

// Encode writes the progress into b[0:SlotProgressSize] with its CRC.
func (p *SlotProgress) Encode(b []byte) {
	b = b[:SlotProgressSize]
	clear(b)
	le := binary.LittleEndian
	le.PutUint64(b[pgGen:], p.Gen)
	le.PutUint64(b[pgReplayed:], p.Replayed)
	le.PutUint64(b[pgReleased:], p.Released)
	le.PutUint64(b[pgHeartbeat:], p.HeartbeatNs)
	le.PutUint64(b[pgSeq:], p.Seq)
	le.PutUint64(b[pgHolds:], p.Holds)
	le.PutUint64(b[pgHeldBytes:], p.HeldBytes)
	le.PutUint32(b[pgCRC:], crc32.ChecksumIEEE(b[:pgCRC]))
}

// DecodeSlotProgress decodes and checks a progress line (ErrBadCRC when torn
// or never written). A progress whose released passes its replayed is
// malformed (ErrBadField): nothing may be released that was not looked at.
func DecodeSlotProgress(b []byte) (SlotProgress, error) {
	var p SlotProgress
	if len(b) < SlotProgressSize {
		return p, fieldErr(ErrShort, "participant progress", "", uint64(len(b)), "%d bytes, need %d", len(b), SlotProgressSize)
	}
	le := binary.LittleEndian
	if stored, want := le.Uint32(b[pgCRC:]), crc32.ChecksumIEEE(b[:pgCRC]); stored != want {
		return p, fieldErr(ErrBadCRC, "participant progress", "p_crc", uint64(stored), "stored 0x%x, computed 0x%x", stored, want)
	}
	p.Gen = le.Uint64(b[pgGen:])
	p.Replayed = le.Uint64(b[pgReplayed:])
	p.Released = le.Uint64(b[pgReleased:])
	p.HeartbeatNs = le.Uint64(b[pgHeartbeat:])
	p.Seq = le.Uint64(b[pgSeq:])
	p.Holds = le.Uint64(b[pgHolds:])
	p.HeldBytes = le.Uint64(b[pgHeldBytes:])
	return p, nil
}

// header field offsets
const (
	thMagic    = 0x00
	thVersion  = 0x08
	thSlots    = 0x0C
	thSlotSize = 0x10
	thCRC      = 0x14
)

// EncodeParticipantHeader writes the table header into b[0:ParticipantHeaderSize].
func EncodeParticipantHeader(b []byte) {
	b = b[:ParticipantHeaderSize]
	clear(b)
	le := binary.LittleEndian
	le.PutUint64(b[thMagic:], ParticipantMagic)
	le.PutUint32(b[thVersion:], ParticipantVersion)
	le.PutUint32(b[thSlots:], ParticipantSlots)
	le.PutUint32(b[thSlotSize:], ParticipantSlotSize)
	le.PutUint32(b[thCRC:], crc32.ChecksumIEEE(b[:thCRC]))
}

// CheckParticipantHeader validates a table header: magic, version, the
// slot count and size this implementation lays out, and the CRC.
func CheckParticipantHeader(b []byte) error {
	const st = "participant table"
	if len(b) < thCRC+4 {
		return fieldErr(ErrShort, st, "", uint64(len(b)), "%d bytes, need %d", len(b), thCRC+4)
	}
	le := binary.LittleEndian
	if m := le.Uint64(b[thMagic:]); m != ParticipantMagic {
		return fieldErr(ErrBadMagic, st, "magic", m, "0x%x is not the participant table's 0x%x (mkfs.famfs --reclaim writes one)", m, uint64(ParticipantMagic))
	}
	if v := le.Uint32(b[thVersion:]); v != ParticipantVersion {
		return fieldErr(ErrWrongVersion, st, "version", uint64(v), "version %d, this implementation reads %d", v, ParticipantVersion)
	}
	if n := le.Uint32(b[thSlots:]); n != ParticipantSlots {
		return fieldErr(ErrBadField, st, "nslots", uint64(n), "%d slots, the layout has %d", n, ParticipantSlots)
	}
	if n := le.Uint32(b[thSlotSize:]); n != ParticipantSlotSize {
		return fieldErr(ErrBadField, st, "slot_size", uint64(n), "%d-byte slots, the layout has %d", n, ParticipantSlotSize)
	}
	if stored, want := le.Uint32(b[thCRC:]), crc32.ChecksumIEEE(b[:thCRC]); stored != want {
		return fieldErr(ErrBadCRC, st, "crc", uint64(stored), "stored 0x%x, computed 0x%x", stored, want)
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
