package famfs

import (
	"errors"
	"fmt"
	"os"

	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/mounts"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

// MkfsOptions tune Mkfs.
type MkfsOptions struct {
	// LogLen is the log length in bytes: a power of two of at least 8 MiB.
	// Zero means 8 MiB.
	LogLen uint64
	// Force makes a new file system over an existing one (owned by any host).
	Force bool
	// Kill, together with Force, only invalidates an existing superblock (it
	// zeroes the magic) and makes nothing new. Without Force it is ignored.
	Kill bool
	// Size creates the device as a sparse regular file of this many bytes if
	// it does not exist, or resizes an existing regular file (after the checks
	// for an existing file system).
	Size uint64
	// SystemUUID is the master's identity; default SystemUUID().
	SystemUUID uuid.UUID
	// UUID and DevUUID are the file system and device ids; default random.
	UUID, DevUUID uuid.UUID
	// Reclaim makes a file system that takes deletions (docs/delete.md):
	// superblock version 49, which the reference's tools refuse, and a
	// participant table in the superblock region.
	Reclaim bool
	// ForceParticipants lets Force replace a file system made for delete
	// while participants are registered in its table (they would go on
	// mapping memory that new files get).
	ForceParticipants bool
	// DevPath is what the superblock records as the device path (dd_daxdev,
	// at most 64 bytes); default the path given to Mkfs.
	DevPath string
	// AllocUnit is the allocation unit (ts_alloc_unit): 0 or 2 MiB (the
	// default), or 4096 (mkfs --4k: 4 KiB-granular files, mapped with 4 KiB
	// page faults; refused on a devdax device that maps larger pages).
	AllocUnit uint64
}

// Mkfs makes a famfs file system on the device at path (a devdax character
// device, a block device, or a regular file), or with Kill+Force invalidates
// one. It writes and flushes the zeroed log first and the superblock last, so
// the superblock becomes valid only over a complete log; when replacing a file
// system it first invalidates the old superblock, so live readers fail safe
// instead of seeing the new log under the old superblock, and on a
// regular-file device it gives the old files' memory back. Whatever it
// refuses, it refuses before changing anything, and a device file it created
// (Size) is removed again when it fails.
func Mkfs(path string, o MkfsOptions) (_ *Superblock, err error) {
	if o.LogLen == 0 {
		o.LogLen = omf.DefaultLogLen
	}
	switch o.AllocUnit {
	case 0:
		o.AllocUnit = omf.AllocUnit
	case omf.AllocUnit, omf.SmallAllocUnit:
	default:
		return nil, fmt.Errorf("allocation unit %d: must be 4096 or 2097152 (2 MiB)", o.AllocUnit)
	}
	if !omf.ValidLogLen(o.LogLen) {
		return nil, fmt.Errorf("log length %d: must be a power of two of at least %d (8 MiB)", o.LogLen, uint64(omf.MinLogLen))
	}
	if o.Size != 0 && o.Size < omf.MinDeviceSize && !o.Kill {
		return nil, fmt.Errorf("device size %d: must be at least %d (4 GiB)", o.Size, uint64(omf.MinDeviceSize))
	}
	if o.Size != 0 && !o.Kill && omf.LogOffset+o.LogLen > o.Size {
		return nil, fmt.Errorf("device %s: a %d-byte log does not fit in %d bytes", path, o.LogLen, o.Size)
	}
	if ms, err := mounts.BySource(path); err == nil && len(ms) > 0 {
		return nil, fmt.Errorf("device %s: mounted at %s; unmount it first", path, ms[0].Point)
	}
	// The identity first: a bad FAMFS_SYSTEM_UUID must not leave a device
	// created, resized or with its old superblock killed.
	if o.SystemUUID == uuid.Nil && !(o.Kill && o.Force) {
		if o.SystemUUID, err = SystemUUID(); err != nil {
			return nil, err
		}
	}
	dev, created, err := openForMkfs(path, o.Size)
	if err != nil {
		return nil, err
	}
	defer dev.Close()
	if created {
		defer func() {
			if err != nil {
				os.Remove(path)
			}
		}()
	}

	old, oldErr := readSuperblock(dev)
	exists := oldErr == nil || errors.Is(oldErr, omf.ErrWrongVersion)
	if o.Kill && o.Force {
		return nil, killSuperblock(dev)
	}
	if exists && !o.Force {
		owner := ""
		if oldErr == nil {
			owner = fmt.Sprintf(" (file system %s, master %s)", old.UUID, old.SystemUUID)
		}
		return nil, fmt.Errorf("device %s: %w%s", path, ErrFSExists, owner)
	}
	// A 4 KiB unit makes files whose pieces lie on 4 KiB boundaries: a
	// devdax device that maps only larger pages could map none of them. (A
	// 2 MiB unit on a device of larger pages is the reference's choice to
	// allow: such files are read, not mapped.)
	if o.AllocUnit == omf.SmallAllocUnit && dev.MapAlign() > o.AllocUnit {
		return nil, fmt.Errorf("device %s: it maps only in 0x%x-byte pages (its devdax align), so it cannot map the files of a 4 KiB allocation unit; reconfigure it with a 4 KiB align (daxctl reconfigure-device --align=4K) or keep the 2 MiB unit", path, dev.MapAlign())
	}
	if o.Size != 0 && !created && dev.Size != o.Size {
		if dev.Kind != device.RegularFile {
			return nil, fmt.Errorf("device %s: a size can only be given for a regular file, not a %s", path, dev.Kind)
		}
		if err := dev.File().Truncate(int64(o.Size)); err != nil {
			return nil, fmt.Errorf("device %s: resize: %w", path, err)
		}
		dev.Size = o.Size
	}
	if dev.Size < omf.MinDeviceSize {
		return nil, fmt.Errorf("device %s: %d bytes is smaller than the 4 GiB famfs needs", path, dev.Size)
	}
	if exists && oldErr == nil && old.Reclaim() && !o.ForceParticipants {
		if err := refuseLiveParticipants(dev, &old); err != nil {
			return nil, err
		}
	}
	sb := omf.NewSuperblock()
	if o.Reclaim {
		sb.Version = omf.ReclaimVersion
	}
	sb.LogLen = o.LogLen
	sb.AllocUnit = o.AllocUnit
	sb.DevSize = dev.Size
	sb.UUID, sb.DevUUID, sb.SystemUUID = o.UUID, o.DevUUID, o.SystemUUID
	if sb.UUID == uuid.Nil {
		sb.UUID = uuid.New()
	}
	if sb.DevUUID == uuid.Nil {
		sb.DevUUID = uuid.New()
	}
	sb.DevPath = o.DevPath
	if sb.DevPath == "" {
		sb.DevPath = path
	}
	if sb.MetaSize() > dev.Size {
		return nil, fmt.Errorf("device %s: a %d-byte log does not fit in %d bytes", path, o.LogLen, dev.Size)
	}
	if exists {
		if err := killSuperblock(dev); err != nil {
			return nil, err
		}
		// The old file system's files are gone: give their memory back
		// (a regular-file device punches a hole; a dax device keeps its
		// bytes, and new files are zeroed before anyone sees them).
		if _, err := dev.Release(sb.MetaSize(), dev.Size-sb.MetaSize()); err != nil {
			return nil, fmt.Errorf("device %s: releasing the old files' memory: %w", path, err)
		}
	}
	meta, err := dev.Map(0, sb.MetaSize(), true)
	if err != nil {
		return nil, err
	}
	defer meta.Unmap()
	if err := metalog.Format(metalog.Sub(meta, sb.LogOffset), sb.LogLen); err != nil {
		return nil, fmt.Errorf("device %s: %w", path, err)
	}
	if o.Reclaim {
		if err := formatParticipants(meta); err != nil {
			return nil, fmt.Errorf("device %s: participant table: %w", path, err)
		}
	}
	var b [omf.SuperblockSize]byte
	sb.Encode(b[:])
	if err := meta.WriteAt(b[:], 0); err != nil {
		return nil, fmt.Errorf("device %s: %w", path, err)
	}
	meta.Flush(0, omf.SuperblockSize)
	made := superblockOf(&sb)
	return &made, nil
}

func openForMkfs(path string, size uint64) (dev *device.Device, created bool, err error) {
	if size != 0 {
		if _, serr := os.Stat(path); os.IsNotExist(serr) {
			dev, err = device.Create(path, size)
			if err != nil {
				os.Remove(path) // created, then could not be sized
			}
			return dev, err == nil, err
		}
	}
	dev, err = device.Open(path, true)
	return dev, false, err
}

// killSuperblock zeroes the superblock magic and flushes it.
func killSuperblock(dev *device.Device) error {
	m, err := dev.Map(0, omf.SuperblockRegion, true)
	if err != nil {
		return err
	}
	defer m.Unmap()
	if err := m.StoreU64(0, 0); err != nil {
		return fmt.Errorf("device %s: %w", dev.Path, err)
	}
	m.Flush(0, 8)
	return nil
}
