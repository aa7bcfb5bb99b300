package famfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/famfs-go/famfs/internal/participants"
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

	// Buckets is the allocation per bucket when FsckOptions.Buckets asked
	// for it (the last one is the tail no bucket covers, if any).
	Buckets []Bucket `json:"buckets,omitempty"`

	// Reclaim is the participant table's check, on a file system made for
	// delete only.
	Reclaim *FsckReclaim `json:"reclaim,omitempty"`
}

// FsckOptions tune Fsck.
type FsckOptions struct {
	// SystemUUID is the host whose role the report names; default
	// SystemUUID().
	SystemUUID uuid.UUID
	// Buckets, if set, also reports allocation per bucket when the device is
	// divided into that many buckets, as interleaved allocation divides it.
	Buckets int
}

// Clean reports whether the file system is readable and has no problems of
// any kind (torn or malformed entries, misplaced paths, cross-links).
func (r *FsckReport) Clean() bool {
	return r.Superblock != nil && r.Log != nil && r.LogErr == "" && len(r.Problems) == 0 &&
		(r.Reclaim == nil || r.Reclaim.TableErr == "" && len(r.Reclaim.Problems) == 0)
}

// BadEntries is the number of entries fsck counts as bad: torn ones and
// intact ones the namespace refused (Problems says why for each).
func (r *FsckReport) BadEntries() uint64 { return r.Torn + r.Refused }

// Fsck checks a file system without changing it. path is the device (or an
// image file), or a famfs mount's directory, which is checked through the
// mount's own .meta/.superblock and .meta/.log (readable by every user of the
// mount) without opening the device. It returns an error only when the
// device or those files cannot be read at all; an invalid superblock or log
// header is part of the report.
func Fsck(path string, o FsckOptions) (*FsckReport, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fsckMount(path, o)
	}
	var err error
	if o.SystemUUID, err = hostOr(o.SystemUUID); err != nil {
		return nil, err
	}
	dev, err := device.Open(path, false)
	if err != nil {
		return nil, err
	}
	defer dev.Close()
	r := &FsckReport{Device: path, DeviceSize: dev.Size, Role: "Invalid superblock", Problems: []Problem{}}
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
	fsckLog(r, sb, o, logOf(meta, &sb), tableMedia{meta})
	return r, nil
}

// fsckImage checks a file system from images of its two metadata regions:
// superblock holds (at least) the superblock, log the whole log, as the
// files .meta/.superblock and .meta/.log of a mount hold them. name is what
// the report calls the device. Like Fsck it changes nothing; a damaged image
// is described in the report, and the only error is an invalid
// $FAMFS_SYSTEM_UUID when o names no host. The images are read in place.
func fsckImage(name string, superblock, log []byte, o FsckOptions) (*FsckReport, error) {
	var err error
	if o.SystemUUID, err = hostOr(o.SystemUUID); err != nil {
		return nil, err
	}
	r := &FsckReport{Device: name, Role: "Invalid superblock", Problems: []Problem{}}
	sb, err := omf.ParseSuperblock(superblock)
	if err != nil {
		r.SuperblockErr = fmt.Sprintf("%s: %v: %v", name, ErrNoSuperblock, err)
		return r, nil
	}
	r.DeviceSize = sb.DevSize
	if uint64(len(log)) < sb.LogLen {
		sum := superblockOf(&sb)
		r.Superblock, r.Role = &sum, "Client"
		r.LogErr = fmt.Sprintf("%s: the log image holds %d bytes; the superblock says %d", name, len(log), sb.LogLen)
		return r, nil
	}
	var table participants.Media
	if end := omf.ParticipantTableOffset + omf.ParticipantTableSize; len(superblock) >= end {
		table = imageMedia(superblock[omf.ParticipantTableOffset:end])
	}
	fsckLog(r, sb, o, metalog.New(metalog.Image(log[:sb.LogLen]), sb.LogLen), table)
	return r, nil
}

// fsckMount checks the file system of the famfs mount at mountpoint through
// the mount's own .meta/.superblock and .meta/.log.
func fsckMount(mountpoint string, o FsckOptions) (*FsckReport, error) {
	sb, err := os.ReadFile(filepath.Join(mountpoint, MetaDir, MetaSuperblock))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, pathErr("fsck", mountpoint, fmt.Errorf("%w: a directory, but not the root of a famfs mount (it has no %s/%s)", fs.ErrInvalid, MetaDir, MetaSuperblock))
	}
	if err != nil {
		return nil, err
	}
	log, err := os.ReadFile(filepath.Join(mountpoint, MetaDir, MetaLog))
	if err != nil {
		return nil, err
	}
	return fsckImage(mountpoint, sb, log, o)
}

// hostOr is id, or this host's system UUID when id is not set (uuid.Nil
// when there is none: the role is then a client's).
func hostOr(id uuid.UUID) (uuid.UUID, error) {
	if id != uuid.Nil {
		return id, nil
	}
	id, err := SystemUUID()
	if errors.Is(err, ErrBadSystemUUID) {
		return uuid.Nil, err
	}
	return id, nil
}

// fsckLog fills r from the log; table is where the participant table is
// (nil when not at hand), checked on a file system made for delete.
func fsckLog(r *FsckReport, sb omf.Superblock, o FsckOptions, log *metalog.Log, table participants.Media) {
	host := o.SystemUUID // resolved by the caller
	sum := superblockOf(&sb)
	r.Superblock = &sum
	r.Role = "Client"
	if roleOf(host, &sb) == Master {
		r.Role = "Owner" // the reference's word for the master
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
	t := newTree(&sb)
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
	if o.Buckets > 0 {
		r.Buckets = bucketsOf(bm.Buckets(o.Buckets))
	}
	if sb.Reclaim() {
		r.Reclaim = fsckReclaim(table, &sb, t, h.NextIndex)
	}
}
