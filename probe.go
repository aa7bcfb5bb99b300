package famfs

import (
	"fmt"

	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/google/uuid"
)

// ProbeInfo is what Probe learns about a device without replaying its log.
type ProbeInfo struct {
	Superblock Superblock
	Log        LogInfo
	Role       Role
	Host       uuid.UUID // the system UUID the role was decided with
	Kind       DeviceKind
}

// Probe checks that the device at path holds a usable famfs file system —
// a valid superblock that fits the device and a valid log header — and says
// what role this host has, without replaying the log.
func Probe(path string, host uuid.UUID) (ProbeInfo, error) {
	var p ProbeInfo
	dev, err := device.Open(path, false)
	if err != nil {
		return p, err
	}
	defer dev.Close()
	p.Kind = DeviceKind(dev.Kind)
	sb, err := readSuperblock(dev)
	if err != nil {
		return p, err
	}
	p.Superblock = superblockOf(&sb)
	m, err := dev.Map(0, sb.MetaSize(), false)
	if err != nil {
		return p, err
	}
	defer m.Unmap()
	h, err := metalog.New(metalog.Sub(m, sb.LogOffset), sb.LogLen).Header()
	if err != nil {
		return p, fmt.Errorf("device %s: %w", path, err)
	}
	p.Log = logInfoOf(&h)
	if host == uuid.Nil {
		host, _ = SystemUUID()
	}
	p.Host = host
	if host != uuid.Nil && host == sb.SystemUUID {
		p.Role = Master
	}
	return p, nil
}
