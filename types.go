package famfs

import (
	"github.com/famfs-go/famfs/internal/alloc"
	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

// Superblock summarises a file system's superblock.
type Superblock struct {
	UUID       uuid.UUID `json:"uuid"`        // the file system
	DeviceUUID uuid.UUID `json:"device_uuid"` // the device
	SystemUUID uuid.UUID `json:"system_uuid"` // the master host
	OMFMajor   uint32    `json:"omf_major"`
	OMFMinor   uint32    `json:"omf_minor"`
	AllocUnit  uint64    `json:"alloc_unit_bytes"`
	LogOffset  uint64    `json:"log_offset_bytes"`
	LogLen     uint64    `json:"log_len_bytes"`
	DevSize    uint64    `json:"device_size_bytes"` // the file system's size (dd_size)
	DevPath    string    `json:"device_path"`       // the device as named at mkfs
	// Reclaim: made for delete (mkfs --reclaim; superblock version 49).
	Reclaim bool `json:"reclaim"`
}

// MetaSize is the size of the superblock region and the log together: the
// device bytes no file may use.
func (s Superblock) MetaSize() uint64 { return s.LogOffset + s.LogLen }

func superblockOf(sb *omf.Superblock) Superblock {
	return Superblock{UUID: sb.UUID, DeviceUUID: sb.DevUUID, SystemUUID: sb.SystemUUID,
		OMFMajor: sb.OMFMajor, OMFMinor: sb.OMFMinor, AllocUnit: sb.AllocUnit,
		LogOffset: sb.LogOffset, LogLen: sb.LogLen, DevSize: sb.DevSize, DevPath: sb.DevPath, Reclaim: sb.Reclaim()}
}

// LogInfo summarises the log header.
type LogInfo struct {
	Len       uint64 `json:"len_bytes"`  // the log's length
	LastIndex uint64 `json:"last_index"` // highest usable entry index
	NextIndex uint64 `json:"next_index"` // entries in use
	Capacity  uint64 `json:"capacity"`   // entry slots
}

func logInfoOf(h *omf.LogHeader) LogInfo {
	return LogInfo{Len: h.Len, LastIndex: h.LastIndex, NextIndex: h.NextIndex, Capacity: h.Capacity()}
}

// LogNearlyFull reports whether a log with used of capacity entries is past
// the point (90%) where the master and every daemon warn that it will soon
// refuse new files and directories.
func LogNearlyFull(used, capacity uint64) bool {
	return capacity > 0 && used*10 >= capacity*9
}

// Interleave holds the parameters of strided allocation (docs/format.md,
// "Interleaved allocation"): a file is cut into chunks of ChunkSize bytes
// placed round robin over NStrips strips, each in its own of NBuckets equal
// buckets of the device. The zero value means a contiguous file.
type Interleave struct {
	NBuckets  uint64
	NStrips   uint64
	ChunkSize uint64 // bytes
}

// Enabled reports whether any parameter is set.
func (p Interleave) Enabled() bool { return p.NBuckets != 0 || p.NStrips != 0 || p.ChunkSize != 0 }

func (p Interleave) internal() alloc.Interleave {
	return alloc.Interleave{NBuckets: p.NBuckets, NStrips: p.NStrips, ChunkSize: p.ChunkSize}
}

// Problem is a log entry that replay or fsck reported instead of (fully)
// applying it: torn, malformed, misplaced, duplicate, or cross-linked.
type Problem struct {
	Index  uint64 `json:"index"`          // its log index
	Kind   string `json:"kind"`           // e.g. "torn entry", "duplicate path"
	Path   string `json:"path,omitempty"` // when known
	Reason string `json:"reason"`
	text   string
	placed bool
}

func (p Problem) String() string { return p.text }

// LeftOut reports whether the entry is missing from the namespace: true for
// every problem but an allocation collision, whose file is still placed.
func (p Problem) LeftOut() bool { return !p.placed }

func problemsOf(ps []namespace.Problem) []Problem {
	out := make([]Problem, len(ps))
	for i, p := range ps {
		out[i] = Problem{Index: p.Index, Kind: p.Kind.String(), Path: p.Path, Reason: p.Reason, text: p.String(),
			placed: p.Kind == namespace.Collision}
	}
	return out
}

// EntryKind is the type of a log entry.
type EntryKind int

const (
	EntryFile    EntryKind = iota // a file and its map
	EntryDir                      // a directory
	EntryDaxdev                   // a device joining the file system
	EntryOther                    // a type this implementation does not apply
	EntrySymlink                  // a symbolic link
	EntryDelete                   // a delete (applied on a file system made for delete)
)

func (k EntryKind) String() string {
	switch k {
	case EntryFile:
		return "file"
	case EntryDir:
		return "mkdir"
	case EntryDaxdev:
		return "add_daxdev"
	case EntrySymlink:
		return "symlink"
	case EntryDelete:
		return "delete"
	}
	return "other"
}

// LogEntry is one entry of the log as ScanLog sees it.
type LogEntry struct {
	Index uint64
	Kind  EntryKind
	// TypeName is the entry's type as the format names it ("file",
	// "mkdir", "add_daxdev", "symlink", "delete", or "type N").
	TypeName string
	Path     string // file and directory entries, as logged
	Mode     uint32 // permission bits as logged
	UID      uint32
	GID      uint32
	Size     uint64  // files
	Map      FileMap // files
	Device   Device  // device entries
	Target   string  // symbolic links: the target; deletes: unused
	// Deleted is a delete's target entry.
	Deleted uint64
	// Err is set for an intact entry that cannot be decoded; the other
	// fields are then as far as they could be read.
	Err error
}

func logEntryOf(i uint64, e *omf.Entry, err error) LogEntry {
	le := LogEntry{Index: i, Err: err}
	if e == nil {
		le.Kind = EntryOther
		return le
	}
	le.TypeName, le.Device = e.Type.String(), Device(e.Daxdev)
	switch e.Type {
	case omf.EntryFile:
		le.Kind = EntryFile
	case omf.EntryMkdir:
		le.Kind = EntryDir
	case omf.EntryAddDaxdev:
		le.Kind = EntryDaxdev
	case omf.EntrySymlink:
		le.Kind, le.Target = EntrySymlink, e.Target
	case omf.EntryDelete:
		le.Kind, le.Deleted = EntryDelete, e.Delete.Target
	default:
		le.Kind = EntryOther
	}
	le.Path, le.Mode, le.UID, le.GID, le.Size, le.Map = e.Path, e.Mode, e.UID, e.GID, e.Size, fileMapOf(&e.FMap)
	return le
}

// Counts are what a file system's log holds, as fsck reports it.
type Counts struct {
	Entries     uint64 `json:"entries"`      // entries read (any outcome)
	FileEntries uint64 `json:"file_entries"` // intact file entries, placed or not (the reference's "files")
	DirEntries  uint64 `json:"dir_entries"`  // intact directory entries
	Files       uint64 `json:"files"`        // files in the namespace
	Dirs        uint64 `json:"dirs"`         // directories in the namespace, root excluded
	SumSizes    uint64 `json:"sum_sizes_bytes"`
	Collisions  uint64 `json:"collisions"`      // allocation units claimed twice
	Torn        uint64 `json:"torn"`            // entries with a bad sequence number or CRC
	Refused     uint64 `json:"refused"`         // intact entries the namespace refused (see the problems)
	DelEntries  uint64 `json:"delete_entries"`  // intact DELETE entries
	Deleted     uint64 `json:"deleted"`         // files and directories they removed
	Symlinks    uint64 `json:"symlinks"`        // symbolic links in the namespace
	LinkEntries uint64 `json:"symlink_entries"` // intact SYMLINK entries
}

func countsOf(s namespace.Stats) Counts {
	return Counts{Entries: s.Entries, FileEntries: s.FileEntries, DirEntries: s.DirEntries, Files: s.Files,
		Dirs: s.Dirs, SumSizes: s.SumSizes, Collisions: s.Collisions, Torn: s.Torn, Refused: s.Refused, DelEntries: s.DelEntries, Deleted: s.Deleted,
		Symlinks: s.Symlinks, LinkEntries: s.LinkEntries}
}

// Bucket is the allocation of one bucket of the device, as interleaved
// allocation divides it (FsckOptions.Buckets).
type Bucket struct {
	Index       int    `json:"index"` // 0-based; the device's tail past the last whole bucket has Index == n
	Start       uint64 `json:"start_bytes"`
	Size        uint64 `json:"size_bytes"`
	Used        uint64 `json:"used_bytes"`
	Free        uint64 `json:"free_bytes"`
	FreeRuns    int    `json:"free_runs"` // free fragments
	LargestFree uint64 `json:"largest_free_bytes"`
}

func bucketsOf(bs []alloc.Bucket) []Bucket {
	out := make([]Bucket, len(bs))
	for i, b := range bs {
		out[i] = Bucket{Index: b.Index, Start: b.Start, Size: b.Size, Used: b.Used, Free: b.Free, FreeRuns: b.FreeRuns, LargestFree: b.LargestFree}
	}
	return out
}

// DeviceKind is what a device is.
type DeviceKind int

// The kinds of device (numbered as the device layer numbers them).
const (
	RegularFile DeviceKind = iota // a file standing in for shared memory
	DaxDevice                     // a devdax character device
	BlockDevice                   // a pmem (or other) block device
)

func (k DeviceKind) String() string { return device.Kind(k).String() }

// Printable returns s as is when it is printable UTF-8, and quoted with Go
// escapes otherwise: for paths read from a log, which may hold any byte.
func Printable(s string) string { return namespace.Printable(s) }

// Device is an entry of the file system's device table: device UUID, of
// Size bytes, is device Index (the primary device, the one the superblock is
// on, is 0). FS.AddDevice logs one (docs/format.md, "ADD_DAXDEV").
type Device struct {
	Size  uint64
	UUID  uuid.UUID
	Index uint32
}

// FileMap is where a file's bytes are on the device (docs/format.md, "File
// maps"): a simple map lists Extents in file order; an interleaved one
// stripes the file across the strips of its Interleave (the format allows
// several; the tools write one).
type FileMap struct {
	Interleaved bool
	Extents     []Extent            // a simple map
	Interleave  []InterleavedExtent // an interleaved map
}

// Extent is a range of a device's bytes.
type Extent struct {
	Device uint64 // index in the device table; 0 is the superblock's
	Offset uint64
	Len    uint64
}

// InterleavedExtent is one interleaved extent: the file's bytes go round
// robin across Strips, ChunkSize bytes at a time.
type InterleavedExtent struct {
	ChunkSize uint64
	Strips    []Extent
}

// Segment is a run of a file's bytes that is contiguous on the device: file
// bytes [FileOff, FileOff+Len) are device bytes [DevOff, DevOff+Len).
type Segment struct {
	FileOff uint64
	DevOff  uint64
	Len     uint64
}

func fileMapOf(m *omf.FMap) FileMap {
	ext := func(xs []omf.Extent) []Extent {
		out := make([]Extent, len(xs))
		for i, x := range xs {
			out[i] = Extent{Device: x.DevIndex, Offset: x.Offset, Len: x.Len}
		}
		return out
	}
	fm := FileMap{Interleaved: m.Type == omf.ExtInterleave}
	if fm.Interleaved {
		for _, ie := range m.Interleaved {
			fm.Interleave = append(fm.Interleave, InterleavedExtent{ChunkSize: ie.ChunkSize, Strips: ext(ie.Strips)})
		}
	} else {
		fm.Extents = ext(m.Extents)
	}
	return fm
}

func segmentsOf(ss []omf.Segment) []Segment {
	out := make([]Segment, len(ss))
	for i, s := range ss {
		out[i] = Segment(s)
	}
	return out
}
