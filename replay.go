package famfs

import (
	"fmt"

	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
)

// ReplayStatus describes the replay position after Refresh.
type ReplayStatus struct {
	Applied  uint64    // entries applied by this call
	Next     uint64    // entries below this index are applied
	LogNext  uint64    // the log header's next_index
	Capacity uint64    // entry slots in the log
	Stuck    *BadEntry // replay waits at this entry (torn or not yet visible)
	Problems []Problem // problems found by this call
	Added    []Node    // nodes this call added to the namespace, in log order
	Removed  []Node    // nodes this call deleted, in log order
}

// Refresh applies the log entries appended since the last look. It stops at a
// torn entry and tries it again on the next call; in that case it returns the
// status and an error wrapping ErrLogDamaged.
func (f *FS) Refresh() (ReplayStatus, error) { return f.refresh(true) }

// refresh is Refresh; without added it leaves ReplayStatus.Added empty (Open
// and a writer catching up have no use for a node list as long as the log).
func (f *FS) refresh(added bool) (ReplayStatus, error) {
	h, err := f.log.Header()
	if err != nil {
		return ReplayStatus{}, fmt.Errorf("device %s: %w", f.dev.Path, err)
	}
	f.mu.Lock()
	st, err := f.replayLocked(h, added)
	f.mu.Unlock()
	if st.Applied > 0 {
		f.afterReplay()
	}
	return st, err
}

// replayInto applies log entries [from, to) to t, sized for them first, and
// calls added (if set) with each node an entry made. It is every replay's
// loop: Open's, a refresh's and Rescan's.
func (f *FS) replayInto(t *namespace.Tree, from, to uint64, added func(*namespace.Node)) (next uint64, err error) {
	if limit := omf.EntriesFor(f.sb.LogLen); from < limit && to > from {
		t.Grow(int(min(to, limit) - from))
	}
	var dec omf.EntryDecoder
	return f.log.ReplayRaw(from, to, func(i uint64, raw []byte, _ error) {
		if n := t.ApplyRaw(i, raw, &dec); n != nil && added != nil {
			added(n)
		}
	})
}

func (f *FS) replayLocked(h omf.LogHeader, added bool) (ReplayStatus, error) {
	st := ReplayStatus{LogNext: h.NextIndex, Capacity: h.Capacity()}
	f.logCap = h.Capacity()
	nprob := len(f.tree.Problems())
	from := f.next
	if h.NextIndex > f.next {
		var collect func(*namespace.Node)
		if added {
			collect = func(n *namespace.Node) { st.Added = append(st.Added, Node{fs: f, n: n}) }
		}
		next, err := f.replayInto(f.tree, f.next, h.NextIndex, collect)
		f.next = next
		f.stuck, err = badEntryOf(err)
		if err != nil {
			return st, fmt.Errorf("device %s: replay: %w", f.dev.Path, err)
		}
	}
	if gone := f.tree.TakeRemoved(); added {
		for _, n := range gone {
			st.Removed = append(st.Removed, Node{fs: f, n: n})
		}
	}
	st.Applied = f.next - from
	st.Next = f.next
	st.Stuck = f.stuck
	if ps := f.tree.Problems(); len(ps) > nprob {
		st.Problems = problemsOf(ps[nprob:])
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

// Problems lists every problem replay has reported so far, in log order.
func (f *FS) Problems() []Problem {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return problemsOf(f.tree.Problems())
}

// LogStatus reports the replay position and log fill level without reading
// the device.
func (f *FS) LogStatus() (next uint64, capacity uint64, stuck *BadEntry) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.next, omf.EntriesFor(f.sb.LogLen), f.stuck
}

// Stats returns the namespace counters and space accounting.
func (f *FS) Stats() Usage {
	f.mu.RLock()
	defer f.mu.RUnlock()
	bm := f.tree.Bitmap()
	return Usage{Counts: countsOf(f.tree.Stats()), Capacity: bm.Capacity(), Used: bm.UsedBytes(), Free: bm.FreeBytes(),
		Problems: len(f.tree.Problems()), Evicted: f.part.evicted.Load()}
}

// Usage is capacity and free space plus the namespace counters.
type Usage struct {
	Counts
	Capacity uint64 // bytes the allocation bitmap covers
	Used     uint64 // allocated bytes, superblock and log included
	Free     uint64
	Problems int // replay problems so far (Problems lists them)
	// Evicted: on a file system made for delete, this FS found itself
	// evicted from the participant table; it serves no data until it
	// registers again, at its next hold.
	Evicted bool
}

// ScanLog visits the log entries from index `from` up to the header's
// next_index, stopping at a torn entry like replay does (returned as a
// *BadEntry). It reads the device afresh and changes nothing.
func (f *FS) ScanLog(from uint64, visit func(LogEntry)) (next uint64, err error) {
	h, err := f.log.Header()
	if err != nil {
		return from, err
	}
	next, err = f.log.Replay(from, h.NextIndex, func(i uint64, e *omf.Entry, err error) { visit(logEntryOf(i, e, err)) })
	if bad, err := badEntryOf(err); bad != nil {
		return next, bad
	} else {
		return next, err
	}
}

// Rescan replays the whole log afresh into a new namespace, exactly as
// opening the file system does, and reports what the log holds and the
// problems met; this FS's own namespace is left as it is. It checks that the
// log replays cleanly (fsck checks more) and is how `famfs bench` times
// replay. A torn entry stops it like any replay, with a *BadEntry error.
func (f *FS) Rescan() (Counts, []Problem, error) {
	h, err := f.log.Header()
	if err != nil {
		return Counts{}, nil, fmt.Errorf("device %s: %w", f.dev.Path, err)
	}
	t := newTree(&f.sb)
	_, err = f.replayInto(t, 0, h.NextIndex, nil)
	bad, err := badEntryOf(err)
	if bad != nil {
		err = bad
	}
	return countsOf(t.Stats()), problemsOf(t.Problems()), err
}
