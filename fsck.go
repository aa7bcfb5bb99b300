package famfs

import (
	"fmt"

	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/omf"
	"github.com/google/uuid"
)

// FsckReport is what Fsck found. A report with a nil Superblock or a non-nil
// LogErr describes a device fsck could not fully read.
type FsckReport struct {
	Device        string          `json:"device"`
	DeviceSize    uint64          `json:"device_size"`
	Superblock    *omf.Superblock `json:"superblock,omitempty"`
	SuperblockErr string          `json:"superblock_error,omitempty"`
	Role          string          `json:"role"` // "Owner", "Client" or "Invalid superblock"
	LogHeader     *omf.LogHeader  `json:"log_header,omitempty"`
	LogErr        string          `json:"log_error,omitempty"`

	EntriesUsed uint64 `json:"entries_used"`
	EntrySlots  uint64 `json:"entry_slots"`

	namespace.Stats
	DeviceCapacity uint64 `json:"device_capacity"` // dd_size
	BitmapCapacity uint64 `json:"bitmap_capacity"`
	Allocated      uint64 `json:"allocated"` // superblock and log included
	Free           uint64 `json:"free"`

	Problems []namespace.Problem `json:"problems"`
}

// Clean reports whether the file system is readable and has no problems of
// any kind (torn or malformed entries, misplaced paths, cross-links).
func (r *FsckReport) Clean() bool {
	return r.Superblock != nil && r.LogHeader != nil && r.LogErr == "" && len(r.Problems) == 0
}

// BadEntries is the number of entries fsck counts as bad: torn ones and
// intact ones the namespace refused (Problems says why for each).
func (r *FsckReport) BadEntries() uint64 { return r.Torn + r.Refused }

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
	sb, err := ReadSuperblock(dev)
	if err != nil {
		r.SuperblockErr = err.Error()
		return r, nil
	}
	if sysUUID == uuid.Nil {
		sysUUID, _ = SystemUUID()
	}
	meta, err := dev.Map(0, sb.MetaSize(), false)
	if err != nil {
		return nil, err
	}
	defer meta.Unmap()
	fsckLog(r, sb, sysUUID, metalog.New(metalog.Sub(meta, sb.LogOffset), sb.LogLen))
	return r, nil
}

// Fsck checks the open file system by scanning its whole log afresh.
func (f *FS) Fsck() *FsckReport {
	r := &FsckReport{Device: f.dev.Path, DeviceSize: f.dev.Size}
	fsckLog(r, f.sb, f.host, f.log)
	return r
}

func fsckLog(r *FsckReport, sb omf.Superblock, host uuid.UUID, log *metalog.Log) {
	r.Superblock = &sb
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
	r.LogHeader = &h
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
	r.Stats = t.Stats()
	r.Problems = t.Problems()
	bm := t.Bitmap()
	r.BitmapCapacity, r.Allocated, r.Free = bm.Capacity(), bm.UsedBytes(), bm.FreeBytes()
}
