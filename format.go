package famfs

import "github.com/famfs-go/famfs/internal/omf"

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
	MaxPath          int // longest path a log entry holds, relative to the root
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
		MaxPath: omf.MaxRelPath, MaxSymlinkTarget: omf.MaxSymlinkTarget,
	}
}

// EntryOffset is the offset in the log of entry slot i: where the first i
// entries end.
func (f FormatInfo) EntryOffset(i uint64) uint64 { return f.LogHeaderSize + f.EntrySize*i }

// UnmarshalBinary decodes and validates a superblock (the first
// SuperblockSize bytes of a device, or of .meta/.superblock). The device path
// and size are as the superblock records them.
func (s *Superblock) UnmarshalBinary(b []byte) error {
	sb, err := omf.ParseSuperblock(b)
	if err != nil {
		return err
	}
	*s = superblockOf(&sb)
	return nil
}

// UnmarshalBinary decodes and validates a log header (the first
// LogHeaderSize bytes of the log, or of .meta/.log). When b holds more than
// the header it is taken to be the whole log, whose length the header must
// record; otherwise the header is checked against the length it records.
func (l *LogInfo) UnmarshalBinary(b []byte) error {
	h, err := omf.DecodeLogHeader(b)
	if err != nil {
		return err
	}
	logLen := h.Len
	if len(b) > omf.LogHeaderSize {
		logLen = uint64(len(b))
	}
	if err := h.Validate(logLen); err != nil {
		return err
	}
	*l = logInfoOf(&h)
	return nil
}
