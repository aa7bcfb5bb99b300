// Package participants owns the participant table of a famfs file system
// made for delete (docs/delete.md, "The participant table"): claiming a slot
// without any cross-host atomic operation, publishing progress, listing the
// slots, the master's watermark, eviction, and the reaping of dead library
// processes on this kernel. The byte layout is omf's; this package adds the
// protocol: which lines are written, flushed and invalidated, when, by whom,
// and the host-local locks that stand for a process's life.
package participants

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

// Media is the memory the table lives in, offsets relative to the table
// header. Loads see this host's cache: Invalidate first; stores stay in it
// until Flush.
type Media interface {
	ReadAt(p []byte, off uint64) error
	WriteAt(p []byte, off uint64) error
	Flush(off, n uint64)
	Invalidate(off, n uint64)
}

var (
	// ErrFull: no slot is free, evicted or reapable.
	ErrFull = errors.New("participant table full")
	// ErrEvicted: the slot is no longer this participant's (evicted,
	// reaped or taken), or its lease ran out while it was not running.
	ErrEvicted = errors.New("evicted from the participant table")
)

// Kinds of participant.
const (
	KindDaemon  = omf.KindDaemon
	KindLibrary = omf.KindLibrary
)

// Options tune a Table; the zero value is right outside tests.
type Options struct {
	RunDir string        // host-local lock files live in RunDir/<fs uuid>; default /run/famfs
	BootID uuid.UUID     // this kernel; default /proc/sys/kernel/random/boot_id
	Settle time.Duration // how long a claim waits before it checks it won; default 5 ms
}

// Table is the participant table of one file system.
type Table struct {
	m    Media
	dir  string
	boot uuid.UUID
	o    Options
}

// fence orders this process's stores before its later loads: the claim
// protocol stores its slot and then loads the log, as the master stores the
// log and then loads the table (a locked instruction on amd64).
var fenceWord atomic.Uint64

func fence() { fenceWord.Add(1) }

// Format writes an empty table: the header and every slot zero.
func Format(m Media) error {
	b := make([]byte, omf.ParticipantTableSize)
	omf.EncodeParticipantHeader(b)
	if err := m.WriteAt(b, 0); err != nil {
		return err
	}
	m.Flush(0, uint64(len(b)))
	fence()
	return nil
}

// Open checks the table header of the file system fsUUID in m.
func Open(m Media, fsUUID uuid.UUID, o Options) (*Table, error) {
	var h [omf.ParticipantHeaderSize]byte
	m.Invalidate(0, uint64(len(h)))
	if err := m.ReadAt(h[:], 0); err != nil {
		return nil, err
	}
	if err := omf.CheckParticipantHeader(h[:]); err != nil {
		return nil, err
	}
	if o.RunDir == "" {
		o.RunDir = "/run/famfs"
	}
	if o.BootID == uuid.Nil {
		o.BootID = BootID()
	}
	if o.Settle == 0 {
		o.Settle = 5 * time.Millisecond
	}
	return &Table{m: m, dir: filepath.Join(o.RunDir, fsUUID.String()), boot: o.BootID, o: o}, nil
}

// BootID is this kernel's boot id (uuid.Nil if it cannot be read).
func BootID() uuid.UUID {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return uuid.Nil
	}
	id, _ := uuid.Parse(strings.TrimSpace(string(b)))
	return id
}

// Identity is who registers.
type Identity struct {
	Kind    omf.ParticipantKind
	Host    uuid.UUID // system UUID
	PID     uint32
	Name    string
	LeaseMs uint32 // 0: never expires
}

// Progress is what a participant publishes.
type Progress struct {
	Replayed, Released uint64
	Holds, HeldBytes   uint64
}

// Self is this process's slot.
type Self struct {
	t       *Table
	slot    int
	id      omf.SlotIdentity
	lock    *os.File
	seq     uint64
	lastPub time.Time
}

// Slot is the slot number; Gen its generation.
func (s *Self) Slot() int   { return s.slot }
func (s *Self) Gen() uint64 { return s.id.Gen }

// readIdentity loads slot i's identity, invalidating it first and once more
// on a CRC mismatch (a write in flight).
func (t *Table) readIdentity(i int) (omf.SlotIdentity, error) {
	var b [omf.SlotIdentitySize]byte
	off := omf.SlotOffset(i)
	var id omf.SlotIdentity
	var err error
	for try := 0; try < 2; try++ {
		t.m.Invalidate(off, uint64(len(b)))
		if err = t.m.ReadAt(b[:], off); err != nil {
			return id, err
		}
		if id, err = omf.DecodeSlotIdentity(b[:]); err == nil {
			return id, nil
		}
	}
	return id, err
}

func (t *Table) writeIdentity(i int, id *omf.SlotIdentity) error {
	var b [omf.SlotIdentitySize]byte
	id.Encode(b[:])
	off := omf.SlotOffset(i)
	if err := t.m.WriteAt(b[:], off); err != nil {
		return err
	}
	t.m.Flush(off, uint64(len(b)))
	fence()
	return nil
}

func (t *Table) writeProgress(i int, p *omf.SlotProgress) error {
	var b [omf.SlotProgressSize]byte
	p.Encode(b[:])
	off := omf.SlotOffset(i) + omf.SlotProgressOffset
	if err := t.m.WriteAt(b[:], off); err != nil {
		return err
	}
	t.m.Flush(off, uint64(len(b)))
	fence()
	return nil
}

// lockPath is the host-local lock file of slot i, or of claiming (i < 0).
func (t *Table) lockPath(i int) string {
	if i < 0 {
		return filepath.Join(t.dir, "claim.lock")
	}
	return filepath.Join(t.dir, fmt.Sprintf("slot-%d.lock", i))
}

// lock takes an exclusive flock on path (blocking unless try); nil, nil when
// try finds it taken.
func lock(path string, try bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if try {
		how |= syscall.LOCK_NB
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, err
	}
	return f, nil
}

// claimLock serialises claimants and reapers on this kernel.
func (t *Table) claimLock() (*os.File, error) {
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return nil, err
	}
	return lock(t.lockPath(-1), false)
}

// Register claims a slot for id (docs/delete.md, "Claim"); registered is the
// log's next index read before the call.
func (t *Table) Register(id Identity, registered uint64) (*Self, error) {
	cl, err := t.claimLock()
	if err != nil {
		return nil, fmt.Errorf("participant table: claim lock: %w", err)
	}
	defer cl.Close()
	t.reapLocked()
	start := rand.IntN(omf.ParticipantSlots)
	for k := 0; k < omf.ParticipantSlots; k++ {
		i := (start + k) % omf.ParticipantSlots
		cur, err := t.readIdentity(i)
		if err != nil || cur.State != omf.SlotFree && cur.State != omf.SlotEvicted {
			continue
		}
		lk, err := lock(t.lockPath(i), true)
		if err != nil {
			return nil, fmt.Errorf("participant table: slot lock: %w", err)
		}
		if lk == nil {
			continue // a process of this kernel holds it still
		}
		self, ok, err := t.claim(i, cur.Gen, id, registered)
		if err != nil || !ok {
			lk.Close()
			if err != nil {
				return nil, err
			}
			continue
		}
		self.lock = lk
		return self, nil
	}
	return nil, fmt.Errorf("%w: all %d slots are taken (famfs hosts lists them; famfs evict frees the dead ones)", ErrFull, omf.ParticipantSlots)
}

// claim writes a claim into slot i, waits, and checks it won the slot.
func (t *Table) claim(i int, oldGen uint64, id Identity, registered uint64) (*Self, bool, error) {
	now := time.Now()
	sid := omf.SlotIdentity{State: omf.SlotClaiming, Kind: id.Kind, Gen: oldGen + 1, Nonce: rand.Uint64() | 1,
		Registered: registered, Host: id.Host, Boot: t.boot, PID: id.PID, LeaseMs: id.LeaseMs,
		ClaimedNs: uint64(now.UnixNano()), Name: truncate(id.Name, omf.SlotNameSize)}
	pg := omf.SlotProgress{Gen: sid.Gen, Replayed: registered, Released: registered, HeartbeatNs: uint64(now.UnixNano()), Seq: 1}
	if err := t.writeProgress(i, &pg); err != nil {
		return nil, false, err
	}
	if err := t.writeIdentity(i, &sid); err != nil {
		return nil, false, err
	}
	time.Sleep(t.o.Settle)
	got, err := t.readIdentity(i)
	if err != nil || got.Nonce != sid.Nonce || got.Gen != sid.Gen {
		return nil, false, nil // another kernel wrote the slot in the same instant
	}
	sid.State = omf.SlotActive
	if err := t.writeIdentity(i, &sid); err != nil {
		return nil, false, err
	}
	return &Self{t: t, slot: i, id: sid, seq: 1, lastPub: now}, true, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Publish writes the progress line, after checking that the slot is still
// this participant's; ErrEvicted (and nothing written) otherwise.
func (s *Self) Publish(p Progress) error {
	t := s.t
	cur, err := t.readIdentity(s.slot)
	switch {
	case err != nil:
		return fmt.Errorf("%w: slot %d: %v", ErrEvicted, s.slot, err)
	case cur.State != omf.SlotActive || cur.Gen != s.id.Gen || cur.Nonce != s.id.Nonce:
		return fmt.Errorf("%w: slot %d is %s, generation %d (ours was %d)", ErrEvicted, s.slot, cur.State, cur.Gen, s.id.Gen)
	}
	now := time.Now()
	if lease := time.Duration(s.id.LeaseMs) * time.Millisecond; lease > 0 && now.Sub(s.lastPub) > lease {
		return fmt.Errorf("%w: slot %d: the lease of %v ran out %v ago while this participant did not run", ErrEvicted, s.slot, lease, now.Sub(s.lastPub)-lease)
	}
	s.seq++
	pg := omf.SlotProgress{Gen: s.id.Gen, Replayed: p.Replayed, Released: p.Released, HeartbeatNs: uint64(now.UnixNano()),
		Seq: s.seq, Holds: p.Holds, HeldBytes: p.HeldBytes}
	if err := t.writeProgress(s.slot, &pg); err != nil {
		return err
	}
	s.lastPub = now
	return nil
}

// Leave frees the slot (if it is still this participant's) and its lock.
func (s *Self) Leave() error {
	t := s.t
	var err error
	if cur, e := t.readIdentity(s.slot); e == nil && cur.Gen == s.id.Gen && cur.Nonce == s.id.Nonce {
		cur.State, cur.Gen = omf.SlotFree, cur.Gen+1
		err = t.writeIdentity(s.slot, &cur)
	}
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
	return err
}

// Entry is one slot as the table shows it.
type Entry struct {
	Slot          int
	ID            omf.SlotIdentity
	Progress      omf.SlotProgress
	ProgressValid bool  // its CRC holds and it was written under the identity's generation
	Torn          bool  // the identity fails its CRC (ID is then zero)
	TornErr       error // why
	Expired       bool  // it has a lease and its last heartbeat is older
	Dead          bool  // a library process of this kernel that is gone
	// EffectiveReleased is what the master reckons it released: the
	// progress's released when valid, else the identity's registered index;
	// 0 for a torn slot.
	EffectiveReleased uint64
}

// Blocks reports whether the slot counts in the watermark.
func (e Entry) Blocks() bool {
	if e.Torn {
		return true
	}
	return (e.ID.State == omf.SlotClaiming || e.ID.State == omf.SlotActive) && !e.Expired && !e.Dead
}

func (e Entry) String() string {
	if e.Torn {
		return fmt.Sprintf("slot %d (torn: %v)", e.Slot, e.TornErr)
	}
	return fmt.Sprintf("slot %d (%s %s of host %s, pid %d, %s)", e.Slot, e.ID.State, e.ID.Kind, e.ID.Host, e.ID.PID, e.ID.Name)
}

// List returns every slot that is not free.
func (t *Table) List() ([]Entry, error) {
	b := make([]byte, omf.ParticipantSlots*omf.ParticipantSlotSize)
	t.m.Invalidate(omf.ParticipantHeaderSize, uint64(len(b)))
	if err := t.m.ReadAt(b, omf.ParticipantHeaderSize); err != nil {
		return nil, err
	}
	now := time.Now()
	var out []Entry
	for i := 0; i < omf.ParticipantSlots; i++ {
		raw := b[i*omf.ParticipantSlotSize : (i+1)*omf.ParticipantSlotSize]
		id, err := omf.DecodeSlotIdentity(raw)
		if err != nil {
			// once more, alone: a write may have been in flight
			if id, err = t.readIdentity(i); err != nil {
				out = append(out, Entry{Slot: i, Torn: true, TornErr: err})
				continue
			}
			var line [omf.SlotProgressSize]byte
			t.ReadProgress(i, line[:])
			copy(raw[omf.SlotProgressOffset:], line[:])
		}
		if id.State == omf.SlotFree {
			continue
		}
		e := Entry{Slot: i, ID: id, EffectiveReleased: id.Registered}
		if pg, err := omf.DecodeSlotProgress(raw[omf.SlotProgressOffset:]); err == nil && pg.Gen == id.Gen {
			e.Progress, e.ProgressValid, e.EffectiveReleased = pg, true, pg.Released
		}
		if lease := time.Duration(id.LeaseMs) * time.Millisecond; lease > 0 {
			last := id.ClaimedNs
			if e.ProgressValid {
				last = e.Progress.HeartbeatNs
			}
			e.Expired = now.Sub(time.Unix(0, int64(last))) > lease
		}
		e.Dead = t.dead(id, i)
		out = append(out, e)
	}
	return out, nil
}

// ReadProgress loads slot i's progress line into b, invalidating it first.
func (t *Table) ReadProgress(i int, b []byte) error {
	off := omf.SlotOffset(i) + omf.SlotProgressOffset
	t.m.Invalidate(off, omf.SlotProgressSize)
	return t.m.ReadAt(b[:omf.SlotProgressSize], off)
}

// dead reports whether slot i is a library process of this kernel that is
// gone: nobody holds its slot lock. A daemon is never dead by this test
// (docs/delete.md, "Dead participants").
func (t *Table) dead(id omf.SlotIdentity, i int) bool {
	if id.Kind != omf.KindLibrary || id.Boot != t.boot || t.boot == uuid.Nil ||
		id.State != omf.SlotActive && id.State != omf.SlotClaiming {
		return false
	}
	if _, err := os.Stat(t.dir); err != nil {
		return false // no lock directory here: cannot tell
	}
	lk, err := lock(t.lockPath(i), true)
	if err != nil || lk == nil {
		return false
	}
	lk.Close()
	return true
}

// Reap frees the slots of dead library processes of this kernel and
// returns how many.
func (t *Table) Reap() int {
	cl, err := t.claimLock()
	if err != nil {
		return 0
	}
	defer cl.Close()
	return t.reapLocked()
}

func (t *Table) reapLocked() int {
	es, err := t.List()
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range es {
		if !e.Dead {
			continue
		}
		lk, err := lock(t.lockPath(e.Slot), true)
		if err != nil || lk == nil {
			continue
		}
		if cur, err := t.readIdentity(e.Slot); err == nil && cur.Gen == e.ID.Gen && cur.Nonce == e.ID.Nonce {
			cur.State, cur.Gen = omf.SlotFree, cur.Gen+1
			if t.writeIdentity(e.Slot, &cur) == nil {
				n++
			}
		}
		lk.Close()
	}
	return n
}

// Watermark reaps, then returns W, the lowest released index of the slots
// that count (docs/delete.md, "Reuse"), logNext when none does, and the
// slots that hold it below logNext.
func (t *Table) Watermark(logNext uint64) (uint64, []Entry, error) {
	t.Reap()
	es, err := t.List()
	if err != nil {
		return 0, nil, err
	}
	w, holders := Lowest(es, logNext)
	return w, holders, nil
}

// Lowest is the watermark of listed slots: the lowest released index of the
// slots that count, logNext when none does, and the slots below logNext.
func Lowest(es []Entry, logNext uint64) (uint64, []Entry) {
	w := logNext
	var holders []Entry
	for _, e := range es {
		if e.Blocks() {
			if e.EffectiveReleased < logNext {
				holders = append(holders, e)
			}
			w = min(w, e.EffectiveReleased)
		}
	}
	return w, holders
}

// Evict marks slot evicted (docs/delete.md, "Dead participants"); gen, when
// non-zero, must be its generation.
func (t *Table) Evict(slot int, gen uint64) error {
	if slot < 0 || slot >= omf.ParticipantSlots {
		return fmt.Errorf("slot %d: the table has slots 0 to %d", slot, omf.ParticipantSlots-1)
	}
	cur, err := t.readIdentity(slot)
	if err != nil {
		// A torn slot can only be cleared: write a fresh evicted identity.
		cur = omf.SlotIdentity{}
	} else {
		switch {
		case cur.State == omf.SlotFree:
			return fmt.Errorf("slot %d is free", slot)
		case cur.State == omf.SlotEvicted:
			return fmt.Errorf("slot %d is already evicted", slot)
		case gen != 0 && cur.Gen != gen:
			return fmt.Errorf("slot %d has generation %d, not %d (claimed again since)", slot, cur.Gen, gen)
		}
	}
	cur.State, cur.Gen = omf.SlotEvicted, cur.Gen+1
	return t.writeIdentity(slot, &cur)
}
