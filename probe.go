package famfs

import (
	"fmt"

	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/omf"
	"github.com/google/uuid"
)

// ProbeInfo is what Probe learns about a device without replaying its log.
type ProbeInfo struct {
	Superblock omf.Superblock
	LogHeader  omf.LogHeader
	Role       Role
	Host       uuid.UUID // the system UUID the role was decided with
	Kind       device.Kind
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
	p.Kind = dev.Kind
	if p.Superblock, err = ReadSuperblock(dev); err != nil {
		return p, err
	}
	sb := p.Superblock
	m, err := dev.Map(0, sb.MetaSize(), false)
	if err != nil {
		return p, err
	}
	defer m.Unmap()
	if p.LogHeader, err = metalog.New(metalog.Sub(m, sb.LogOffset), sb.LogLen).Header(); err != nil {
		return p, fmt.Errorf("device %s: %w", path, err)
	}
	if host == uuid.Nil {
		host, _ = SystemUUID()
	}
	p.Host = host
	if host != uuid.Nil && host == sb.SystemUUID {
		p.Role = Master
	}
	return p, nil
}
