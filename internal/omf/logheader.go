package omf

import (
	"encoding/binary"
	"hash/crc32"
)

// LogHeader is the header at the start of the log (docs/format.md, "Log
// header").
type LogHeader struct {
	Magic      uint64
	Len        uint64 // total log length in bytes
	LastIndex  uint64 // highest usable entry index, inclusive
	CRC        uint64 // CRC-32 of [0, 24)
	NextSeqnum uint64 // not CRC-protected
	NextIndex  uint64 // not CRC-protected: number of entries in use
}

// Log header field offsets.
const (
	LogHdrMagic      = 0x00
	LogHdrLen        = 0x08
	LogHdrLastIndex  = 0x10
	LogHdrCRC        = 0x18
	LogHdrNextSeqnum = 0x20
	LogHdrNextIndex  = 0x28
)

// NewLogHeader returns the header mkfs writes for a log of logLen bytes.
func NewLogHeader(logLen uint64) LogHeader {
	return LogHeader{Magic: LogMagic, Len: logLen, LastIndex: LastIndexFor(logLen)}
}

// LogHeaderCRC computes the CRC of an encoded log header.
func LogHeaderCRC(b []byte) uint64 { return uint64(crc32.ChecksumIEEE(b[:LogHdrCRC])) }

// Encode writes the header into b[0:48] and stores its CRC (also in h.CRC).
func (h *LogHeader) Encode(b []byte) {
	b = b[:LogHeaderSize]
	le := binary.LittleEndian
	le.PutUint64(b[LogHdrMagic:], h.Magic)
	le.PutUint64(b[LogHdrLen:], h.Len)
	le.PutUint64(b[LogHdrLastIndex:], h.LastIndex)
	h.CRC = LogHeaderCRC(b)
	le.PutUint64(b[LogHdrCRC:], h.CRC)
	le.PutUint64(b[LogHdrNextSeqnum:], h.NextSeqnum)
	le.PutUint64(b[LogHdrNextIndex:], h.NextIndex)
}

// DecodeLogHeader decodes b[0:48] without validating it.
func DecodeLogHeader(b []byte) (LogHeader, error) {
	var h LogHeader
	if len(b) < LogHeaderSize {
		return h, fieldErr(ErrShort, "log header", "", uint64(len(b)), "%d bytes, need %d", len(b), LogHeaderSize)
	}
	le := binary.LittleEndian
	h.Magic = le.Uint64(b[LogHdrMagic:])
	h.Len = le.Uint64(b[LogHdrLen:])
	h.LastIndex = le.Uint64(b[LogHdrLastIndex:])
	h.CRC = le.Uint64(b[LogHdrCRC:])
	h.NextSeqnum = le.Uint64(b[LogHdrNextSeqnum:])
	h.NextIndex = le.Uint64(b[LogHdrNextIndex:])
	return h, nil
}

// ParseLogHeader decodes and validates a log header for a log of logLen bytes
// (the superblock's ts_log_len).
func ParseLogHeader(b []byte, logLen uint64) (LogHeader, error) {
	h, err := DecodeLogHeader(b)
	if err != nil {
		return h, err
	}
	return h, h.Validate(logLen)
}

// Validate checks the header: magic and CRC as the reference does, then what
// the reference trusts blindly: the length must match the superblock, the last
// index must fit in the log, and next_index may not point past the last slot.
func (h *LogHeader) Validate(logLen uint64) error {
	const st = "log header"
	if h.Magic != LogMagic {
		return fieldErr(ErrBadMagic, st, "famfs_log_magic", h.Magic, "0x%x is not the log magic 0x%x", h.Magic, uint64(LogMagic))
	}
	var buf [LogHeaderSize]byte
	c := *h
	c.Encode(buf[:])
	if h.CRC != c.CRC {
		return fieldErr(ErrBadCRC, st, "famfs_log_crc", h.CRC, "stored 0x%x, computed 0x%x", h.CRC, c.CRC)
	}
	if h.Len != logLen {
		return fieldErr(ErrBadField, st, "famfs_log_len", h.Len, "%d differs from the superblock's log length %d", h.Len, logLen)
	}
	if max := EntriesFor(logLen); h.LastIndex >= max {
		return fieldErr(ErrBadField, st, "famfs_log_last_index", h.LastIndex, "%d is beyond the last slot (%d) of a %d-byte log", h.LastIndex, max-1, logLen)
	}
	if h.NextIndex > h.LastIndex+1 {
		return fieldErr(ErrBadField, st, "famfs_log_next_index", h.NextIndex, "%d is beyond the log's %d entries", h.NextIndex, h.LastIndex+1)
	}
	return nil
}

// Capacity is the number of entry slots the header allows.
func (h *LogHeader) Capacity() uint64 { return h.LastIndex + 1 }

// Free is the number of unused entry slots.
func (h *LogHeader) Free() uint64 {
	if h.NextIndex > h.LastIndex+1 {
		return 0
	}
	return h.LastIndex + 1 - h.NextIndex
}
