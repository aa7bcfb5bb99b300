package omf

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/google/uuid"
)

// Superblock is the decoded famfs superblock (docs/format.md, "Superblock").
type Superblock struct {
	Magic      uint64
	Version    uint64
	LogOffset  uint64
	LogLen     uint64
	AllocUnit  uint64
	OMFMajor   uint32
	OMFMinor   uint32
	UUID       uuid.UUID // file system id
	DevUUID    uuid.UUID // device id
	SystemUUID uuid.UUID // the master host
	CRC        uint64
	Flags      uint32    // ts_sb_flags: outside the CRC, written as zero
	DevSize    uint64    // ts_daxdev.dd_size
	DaxdevUUID uuid.UUID // ts_daxdev.dd_uuid: unused, written as zero
	DevPath    string    // ts_daxdev.dd_daxdev as typed on the mkfs command line
}

// superblock field offsets
const (
	sbMagic      = 0x00
	sbVersion    = 0x08
	sbLogOffset  = 0x10
	sbLogLen     = 0x18
	sbAllocUnit  = 0x20
	sbOMFMajor   = 0x28
	sbOMFMinor   = 0x2C
	sbUUID       = 0x30
	sbDevUUID    = 0x40
	sbSystemUUID = 0x50
	sbCRC        = 0x60
	sbFlags      = 0x68
	sbDevSize    = 0x70
	sbDaxdevUUID = 0x78
	sbDevPath    = 0x88
)

// NewSuperblock returns a superblock with the constant fields set as mkfs sets
// them; the caller fills in UUIDs, LogLen, DevSize and DevPath.
func NewSuperblock() Superblock {
	return Superblock{
		Magic:     SuperblockMagic,
		Version:   SuperblockVersion,
		LogOffset: LogOffset,
		LogLen:    DefaultLogLen,
		AllocUnit: AllocUnit,
		OMFMajor:  OMFMajor,
		OMFMinor:  OMFMinor,
	}
}

// SuperblockCRC computes the CRC of an encoded superblock: CRC-32 of [0, 0x60).
func SuperblockCRC(b []byte) uint64 { return uint64(crc32.ChecksumIEEE(b[:sbCRC])) }

// Encode writes the superblock into b[0:SuperblockSize], zeroing every byte of
// the struct it does not set, and stores the computed CRC (also in s.CRC).
// The device path is truncated to 64 bytes like the reference's strncpy.
func (s *Superblock) Encode(b []byte) {
	b = b[:SuperblockSize]
	clear(b)
	le := binary.LittleEndian
	le.PutUint64(b[sbMagic:], s.Magic)
	le.PutUint64(b[sbVersion:], s.Version)
	le.PutUint64(b[sbLogOffset:], s.LogOffset)
	le.PutUint64(b[sbLogLen:], s.LogLen)
	le.PutUint64(b[sbAllocUnit:], s.AllocUnit)
	le.PutUint32(b[sbOMFMajor:], s.OMFMajor)
	le.PutUint32(b[sbOMFMinor:], s.OMFMinor)
	copy(b[sbUUID:], s.UUID[:])
	copy(b[sbDevUUID:], s.DevUUID[:])
	copy(b[sbSystemUUID:], s.SystemUUID[:])
	s.CRC = SuperblockCRC(b)
	le.PutUint64(b[sbCRC:], s.CRC)
	le.PutUint32(b[sbFlags:], s.Flags)
	le.PutUint64(b[sbDevSize:], s.DevSize)
	copy(b[sbDaxdevUUID:], s.DaxdevUUID[:])
	copy(b[sbDevPath:sbDevPath+DaxdevField], s.DevPath)
}

// DecodeSuperblock decodes b without validating it.
func DecodeSuperblock(b []byte) (Superblock, error) {
	var s Superblock
	if len(b) < SuperblockSize {
		return s, fieldErr(ErrShort, "superblock", "", uint64(len(b)), "%d bytes, need %d", len(b), SuperblockSize)
	}
	le := binary.LittleEndian
	s.Magic = le.Uint64(b[sbMagic:])
	s.Version = le.Uint64(b[sbVersion:])
	s.LogOffset = le.Uint64(b[sbLogOffset:])
	s.LogLen = le.Uint64(b[sbLogLen:])
	s.AllocUnit = le.Uint64(b[sbAllocUnit:])
	s.OMFMajor = le.Uint32(b[sbOMFMajor:])
	s.OMFMinor = le.Uint32(b[sbOMFMinor:])
	copy(s.UUID[:], b[sbUUID:])
	copy(s.DevUUID[:], b[sbDevUUID:])
	copy(s.SystemUUID[:], b[sbSystemUUID:])
	s.CRC = le.Uint64(b[sbCRC:])
	s.Flags = le.Uint32(b[sbFlags:])
	s.DevSize = le.Uint64(b[sbDevSize:])
	copy(s.DaxdevUUID[:], b[sbDaxdevUUID:])
	s.DevPath = cString(b[sbDevPath : sbDevPath+DaxdevField])
	return s, nil
}

// ParseSuperblock decodes and validates a superblock: the reference's checks
// in its order (magic, version, CRC, allocation unit) followed by the stricter
// ones a reader needs before it maps anything (log placement and length,
// device size large enough to hold the log).
func ParseSuperblock(b []byte) (Superblock, error) {
	s, err := DecodeSuperblock(b)
	if err != nil {
		return s, err
	}
	return s, s.Validate(b)
}

// Validate checks a decoded superblock. raw, when non-nil, is the encoded form
// the CRC is computed over; otherwise the superblock is re-encoded.
func (s *Superblock) Validate(raw []byte) error {
	const st = "superblock"
	if s.Magic != SuperblockMagic {
		return fieldErr(ErrBadMagic, st, "ts_magic", s.Magic, "0x%x is not the famfs magic 0x%x (no famfs file system here)", s.Magic, uint64(SuperblockMagic))
	}
	if s.Version != SuperblockVersion && s.Version != ReclaimVersion {
		return fieldErr(ErrWrongVersion, st, "ts_version", s.Version, "version %d, this implementation reads %d (and %d, made for delete)", s.Version, SuperblockVersion, ReclaimVersion)
	}
	var want uint64
	if len(raw) >= SuperblockSize {
		want = SuperblockCRC(raw)
	} else {
		var buf [SuperblockSize]byte
		c := *s
		c.Encode(buf[:])
		want = c.CRC
	}
	if s.CRC != want {
		return fieldErr(ErrBadCRC, st, "ts_crc", s.CRC, "stored 0x%x, computed 0x%x", s.CRC, want)
	}
	if s.AllocUnit != AllocUnit && s.AllocUnit != SmallAllocUnit {
		return fieldErr(ErrBadField, st, "ts_alloc_unit", s.AllocUnit, "0x%x is neither 0x200000 nor 0x1000", s.AllocUnit)
	}
	if s.LogOffset != LogOffset {
		return fieldErr(ErrBadField, st, "ts_log_offset", s.LogOffset, "0x%x, must be 0x%x", s.LogOffset, uint64(LogOffset))
	}
	if !ValidLogLen(s.LogLen) {
		return fieldErr(ErrBadField, st, "ts_log_len", s.LogLen, "%d is not a power of two of at least %d", s.LogLen, uint64(MinLogLen))
	}
	if end := s.LogOffset + s.LogLen; s.DevSize < end || s.DevSize < s.LogLen {
		return fieldErr(ErrBadField, st, "dd_size", s.DevSize, "device size %d cannot hold the superblock and a %d-byte log", s.DevSize, s.LogLen)
	}
	return nil
}

// Reclaim reports whether the file system was made for delete (version 49):
// its log may hold DELETE entries and its superblock region the participant
// table (docs/delete.md).
func (s *Superblock) Reclaim() bool { return s.Version == ReclaimVersion }

// MetaSize is the number of device bytes the superblock region and log take.
func (s *Superblock) MetaSize() uint64 { return s.LogOffset + s.LogLen }

// cString returns the bytes of b up to the first NUL (or all of b).
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
