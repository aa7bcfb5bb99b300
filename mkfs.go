package famfs

import (
	"errors"
	"fmt"
	"os"

	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/mounts"
	"github.com/famfs-go/famfs/omf"
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
	// DevPath is what the superblock records as the device path (dd_daxdev,
	// at most 64 bytes); default the path given to Mkfs.
	DevPath string
}

// ErrFSExists is returned when a file system is already there and Force is not set.
var ErrFSExists = errors.New("a famfs file system already exists on the device (use force to replace it)")

// Mkfs makes a famfs file system on the device at path (a devdax character
// device, a block device, or a regular file), or with Kill+Force invalidates
// one. It writes and flushes the zeroed log first and the superblock last, so
// the superblock becomes valid only over a complete log; when replacing a file
// system it first invalidates the old superblock, so live readers fail safe
// instead of seeing the new log under the old superblock.
func Mkfs(path string, o MkfsOptions) (*Superblock, error) {
	if o.LogLen == 0 {
		o.LogLen = omf.DefaultLogLen
	}
	if !omf.ValidLogLen(o.LogLen) {
		return nil, fmt.Errorf("log length %d: must be a power of two of at least %d (8 MiB)", o.LogLen, uint64(omf.MinLogLen))
	}
	if o.Size != 0 && o.Size < omf.MinDeviceSize && !o.Kill {
		return nil, fmt.Errorf("device size %d: must be at least %d (4 GiB)", o.Size, uint64(omf.MinDeviceSize))
	}
	if ms, err := mounts.BySource(path); err == nil && len(ms) > 0 {
		return nil, fmt.Errorf("device %s: mounted at %s; unmount it first", path, ms[0].Point)
	}
	dev, created, err := openForMkfs(path, o.Size)
	if err != nil {
		return nil, err
	}
	defer dev.Close()

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
	sb := omf.NewSuperblock()
	sb.LogLen = o.LogLen
	sb.DevSize = dev.Size
	sb.UUID, sb.DevUUID, sb.SystemUUID = o.UUID, o.DevUUID, o.SystemUUID
	if sb.UUID == uuid.Nil {
		sb.UUID = uuid.New()
	}
	if sb.DevUUID == uuid.Nil {
		sb.DevUUID = uuid.New()
	}
	if sb.SystemUUID == uuid.Nil {
		if sb.SystemUUID, err = SystemUUID(); err != nil {
			return nil, err
		}
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
	}
	meta, err := dev.Map(0, sb.MetaSize(), true)
	if err != nil {
		return nil, err
	}
	defer meta.Unmap()
	if err := metalog.Format(metalog.Sub(meta, sb.LogOffset), sb.LogLen); err != nil {
		return nil, fmt.Errorf("device %s: %w", path, err)
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
