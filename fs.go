package famfs

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"sync"
	"syscall"

	"github.com/famfs-go/famfs/internal/alloc"
	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/omf"
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
	next   uint64            // replay cursor: entries below it are applied
	logCap uint64            // entry slots, from the log header at the last replay
	stuck  *metalog.BadEntry // replay is waiting at this entry
	alloc  *alloc.Allocator

	wmu sync.Mutex // serialises this process's writers; flock serialises processes

	dataMu sync.Mutex
	data   *device.Mapping // the whole device, mapped on first data access
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
	sb, err := ReadSuperblock(f.dev)
	if err != nil {
		return err
	}
	f.sb = sb
	f.host = f.opts.SystemUUID
	if f.host == uuid.Nil {
		if f.host, err = SystemUUID(); err != nil {
			f.lg.Warn("no system UUID; acting as a client", "err", err)
		}
	}
	if f.host != uuid.Nil && f.host == sb.SystemUUID {
		f.role = Master
	}
	if !f.dev.Shared() {
		f.lg.Warn("block devices are reached through this host's page cache; other hosts will not see updates coherently (use a devdax device)", "device", f.dev.Path)
	}
	metaWrite := f.role == Master && f.dev.Writable
	if f.meta, err = f.dev.Map(0, sb.MetaSize(), metaWrite); err != nil {
		return err
	}
	f.log = metalog.New(metalog.Sub(f.meta, sb.LogOffset), sb.LogLen)
	f.tree = namespace.New(sb.DevSize, sb.AllocUnit, sb.MetaSize())
	f.alloc = alloc.New(f.tree.Bitmap(), f.opts.Rand)
	if _, err := f.Refresh(); err != nil && !errors.Is(err, ErrLogDamaged) {
		f.meta.Unmap()
		return err
	}
	return nil
}

// ReadSuperblock reads and validates the superblock of an open device, and
// checks that the device is large enough for what it describes (so nothing
// beyond the end of a regular file is ever mapped).
func ReadSuperblock(dev *device.Device) (omf.Superblock, error) {
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
// must not be used afterwards, except Mappings, which stay valid until Unmap.
func (f *FS) Close() error {
	f.dataMu.Lock()
	if f.data != nil {
		f.data.Unmap()
		f.data = nil
	}
	f.dataMu.Unlock()
	f.meta.Unmap()
	return f.dev.Close()
}

// Superblock returns the superblock read at Open.
func (f *FS) Superblock() omf.Superblock { return f.sb }

// Role reports whether this host is the master or a client.
func (f *FS) Role() Role { return f.role }

// HostUUID is the system UUID the role was decided with (uuid.Nil if none).
func (f *FS) HostUUID() uuid.UUID { return f.host }

// Device returns the open device.
func (f *FS) Device() *device.Device { return f.dev }

// ReplayStatus describes the replay position after Refresh.
type ReplayStatus struct {
	Applied  uint64              // entries applied by this call
	Next     uint64              // entries below this index are applied
	LogNext  uint64              // the log header's next_index
	Capacity uint64              // entry slots in the log
	Stuck    *metalog.BadEntry   // replay waits at this entry (torn or not yet visible)
	Problems []namespace.Problem // problems found by this call
	Added    []*namespace.Node   // nodes this call added to the tree, in log order
}

// Refresh applies the log entries appended since the last look. It stops at a
// torn entry and tries it again on the next call; in that case it returns the
// status and an error wrapping ErrLogDamaged.
func (f *FS) Refresh() (ReplayStatus, error) {
	h, err := f.log.Header()
	if err != nil {
		return ReplayStatus{}, fmt.Errorf("device %s: %w", f.dev.Path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.replayLocked(h)
}

func (f *FS) replayLocked(h omf.LogHeader) (ReplayStatus, error) {
	st := ReplayStatus{LogNext: h.NextIndex, Capacity: h.Capacity()}
	f.logCap = h.Capacity()
	nprob := len(f.tree.Problems())
	from := f.next
	if h.NextIndex > f.next {
		if limit := omf.EntriesFor(f.sb.LogLen); f.next < limit {
			f.tree.Grow(int(min(h.NextIndex, limit) - f.next))
		}
		var dec omf.EntryDecoder
		next, err := f.log.ReplayRaw(f.next, h.NextIndex, func(i uint64, raw []byte, _ error) {
			if n := f.tree.ApplyRaw(i, raw, &dec); n != nil {
				st.Added = append(st.Added, n)
			}
		})
		f.next = next
		f.stuck = nil
		var bad *metalog.BadEntry
		if errors.As(err, &bad) {
			f.stuck = bad
		} else if err != nil {
			return st, fmt.Errorf("device %s: replay: %w", f.dev.Path, err)
		}
	}
	st.Applied = f.next - from
	st.Next = f.next
	st.Stuck = f.stuck
	if ps := f.tree.Problems(); len(ps) > nprob {
		st.Problems = append([]namespace.Problem(nil), ps[nprob:]...)
		for _, p := range st.Problems {
			f.lg.Warn("famfs log problem", "device", f.dev.Path, "problem", p.String())
		}
	}
	if f.stuck != nil {
		return st, fmt.Errorf("device %s: %w: %v (replay waits there)", f.dev.Path, ErrLogDamaged, f.stuck)
	}
	return st, nil
}

// Changed is the cheap poll: it reports whether the log holds entries not yet
// applied, by loading only the header's next_index (after invalidating its
// cache line).
func (f *FS) Changed() (bool, error) {
	n, err := f.log.NextIndex()
	if err != nil {
		return false, err
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	return n != f.next || f.stuck != nil, nil
}

// CheckSuperblock re-reads the superblock from the device and reports
// ErrFSChanged if it is no longer the one this FS was opened with (the device
// was re-made, or its superblock damaged).
func (f *FS) CheckSuperblock() error {
	var b [omf.SuperblockSize]byte
	f.meta.Invalidate(0, omf.SuperblockSize)
	if err := f.meta.ReadAt(b[:], 0); err != nil {
		return err
	}
	sb, err := omf.ParseSuperblock(b[:])
	if err != nil {
		return fmt.Errorf("device %s: %w: %w", f.dev.Path, ErrFSChanged, err)
	}
	if sb.UUID != f.sb.UUID || sb.CRC != f.sb.CRC {
		return fmt.Errorf("device %s: %w: file system %s replaced %s", f.dev.Path, ErrFSChanged, sb.UUID, f.sb.UUID)
	}
	return nil
}

// View runs fn with read access to the namespace tree. fn must not keep the
// tree or modify it; nodes it returns stay valid (their fields never change).
func (f *FS) View(fn func(t *namespace.Tree)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.tree)
}

// LogStatus reports the replay position and log fill level without reading
// the device.
func (f *FS) LogStatus() (next uint64, capacity uint64, stuck *metalog.BadEntry) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.next, omf.EntriesFor(f.sb.LogLen), f.stuck
}

// Stats returns the namespace counters and space accounting.
func (f *FS) Stats() Usage {
	f.mu.RLock()
	defer f.mu.RUnlock()
	bm := f.tree.Bitmap()
	return Usage{Stats: f.tree.Stats(), Capacity: bm.Capacity(), Used: bm.UsedBytes(), Free: bm.FreeBytes()}
}

// Usage is capacity and free space plus the namespace counters.
type Usage struct {
	namespace.Stats
	Capacity uint64 // bytes the allocation bitmap covers
	Used     uint64 // allocated bytes, superblock and log included
	Free     uint64
}

// DefaultLogLen is the log length mkfs uses unless told otherwise (8 MiB).
const DefaultLogLen = omf.DefaultLogLen

// BucketStats reports allocation per bucket when the device is divided into n
// buckets the way interleaved allocation divides it.
func (f *FS) BucketStats(n int) []alloc.Bucket {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.tree.Bitmap().Buckets(n)
}

// ScanLog visits the log entries from index `from` up to the header's
// next_index, stopping at a torn entry like replay does (returned as
// *metalog.BadEntry). It reads the device afresh and changes nothing.
func (f *FS) ScanLog(from uint64, visit metalog.Visit) (next uint64, err error) {
	h, err := f.log.Header()
	if err != nil {
		return from, err
	}
	return f.log.Replay(from, h.NextIndex, visit)
}
