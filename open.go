package famfs

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"

	"github.com/famfs-go/famfs/internal/alloc"
	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

// Role is what this host may do with a file system.
type Role int

const (
	Client Role = iota // reads the log; may not change the namespace
	Master             // created the file system; the only writer of the log
)

func (r Role) String() string {
	if r == Master {
		return "master"
	}
	return "client"
}

// OpenOptions tune Open. The zero value is right for most callers.
type OpenOptions struct {
	// SystemUUID, if set, is this host's identity instead of SystemUUID().
	SystemUUID uuid.UUID
	// ReadOnly opens the device read-only: no log writes, no data writes.
	ReadOnly bool
	// WritableData lets a client write file data (WriteAt, writable Map).
	// A client is read-only for data by default; the master always may write.
	WritableData bool
	// Logger receives warnings (replay problems, a device that is not shared
	// memory). Default: slog.Default().
	Logger *slog.Logger
	// Rand shuffles buckets for interleaved allocation. Default: random.
	Rand *rand.Rand

	// On a file system made for delete (docs/delete.md): what this FS
	// registers as in the participant table, the name shown for it (default
	// the program's), and an optional lease after which a silent FS is
	// left out of the master's reckoning (zero: never; accept the risk
	// the design describes before setting one).
	Participant     ParticipantKind
	ParticipantName string
	Lease           time.Duration
}

// FS is an open famfs file system. Its methods are safe for concurrent use.
type FS struct {
	dev  *device.Device
	meta *device.Mapping // [0, log offset + log length)
	log  *metalog.Log
	sb   omf.Superblock
	role Role
	host uuid.UUID
	opts OpenOptions
	lg   *slog.Logger

	mu     sync.RWMutex // guards tree, next, stuck, alloc
	tree   *namespace.Tree
	next   uint64    // replay cursor: entries below it are applied
	logCap uint64    // entry slots, from the log header at the last replay
	stuck  *BadEntry // replay is waiting at this entry
	alloc  *alloc.Allocator

	wmu sync.Mutex // serialises this process's writers; flock serialises processes

	dataMu sync.Mutex
	data   *device.Mapping // the whole device, mapped on first data access

	part  participation // participant.go
	lease *grantLease   // OpenMounted's grant, if it made one (grantlease.go)
}

// Open opens the famfs file system on the device at path and replays its log.
// The device may be a devdax character device, a block device, or a regular
// file. The role is Master when this host's system UUID is the superblock's.
func Open(path string, opts OpenOptions) (*FS, error) {
	dev, err := device.Open(path, !opts.ReadOnly)
	if err != nil && !opts.ReadOnly && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)) {
		dev, err = device.Open(path, false) // read what we may
	}
	if err != nil {
		return nil, err
	}
	return openDevice(dev, opts)
}

func openDevice(dev *device.Device, opts OpenOptions) (*FS, error) {
	lg := opts.Logger
	if lg == nil {
		lg = slog.Default()
	}
	f := &FS{dev: dev, opts: opts, lg: lg}
	if err := f.init(); err != nil {
		dev.Close()
		return nil, err
	}
	return f, nil
}

func (f *FS) init() error {
	sb, err := readSuperblock(f.dev)
	if err != nil {
		return err
	}
	f.sb = sb
	f.host = f.opts.SystemUUID
	if f.host == uuid.Nil {
		if f.host, err = SystemUUID(); errors.Is(err, ErrBadSystemUUID) {
			return err // a host that meant to name itself must not act as another
		} else if err != nil {
			f.lg.Warn("no system UUID; acting as a client", "err", err)
		}
	}
	f.role = roleOf(f.host, &sb)
	if !f.dev.Shared() {
		f.lg.Warn("block devices are reached through this host's page cache; other hosts will not see updates coherently (use a devdax device)", "device", f.dev.Path)
	}
	metaWrite := f.role == Master && f.dev.Writable
	if f.meta, err = f.dev.Map(0, sb.MetaSize(), metaWrite); err != nil {
		return err
	}
	f.log = logOf(f.meta, &sb)
	f.tree = newTree(&sb)
	f.alloc = alloc.New(f.opts.Rand)
	// A daemon registers before its first replay (docs/delete.md, "Claim").
	if err := f.initParticipation(); err != nil {
		f.meta.Unmap()
		return err
	}
	if _, err := f.refresh(false); err != nil && !errors.Is(err, ErrLogDamaged) {
		f.leave()
		f.meta.Unmap()
		return err
	}
	return nil
}

// roleOf is host's role in the file system sb: the host that made it (its
// system UUID is in the superblock) is the master; every other is a client.
func roleOf(host uuid.UUID, sb *omf.Superblock) Role {
	if host != uuid.Nil && host == sb.SystemUUID {
		return Master
	}
	return Client
}

// logOf is the log of the file system sb inside meta, a mapping of its
// metadata region (superblock region and log).
func logOf(meta metalog.Media, sb *omf.Superblock) *metalog.Log {
	return metalog.New(metalog.Sub(meta, sb.LogOffset), sb.LogLen)
}

// readSuperblock reads and validates the superblock of an open device, and
// checks that the device is large enough for what it describes (so nothing
// beyond the end of a regular file is ever mapped).
func readSuperblock(dev *device.Device) (omf.Superblock, error) {
	if dev.Size < omf.SuperblockRegion {
		return omf.Superblock{}, fmt.Errorf("device %s: %w: %d bytes is too small to hold one", dev.Path, ErrNoSuperblock, dev.Size)
	}
	m, err := dev.Map(0, omf.SuperblockRegion, false)
	if err != nil {
		return omf.Superblock{}, err
	}
	defer m.Unmap()
	m.Invalidate(0, omf.SuperblockSize)
	var b [omf.SuperblockSize]byte
	if err := m.ReadAt(b[:], 0); err != nil {
		return omf.Superblock{}, fmt.Errorf("device %s: %w", dev.Path, err)
	}
	sb, err := omf.ParseSuperblock(b[:])
	if err != nil {
		return sb, fmt.Errorf("device %s: %w: %w", dev.Path, ErrNoSuperblock, err)
	}
	if sb.DevSize > dev.Size {
		return sb, fmt.Errorf("device %s: %w: the superblock describes %d bytes (dd_size) but the device has only %d", dev.Path, ErrNoSuperblock, sb.DevSize, dev.Size)
	}
	return sb, nil
}

// Close unmaps and closes the device. Files and mappings obtained from the FS
// must not be used afterwards, except Mappings, which stay valid until Unmap
// (an FS from OpenMounted keeps its grant's lease until then).
func (f *FS) Close() error {
	f.leave()
	f.dataMu.Lock()
	if f.data != nil {
		f.data.Unmap()
		f.data = nil
	}
	f.dataMu.Unlock()
	f.meta.Unmap()
	err := f.dev.Close()
	f.lease.close()
	return err
}

// Superblock summarises the superblock read at Open.
func (f *FS) Superblock() Superblock { return superblockOf(&f.sb) }

// Role reports whether this host is the master or a client.
func (f *FS) Role() Role { return f.role }

// HostUUID is the system UUID the role was decided with (uuid.Nil if none).
func (f *FS) HostUUID() uuid.UUID { return f.host }

// DeviceInfo describes the device an FS has open.
type DeviceInfo struct {
	Path  string     // as it was opened
	Kind  DeviceKind // a dax device, a block device or a regular file
	Size  uint64     // bytes
	Align uint64     // the alignment its mappings honour (2 MiB, or a dax device's align)
}

// Device describes the device the file system is on.
func (f *FS) Device() DeviceInfo {
	return DeviceInfo{Path: f.dev.Path, Kind: DeviceKind(f.dev.Kind), Size: f.dev.Size, Align: f.dev.Align}
}

// newTree returns an empty namespace for the file system sb: DELETE entries
// are applied on one made for delete.
func newTree(sb *omf.Superblock) *namespace.Tree {
	t := namespace.New(sb.DevSize, sb.AllocUnit, sb.MetaSize())
	t.SetReclaim(sb.Reclaim())
	return t
}
