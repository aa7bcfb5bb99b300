package famfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/famfs-go/famfs/internal/participants"
)

// On a file system made for delete, every FS that reads or maps file data is
// a participant (docs/delete.md): it has a slot in the participant table in
// the shared memory and publishes there how far it has released deletes, so
// that the master reuses a deleted file's space only once nobody can reach
// it. This file is the FS's side of that: registration, holds, the
// published progress, the heartbeat, eviction, and the master's watermark.

// ParticipantKind is what an FS registers as.
type ParticipantKind int

const (
	// LibraryParticipant (the default) registers at the first data access
	// (Map, ReadAt, WriteAt, Hold).
	LibraryParticipant ParticipantKind = iota
	// DaemonParticipant registers at Open: a mount's daemon, which holds
	// files for its FUSE handles and preload leases. A dead daemon's slot is
	// never reaped (the programs it granted leases may still map files).
	DaemonParticipant
)

// HeartbeatInterval is how often a participant publishes when nothing else
// makes it publish.
const HeartbeatInterval = time.Second

// deleteWatchInterval is how often a registered participant looks at the log
// header for new DELETE entries, and publishes when it finds one, so that a
// participant holding nothing does not keep a delete's space from reuse
// until its next heartbeat. A look reads one cache line of the log header.
const deleteWatchInterval = 10 * time.Millisecond

// participation is an FS's participant state. Its mutex is taken before f.mu
// when both are needed, never after.
type participation struct {
	table *participants.Table // nil: not a file system made for delete
	mem   *device.Mapping     // the superblock region, where the table is

	mu      sync.Mutex
	self    *participants.Self // nil until registered (and after an eviction)
	epoch   uint64             // registrations so far; a Hold is valid in its own epoch
	holds   map[*namespace.Node]int
	scanned uint64            // DELETE entries below this log index are known
	pending map[int64]uint64  // target index -> index of a DELETE scanned but not yet replayed
	maps    map[*Mapping]bool // live Mappings, revoked on eviction
	stop    chan struct{}
	done    chan struct{}
	lastW   atomic.Uint64 // the master's last watermark

	evicted atomic.Bool
}

// initParticipation opens the participant table of a file system made for
// delete, and registers a daemon at once.
func (f *FS) initParticipation() error {
	if !f.sb.Reclaim() {
		return nil
	}
	p := &f.part
	write := f.dev.Writable && !f.opts.ReadOnly
	m, err := f.dev.Map(0, omf.SuperblockRegion, write)
	if err != nil {
		return err
	}
	t, err := participants.Open(tableMedia{m}, f.sb.UUID, participants.Options{RunDir: runDir()})
	if err != nil {
		m.Unmap()
		return fmt.Errorf("device %s: %w", f.dev.Path, err)
	}
	p.table, p.mem = t, m
	p.holds = map[*namespace.Node]int{}
	p.pending = map[int64]uint64{}
	p.maps = map[*Mapping]bool{}
	if f.opts.Participant == DaemonParticipant && write {
		p.mu.Lock()
		defer p.mu.Unlock()
		return f.registerLocked()
	}
	return nil
}

// runDir is where host-local lock files live (FAMFS_RUN_DIR for tests).
func runDir() string {
	if d := os.Getenv("FAMFS_RUN_DIR"); d != "" {
		return d
	}
	return "/run/famfs"
}

// tableMedia is the part of the superblock region the table lives in.
type tableMedia struct{ m *device.Mapping }

func (t tableMedia) ReadAt(p []byte, off uint64) error {
	return t.m.ReadAt(p, omf.ParticipantTableOffset+off)
}
func (t tableMedia) WriteAt(p []byte, off uint64) error {
	return t.m.WriteAt(p, omf.ParticipantTableOffset+off)
}
func (t tableMedia) Flush(off, n uint64)      { t.m.Flush(omf.ParticipantTableOffset+off, n) }
func (t tableMedia) Invalidate(off, n uint64) { t.m.Invalidate(omf.ParticipantTableOffset+off, n) }

// canRegister reports whether this FS may take a slot in the participant
// table (it writes there).
func (f *FS) canRegister() bool { return f.dev.Writable && !f.opts.ReadOnly }

// registerLocked claims a slot and starts the heartbeat. The caller holds
// p.mu. What this FS already replayed may be stale: the deletes logged since
// are scanned (not applied) right after the claim, so no hold is taken on a
// file that is already gone.
func (f *FS) registerLocked() error {
	p := &f.part
	if !f.canRegister() {
		return fmt.Errorf("device %s: reading file data on a file system made for delete needs a slot in its participant table, and the device was opened read-only", f.dev.Path)
	}
	next, err := f.log.NextIndex()
	if err != nil {
		return err
	}
	kind := participants.KindLibrary
	if f.opts.Participant == DaemonParticipant {
		kind = participants.KindDaemon
	}
	name := f.opts.ParticipantName
	if name == "" {
		name = filepath.Base(os.Args[0])
	}
	self, err := p.table.Register(participants.Identity{Kind: kind, Host: f.host, PID: uint32(os.Getpid()),
		Name: name, LeaseMs: uint32(f.opts.Lease / time.Millisecond)}, next)
	if err != nil {
		if errors.Is(err, participants.ErrFull) {
			return fmt.Errorf("device %s: %w: %v", f.dev.Path, ErrTableFull, err)
		}
		return fmt.Errorf("device %s: registering in the participant table: %w", f.dev.Path, err)
	}
	p.self = self
	p.epoch++
	p.evicted.Store(false)
	f.mu.RLock()
	p.scanned = f.next
	f.mu.RUnlock()
	if _, err := f.scanDeletesLocked(); err != nil {
		return err
	}
	if p.stop == nil {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go f.heartbeat(p.stop, p.done)
	}
	return f.publishLocked()
}

// scanDeletesLocked reads the DELETE entries logged past what is known, up
// to the log's next index, without applying anything, and reports whether it
// found any. It stops at a torn entry (replay waits there too). The caller
// holds p.mu.
func (f *FS) scanDeletesLocked() (found bool, err error) {
	p := &f.part
	next, err := f.log.NextIndex()
	if err != nil {
		return false, err
	}
	if next <= p.scanned {
		return false, nil
	}
	var dec omf.EntryDecoder
	var e omf.Entry
	at, err := f.log.ReplayRaw(p.scanned, next, func(i uint64, raw []byte, _ error) {
		if omf.EntryType(binary.LittleEndian.Uint32(raw[8:])) == omf.EntryDelete && dec.Decode(raw, &e) == nil {
			p.pending[int64(e.Delete.Target)] = i
			found = true
		}
	})
	p.scanned = max(p.scanned, at)
	if err != nil {
		if _, e := badEntryOf(err); e == nil {
			return found, nil // a torn entry: known up to it
		}
		return found, err
	}
	return found, nil
}

// deletedAtLocked reports the DELETE that removed n, replayed or scanned.
func (f *FS) deletedAtLocked(n *namespace.Node) (uint64, bool) {
	if d, ok := n.Deleted(); ok {
		return d, true
	}
	d, ok := f.part.pending[n.Index()]
	return d, ok
}

// releasedLocked is what this participant may publish as released.
func (f *FS) releasedLocked() (released, holds, bytes uint64) {
	p := &f.part
	released = p.scanned
	for n := range p.holds {
		if d, ok := f.deletedAtLocked(n); ok {
			released = min(released, d)
			holds++
			m := n.FMap()
			bytes += m.Backing()
		}
	}
	return released, holds, bytes
}

// publishLocked writes this participant's progress; an eviction found on the
// way stops it serving data until it registers again.
func (f *FS) publishLocked() error {
	p := &f.part
	if p.self == nil {
		return nil
	}
	f.mu.RLock()
	replayed := f.next
	f.mu.RUnlock()
	// Deletes the replay has applied need no scanned record any more.
	for t, d := range p.pending {
		if d < replayed {
			delete(p.pending, t)
		}
	}
	p.scanned = max(p.scanned, replayed)
	released, holds, bytes := f.releasedLocked()
	err := p.self.Publish(participants.Progress{Replayed: replayed, Released: released, Holds: holds, HeldBytes: bytes})
	if errors.Is(err, participants.ErrEvicted) {
		f.evictedLocked(err)
		return fmt.Errorf("device %s: %w", f.dev.Path, ErrEvicted)
	}
	return err
}

// evictedLocked stops serving data: every Mapping is made inaccessible and
// every Hold invalid; the next hold registers again.
func (f *FS) evictedLocked(why error) {
	p := &f.part
	f.lg.Error("evicted from the participant table: serving no data until registered again", "device", f.dev.Path, "err", why)
	p.evicted.Store(true)
	p.self = nil
	for m := range p.maps {
		m.m.Revoke()
	}
	clear(p.maps)
	clear(p.holds)
}

// heartbeat publishes at least every HeartbeatInterval, and lets a daemon
// reap the slots of dead library processes on its kernel.
func (f *FS) heartbeat(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(HeartbeatInterval)
	defer t.Stop()
	w := time.NewTicker(deleteWatchInterval)
	defer w.Stop()
	p := &f.part
	for {
		select {
		case <-stop:
			return
		case <-w.C:
			p.mu.Lock()
			if p.self != nil {
				if found, _ := f.scanDeletesLocked(); found {
					f.publishLocked()
				}
			}
			p.mu.Unlock()
			continue
		case <-t.C:
		}
		p.mu.Lock()
		if p.self != nil {
			f.scanDeletesLocked()
			f.publishLocked()
		}
		p.mu.Unlock()
		if f.opts.Participant == DaemonParticipant {
			p.table.Reap()
		}
	}
}

// afterReplay publishes the progress a replay made (called without f.mu).
func (f *FS) afterReplay() {
	p := &f.part
	if p.table == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.self != nil {
		f.publishLocked()
	}
}

// hold is File.Hold.
func (f *FS) hold(fl *File) (*Hold, error) {
	p := &f.part
	if p.table == nil {
		return &Hold{}, nil
	}
	n := fl.node
	if n == nil {
		return nil, pathErr("hold", fl.info.Path, fmt.Errorf("%w: not a file of the namespace", ErrNotExist))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.self == nil && f.lease.covers(fl.info.Ino) {
		// The mount's daemon holds it for this FS's grant lease
		// (OpenMounted), which lives until the FS is closed and its
		// Mappings are unmapped; a user the mount trusts with the device
		// need not be one who may write the host's participant locks.
		return &Hold{}, nil
	}
	if p.self == nil {
		if err := f.registerLocked(); err != nil {
			return nil, pathErr("hold", fl.info.Path, err)
		}
	}
	if _, err := f.scanDeletesLocked(); err != nil {
		return nil, pathErr("hold", fl.info.Path, err)
	}
	f.mu.RLock()
	d, deleted := f.deletedAtLocked(n)
	f.mu.RUnlock()
	if deleted && p.holds[n] == 0 {
		return nil, pathErr("hold", fl.info.Path, fmt.Errorf("%w (log entry %d)", ErrDeleted, d))
	}
	p.holds[n]++
	epoch := p.epoch
	return &Hold{epoch: epoch, fs: f, release: func() { f.unhold(n, epoch) }}, nil
}

// unhold ends one hold of n; the last hold of a deleted file publishes at
// once, so its space becomes reusable without waiting for the heartbeat.
func (f *FS) unhold(n *namespace.Node, epoch uint64) {
	p := &f.part
	p.mu.Lock()
	defer p.mu.Unlock()
	if epoch != p.epoch || p.holds[n] == 0 {
		return // the holds were dropped by an eviction
	}
	p.holds[n]--
	if p.holds[n] > 0 {
		return
	}
	delete(p.holds, n)
	// Look for a delete of n logged since the last scan: a holder that
	// releases a file the master has just deleted publishes at once rather
	// than at its next heartbeat.
	f.scanDeletesLocked()
	f.mu.RLock()
	_, deleted := f.deletedAtLocked(n)
	f.mu.RUnlock()
	if deleted {
		f.publishLocked()
	}
}

// valid reports whether a hold of epoch still protects its file.
func (f *FS) validHold(epoch uint64) bool {
	p := &f.part
	if p.table == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.evicted.Load() && epoch == p.epoch
}

// trackMapping adds (or drops) a live Mapping, which an eviction revokes.
func (f *FS) trackMapping(m *Mapping, live bool) {
	p := &f.part
	if p.table == nil || m.hold == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if live {
		p.maps[m] = true
	} else {
		delete(p.maps, m)
	}
}

// leave ends the participation at Close.
func (f *FS) leave() {
	p := &f.part
	if p.table == nil {
		return
	}
	if p.stop != nil {
		close(p.stop)
		<-p.done
	}
	p.mu.Lock()
	if p.self != nil {
		p.self.Leave()
		p.self = nil
	}
	p.mu.Unlock()
	p.mem.Unmap()
}

// heldPending marks in use, in the allocator's session copy, the space of
// every delete a participant may still reach (docs/delete.md, "Reuse"). The
// caller holds the log lock and f.mu.
func (f *FS) reservePendingLocked() error {
	p := &f.part
	pend := f.tree.Pending()
	if p.table == nil || len(pend) == 0 || pend[len(pend)-1].Index < p.lastW.Load() {
		return nil
	}
	w, _, err := p.table.Watermark(f.next)
	if err != nil {
		return fmt.Errorf("device %s: participant table: %w", f.dev.Path, err)
	}
	p.lastW.Store(max(p.lastW.Load(), w))
	for _, x := range pend {
		if x.Index >= w {
			for _, e := range x.Extents {
				f.alloc.Reserve(e.Offset, e.Len)
			}
		}
	}
	return nil
}

// formatParticipants writes an empty participant table into the superblock
// region of a new file system made for delete (docs/delete.md).
func formatParticipants(meta *device.Mapping) error {
	return participants.Format(tableMedia{meta})
}

// refuseLiveParticipants fails when the file system old, about to be
// replaced, has participants registered that may still map its files.
func refuseLiveParticipants(dev *device.Device, old *omf.Superblock) error {
	m, err := dev.Map(0, omf.SuperblockRegion, dev.Writable)
	if err != nil {
		return err
	}
	defer m.Unmap()
	t, err := participants.Open(tableMedia{m}, old.UUID, participants.Options{RunDir: runDir()})
	if err != nil {
		return nil // no readable table: nobody can be registered in it
	}
	t.Reap()
	es, err := t.List()
	if err != nil {
		return err
	}
	var live []string
	for _, e := range es {
		if e.Blocks() {
			live = append(live, e.String())
		}
	}
	if len(live) > 0 {
		return fmt.Errorf("device %s: %d participant(s) registered in the file system's table may still map its files: %v; unmount them or evict them (famfs evict), or force with --force-participants", dev.Path, len(live), live)
	}
	return nil
}
