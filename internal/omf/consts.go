package omf

// Fixed numbers of the format (docs/format.md, "Numbers").
const (
	SuperblockMagic   = 0x87B282FF // ts_magic
	SuperblockVersion = 48         // ts_version the reference writes and requires exactly
	// ReclaimVersion is the ts_version of a file system made for delete
	// (mkfs.famfs --reclaim; docs/delete.md): the reference's tools refuse
	// it, so no reference host serves reused space as a deleted file.
	ReclaimVersion = 49
	OMFMajor       = 2
	OMFMinor       = 2
	LogMagic       = 0x00000BADCAFEF00D

	SuperblockSize   = 200      // bytes the superblock struct uses
	SuperblockRegion = 0x200000 // device bytes reserved for the superblock
	LogOffset        = 0x200000 // device offset of the log, always
	DefaultLogLen    = 0x800000 // 8 MiB
	MinLogLen        = 0x800000 // log lengths are powers of two >= 8 MiB

	AllocUnit      = 0x200000 // 2 MiB allocation unit
	SmallAllocUnit = 4096     // mkfs --4k

	LogHeaderSize  = 48
	EntrySize      = 544
	EntryCRCOffset = 536 // the CRC covers entry bytes [0, 536)

	MaxSimpleExtents = 16 // se[16] in the log format
	MaxStrips        = 16 // ie_strips[16]
	MaxInterleaved   = 1  // ie[1]
	MaxBuckets       = 64

	RelPathField = 80 // fm_relpath / md_relpath field size
	MaxRelPath   = 78 // longest relative path a writer may log (both reference modes accept it)
	DaxdevField  = 64 // dd_daxdev field size

	MinDeviceSize = 4 << 30 // mkfs refuses smaller devices

	// FileFlagsAllHostsRW is the fm_flags value the reference tools write.
	FileFlagsAllHostsRW = 2
	FileFlagsAllHostsRO = 1

	CacheLine = 64
)

// Statfs magic numbers (not on media; reported by the kernels).
const (
	StatfsMagicV1     = 0x87B282FE
	StatfsMagicFUSE   = 0x87B282FD
	StatfsMagicOldV1  = 0x87B282FF
	StatfsMagicFUSEFS = 0x65735546 // generic FUSE
)

// EntriesFor returns how many entries a log of logLen bytes holds.
func EntriesFor(logLen uint64) uint64 {
	if logLen < LogHeaderSize {
		return 0
	}
	return (logLen - LogHeaderSize) / EntrySize
}

// LastIndexFor returns the famfs_log_last_index a log of logLen bytes gets.
func LastIndexFor(logLen uint64) uint64 { return EntriesFor(logLen) - 1 }

// EntryOffset returns the byte offset of entry i inside the log.
func EntryOffset(i uint64) uint64 { return LogHeaderSize + EntrySize*i }

// ValidLogLen reports whether n is an acceptable log length: a power of two of
// at least MinLogLen.
func ValidLogLen(n uint64) bool { return n >= MinLogLen && n&(n-1) == 0 }
