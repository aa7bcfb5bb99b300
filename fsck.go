package famfs

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/omf"
	"github.com/google/uuid"
)

// FsckReport is what Fsck found. A report with a nil Superblock or a non-nil
// LogErr describes a device fsck could not fully read.
type FsckReport struct {
	Device        string      `json:"device"`
	DeviceSize    uint64      `json:"device_size_bytes"`
	Superblock    *Superblock `json:"superblock,omitempty"`
	SuperblockErr string      `json:"superblock_error,omitempty"`
	Role          string      `json:"role"` // "Owner" (the master: the reference's word), "Client" or "Invalid superblock"
	Log           *LogInfo    `json:"log,omitempty"`
	LogErr        string      `json:"log_error,omitempty"`

	EntriesUsed uint64 `json:"entries_used"`
	EntrySlots  uint64 `json:"entry_slots"`

	Counts
	DeviceCapacity uint64 `json:"device_capacity_bytes"` // dd_size
	BitmapCapacity uint64 `json:"bitmap_capacity_bytes"`
	Allocated      uint64 `json:"allocated_bytes"` // superblock and log included
	Free           uint64 `json:"free_bytes"`

	Problems []Problem `json:"problems"`
}

// Clean reports whether the file system is readable and has no problems of
// any kind (torn or malformed entries, misplaced paths, cross-links).
func (r *FsckReport) Clean() bool {
	return r.Superblock != nil && r.Log != nil && r.LogErr == "" && len(r.Problems) == 0
}

// Fsck checks the file system on the device at path without changing it. It
// returns an error only when the device cannot be opened at all; an invalid
// superblock or log header is part of the report.
func Fsck(path string, sysUUID uuid.UUID) (*FsckReport, error) {
	dev, err := device.Open(path, false)
	if err != nil {
		return nil, err
	}
	defer dev.Close()
	r := &FsckReport{Device: path, DeviceSize: dev.Size, Role: "Invalid superblock"}
	sb, err := readSuperblock(dev)
	if err != nil {
		r.SuperblockErr = err.Error()
		return r, nil
	}
	meta, err := dev.Map(0, sb.MetaSize(), false)
	if err != nil {
		return nil, err
	}
	defer meta.Unmap()
	fsckLog(r, sb, hostOr(sysUUID), metalog.New(metalog.Sub(meta, sb.LogOffset), sb.LogLen))
	return r, nil
}

// FsckImage checks a file system from images of its two metadata regions:
// superblock holds (at least) the superblock, log the whole log, as the
// files .meta/.superblock and .meta/.log of a mount hold them. name is what
// the report calls the device. Like Fsck it changes nothing and fails only
// when it cannot check at all; the images are read in place.
func FsckImage(name string, superblock, log []byte, sysUUID uuid.UUID) *FsckReport {
	r := &FsckReport{Device: name, Role: "Invalid superblock"}
	sb, err := omf.ParseSuperblock(superblock)
	if err != nil {
		r.SuperblockErr = fmt.Sprintf("%s: %v: %v", name, ErrNoSuperblock, err)
		return r
	}
	r.DeviceSize = sb.DevSize
	if uint64(len(log)) < sb.LogLen {
		sum := superblockOf(&sb)
		r.Superblock, r.Role = &sum, "Client"
		r.LogErr = fmt.Sprintf("%s: the log image holds %d bytes; the superblock says %d", name, len(log), sb.LogLen)
		return r
	}
	fsckLog(r, sb, hostOr(sysUUID), metalog.New(imageMedia(log[:sb.LogLen]), sb.LogLen))
	return r
}

// FsckMount checks the file system of the famfs mount at mountpoint through
// the mount's own .meta/.superblock and .meta/.log (readable by every user of
// the mount), without opening the device.
func FsckMount(mountpoint string, sysUUID uuid.UUID) (*FsckReport, error) {
	sb, err := os.ReadFile(filepath.Join(mountpoint, MetaDir, ".superblock"))
	if err != nil {
		return nil, err
	}
	log, err := os.ReadFile(filepath.Join(mountpoint, MetaDir, ".log"))
	if err != nil {
		return nil, err
	}
	return FsckImage(mountpoint, sb, log, sysUUID), nil
}

func hostOr(id uuid.UUID) uuid.UUID {
	if id == uuid.Nil {
		id, _ = SystemUUID()
	}
	return id
}

// imageMedia is a log held in ordinary memory, read-only.
type imageMedia []byte

func (m imageMedia) ReadAt(p []byte, off uint64) error {
	if off > uint64(len(m)) || uint64(len(p)) > uint64(len(m))-off {
		return fmt.Errorf("log image: read of %d bytes at %d past its end (%d)", len(p), off, len(m))
	}
	copy(p, m[off:])
	return nil
}
func (m imageMedia) WriteAt(p []byte, off uint64) error { return fmt.Errorf("log image: %w", ErrReadOnly) }
func (m imageMedia) LoadU64(off uint64) (uint64, error) {
	var b [8]byte
	if err := m.ReadAt(b[:], off); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}
func (m imageMedia) StoreU64(off uint64, v uint64) error { return fmt.Errorf("log image: %w", ErrReadOnly) }
func (m imageMedia) Flush(off, n uint64)                 {}
func (m imageMedia) Invalidate(off, n uint64)            {}

// View lets replay read the image in place.
func (m imageMedia) View(off, n uint64, fn func(b []byte)) error {
	if off > uint64(len(m)) || n > uint64(len(m))-off {
		return fmt.Errorf("log image: %d bytes at %d past its end (%d)", n, off, len(m))
	}
	fn(m[off : off+n])
	return nil
}

// Fsck checks the open file system by scanning its whole log afresh.
func (f *FS) Fsck() *FsckReport {
	r := &FsckReport{Device: f.dev.Path, DeviceSize: f.dev.Size}
	fsckLog(r, f.sb, f.host, f.log)
	return r
}

func fsckLog(r *FsckReport, sb omf.Superblock, host uuid.UUID, log *metalog.Log) {
	sum := superblockOf(&sb)
	r.Superblock = &sum
	r.Role = "Client"
	if host != uuid.Nil && host == sb.SystemUUID {
		r.Role = "Owner"
	}
	r.DeviceCapacity = sb.DevSize
	h, err := log.Header()
	if err != nil {
		r.LogErr = err.Error()
		return
	}
	li := logInfoOf(&h)
	r.Log = &li
	r.EntriesUsed, r.EntrySlots = h.NextIndex, h.Capacity()
	t := namespace.New(sb.DevSize, sb.AllocUnit, sb.MetaSize())
	t.Grow(int(min(h.NextIndex, omf.EntriesFor(sb.LogLen))))
	var dec omf.EntryDecoder
	err = log.ScanRaw(0, h.NextIndex, func(i uint64, raw []byte, err error) {
		if err != nil {
			t.Torn(i, err)
			return
		}
		t.ApplyRaw(i, raw, &dec)
	})
	if err != nil {
		r.LogErr = fmt.Sprintf("reading the log: %v", err)
	}
	r.Counts = countsOf(t.Stats())
	r.Problems = problemsOf(t.Problems())
	bm := t.Bitmap()
	r.BitmapCapacity, r.Allocated, r.Free = bm.Capacity(), bm.UsedBytes(), bm.FreeBytes()
}
