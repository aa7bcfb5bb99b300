package famfs

import (
	"fmt"

	"github.com/famfs-go/famfs/internal/omf"
)

// FormatInfo describes the on-media format this library reads and writes
// (docs/format.md): its version, the sizes of its structures and its limits.
// Programs print it (famfs version, fsck -v) and size their requests by it;
// Format returns it.
type FormatInfo struct {
	Major, Minor      uint32 // the on-media format version written
	SuperblockVersion uint64 // ts_version of a plain file system
	ReclaimVersion    uint64 // ts_version of one made for delete (mkfs --reclaim)

	SuperblockSize   uint64 // bytes of the superblock structure
	SuperblockRegion uint64 // device bytes reserved for it, before the log
	LogOffset        uint64 // device offset of the log
	LogHeaderSize    uint64 // bytes of the log header
	EntrySize        uint64 // bytes of one log entry slot
	DefaultLogLen    uint64 // the log length mkfs uses unless told otherwise
	MinDeviceSize    uint64 // mkfs refuses smaller devices

	AllocUnit      uint64 // the allocation unit: 2 MiB
	SmallAllocUnit uint64 // the allocation unit of mkfs --4k

	MaxSimpleExtents int // extents of a simple file map
	MaxInterleaved   int // interleaved extents of a file map
	MaxRelPath       int // longest path a log entry holds, in bytes, relative to the root (not PATH_MAX)
	MaxSymlinkTarget int // longest symbolic link target, in bytes (no NUL)
}

// Format returns the on-media format's description.
func Format() FormatInfo {
	return FormatInfo{
		Major: omf.OMFMajor, Minor: omf.OMFMinor,
		SuperblockVersion: omf.SuperblockVersion, ReclaimVersion: omf.ReclaimVersion,
		SuperblockSize: omf.SuperblockSize, SuperblockRegion: omf.SuperblockRegion,
		LogOffset: omf.LogOffset, LogHeaderSize: omf.LogHeaderSize, EntrySize: omf.EntrySize,
		DefaultLogLen: omf.DefaultLogLen, MinDeviceSize: omf.MinDeviceSize,
		AllocUnit: omf.AllocUnit, SmallAllocUnit: omf.SmallAllocUnit,
		MaxSimpleExtents: omf.MaxSimpleExtents, MaxInterleaved: omf.MaxInterleaved,
		MaxRelPath: omf.MaxRelPath, MaxSymlinkTarget: omf.MaxSymlinkTarget,
	}
}

// EntryOffset is the offset in the log of entry slot i: where the first i
// entries end.
func (f FormatInfo) EntryOffset(i uint64) uint64 { return f.LogHeaderSize + f.EntrySize*i }

// UnmarshalBinary decodes and validates a superblock (the first
// SuperblockSize bytes of a device, or of .meta/.superblock). The device path
// and size are as the superblock records them. An error wraps
// ErrNoSuperblock and names the field at fault; *s then holds what the bytes
// say, for a report (as famfs chkread -s prints it), unless they were too
// few to decode.
func (s *Superblock) UnmarshalBinary(b []byte) error {
	sb, err := omf.DecodeSuperblock(b)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoSuperblock, err)
	}
	*s = superblockOf(&sb)
	if err := sb.Validate(b); err != nil {
		return fmt.Errorf("%w: %w", ErrNoSuperblock, err)
	}
	return nil
}

// UnmarshalBinary decodes and validates a log header: b is the header (the
// first LogHeaderSize bytes of the log) or the whole log (.meta/.log), whose
// length the header must record. An error wraps ErrLogDamaged and names the
// field at fault; *l then holds what the bytes say, for a report, unless they
// were too few to decode.
func (l *LogInfo) UnmarshalBinary(b []byte) error {
	h, err := omf.DecodeLogHeader(b)
	if err != nil {
		return fmt.Errorf("%w: log header: %w", ErrLogDamaged, err)
	}
	*l = logInfoOf(&h)
	if err := h.Validate(h.Len); err != nil {
		return fmt.Errorf("%w: %w", ErrLogDamaged, err)
	}
	if !omf.ValidLogLen(h.Len) {
		return fmt.Errorf("%w: log header: famfs_log_len: %d is not a power of two of at least %d", ErrLogDamaged, h.Len, omf.MinLogLen)
	}
	if len(b) > omf.LogHeaderSize && uint64(len(b)) != h.Len {
		return fmt.Errorf("%w: log header: famfs_log_len: the header records a %d-byte log, and these %d bytes are neither the header nor the whole log", ErrLogDamaged, h.Len, len(b))
	}
	return nil
}
