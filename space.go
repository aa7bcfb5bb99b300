package famfs

import (
	"fmt"
	"slices"
	"time"

	"github.com/famfs-go/famfs/internal/alloc"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/participants"
	"github.com/google/uuid"
)

// Space is how a file system's memory is used (docs/delete.md, "Reporting").
type Space struct {
	Capacity uint64 `json:"capacity_bytes"` // the data area: the device less the superblock and log
	InUse    uint64 `json:"in_use_bytes"`   // allocated to files in the namespace
	Waiting  uint64 `json:"waiting_bytes"`  // freed by deletes, not yet reusable: a participant may still reach it
	Free     uint64 `json:"free_bytes"`     // free for new files
	// Holders are the participants that keep the waiting space from reuse.
	Holders []Participant `json:"holders"`
}

// Participant is one slot of the participant table (docs/delete.md).
type Participant struct {
	Slot       int       `json:"slot"`
	Gen        uint64    `json:"gen"`
	State      string    `json:"state"` // claiming, active, evicted
	Kind       string    `json:"kind"`  // daemon, library
	Host       uuid.UUID `json:"host"`  // its system UUID
	Boot       uuid.UUID `json:"boot_id"`
	PID        uint32    `json:"pid"`
	Name       string    `json:"name"`
	Registered uint64    `json:"registered_index"`
	Replayed   uint64    `json:"replayed_index"`
	Released   uint64    `json:"released_index"` // as the master reckons it
	// Heartbeat is the participant's last publication (zero if none).
	Heartbeat    time.Time     `json:"heartbeat"`
	HeartbeatAge time.Duration `json:"-"`
	Lease        time.Duration `json:"-"`
	Holds        uint64        `json:"holds"`      // deleted files it still holds, as it says
	HeldBytes    uint64        `json:"held_bytes"` // their allocated bytes
	Torn         bool          `json:"torn"`       // its identity fails its CRC: blocks all reuse
	Expired      bool          `json:"expired"`    // its lease ran out: left out
	Dead         bool          `json:"dead"`       // a library process on this kernel that is gone: reaped at the next look
	Blocking     bool          `json:"blocking"`   // it holds back reuse of some deleted file's space
	// Waiting lists the deletes whose space it holds back.
	Waiting []WaitingDelete `json:"waiting"`
}

// WaitingDelete is a delete whose space waits for participants.
type WaitingDelete struct {
	Index uint64 `json:"index"` // the DELETE entry
	Path  string `json:"path"`
	Bytes uint64 `json:"bytes"`
}

func (p Participant) String() string {
	return fmt.Sprintf("slot %d (%s %s of host %s, pid %d, %s)", p.Slot, p.State, p.Kind, p.Host, p.PID, Printable(p.Name))
}

// participantOf converts a table entry.
func participantOf(e participants.Entry, now time.Time) Participant {
	p := Participant{Slot: e.Slot, Gen: e.ID.Gen, State: e.ID.State.String(), Kind: e.ID.Kind.String(),
		Host: e.ID.Host, Boot: e.ID.Boot, PID: e.ID.PID, Name: e.ID.Name, Registered: e.ID.Registered,
		Released: e.EffectiveReleased, Lease: time.Duration(e.ID.LeaseMs) * time.Millisecond,
		Torn: e.Torn, Expired: e.Expired, Dead: e.Dead}
	if e.ProgressValid {
		p.Replayed, p.Holds, p.HeldBytes = e.Progress.Replayed, e.Progress.Holds, e.Progress.HeldBytes
		p.Heartbeat = time.Unix(0, int64(e.Progress.HeartbeatNs))
		p.HeartbeatAge = now.Sub(p.Heartbeat)
	}
	return p
}

// Participants lists every slot of the participant table that is not free,
// with what each holds back (empty on a file system made without delete).
func (f *FS) Participants() ([]Participant, error) {
	ps, _, err := f.participants()
	return ps, err
}

// participants reads the table and matches the pending frees against it.
func (f *FS) participants() ([]Participant, []WaitingDelete, error) {
	p := &f.part
	if p.table == nil {
		return []Participant{}, []WaitingDelete{}, nil
	}
	es, err := p.table.List()
	if err != nil {
		return nil, nil, fmt.Errorf("device %s: participant table: %w", f.dev.Path, err)
	}
	f.mu.RLock()
	rk := reckon(es, f.tree.Pending(), f.tree.Bitmap(), f.next, time.Now())
	f.mu.RUnlock()
	return rk.parts, rk.waiting, nil
}

// reckoning is the participant table matched against the pending frees of
// a namespace: who holds what back, and what waits.
type reckoning struct {
	parts   []Participant
	w       uint64          // the watermark
	waiting []WaitingDelete // the pending frees at or above w, less what later files took
	// reused lists the pending frees that later files already occupy in
	// part although an intact slot has not released them: space reused
	// while a participant may still reach it.
	reused []WaitingDelete
}

func reckon(es []participants.Entry, pend []namespace.Pending, bm *alloc.Bitmap, next uint64, now time.Time) reckoning {
	var rk reckoning
	rk.w, _ = participants.Lowest(es, next)
	// A slot torn now says nothing of when the space was reused.
	wIntact, _ := participants.Lowest(slices.DeleteFunc(slices.Clone(es), func(e participants.Entry) bool { return e.Torn }), next)
	var all []WaitingDelete
	for _, x := range pend {
		// Space already given to a later file no longer waits.
		var free, taken uint64
		for _, e := range x.Extents {
			for u := e.Offset / bm.AllocUnit(); u < (e.Offset+e.Len)/bm.AllocUnit(); u++ {
				if bm.Test(u) {
					taken += bm.AllocUnit()
				} else {
					free += bm.AllocUnit()
				}
			}
		}
		if free > 0 {
			all = append(all, WaitingDelete{Index: x.Index, Path: x.Path, Bytes: free})
		}
		if taken > 0 && x.Index >= wIntact {
			rk.reused = append(rk.reused, WaitingDelete{Index: x.Index, Path: x.Path, Bytes: taken})
		}
	}
	rk.parts = make([]Participant, 0, len(es))
	for _, e := range es {
		q := participantOf(e, now)
		q.Waiting = []WaitingDelete{}
		if e.Blocks() {
			for _, w := range all {
				if w.Index >= q.Released {
					q.Waiting = append(q.Waiting, w)
				}
			}
		}
		q.Blocking = len(q.Waiting) > 0
		rk.parts = append(rk.parts, q)
	}
	rk.waiting = []WaitingDelete{}
	for _, x := range all {
		if x.Index >= rk.w {
			rk.waiting = append(rk.waiting, x)
		}
	}
	return rk
}

// Space reports free, in-use and waiting space and who holds the waiting
// space (docs/delete.md, "Reporting").
func (f *FS) Space() (Space, error) {
	ps, waiting, err := f.participants()
	if err != nil {
		return Space{}, err
	}
	f.mu.RLock()
	bm := f.tree.Bitmap()
	capacity := bm.Capacity() - f.sb.MetaSize()
	used := bm.UsedBytes() - f.sb.MetaSize()
	f.mu.RUnlock()
	var w uint64
	for _, x := range waiting {
		w += x.Bytes
	}
	sp := Space{Capacity: capacity, InUse: used, Waiting: w, Free: capacity - used - min(w, capacity-used), Holders: []Participant{}}
	for _, p := range ps {
		if p.Blocking {
			sp.Holders = append(sp.Holders, p)
		}
	}
	return sp, nil
}

// Evict declares participant slot dead (docs/delete.md, "Dead participants"):
// its holds no longer keep space from reuse, and if it runs again it serves
// no data until it registers anew. gen, when non-zero, must be the slot's
// generation (so that a slot re-claimed meanwhile is not evicted). Only the
// master may evict.
func (f *FS) Evict(slot int, gen uint64) error {
	if f.role != Master {
		return ErrNotMaster
	}
	if f.part.table == nil {
		return ErrNoReclaim
	}
	if err := f.part.table.Evict(slot, gen); err != nil {
		return fmt.Errorf("device %s: evict slot %d: %w", f.dev.Path, slot, err)
	}
	f.part.lastW.Store(0) // the watermark may rise: look again
	return nil
}
