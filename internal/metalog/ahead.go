package metalog

import (
	"runtime"
	"sync/atomic"

	"github.com/famfs-go/famfs/internal/omf"
)

// Replay of a long log read in place runs on two goroutines: a checker
// drops each chunk's cache lines and checks its entries (sequence numbers
// and CRCs: the reads from memory), and the caller's goroutine visits the
// entries the checker has passed. The checker never waits for the visitor
// (its queue holds every chunk), so the visitor waits at most for the first
// chunk, and on a machine with a spare CPU the two halves overlap.

// aheadMin is the shortest replay worth a second goroutine.
const aheadMin = 4 * chunkEntries

// checked is what the checker found in one chunk: the first n entries are
// intact; err is the torn entry after them (nil: the whole chunk is good)
// or a memory fault.
type checked struct {
	n   uint64
	err error
}

func (l *Log) replayAhead(v Viewer, from, to uint64, visit RawVisit) (uint64, error) {
	chunks := (to - from + chunkEntries - 1) / chunkEntries
	ready := make(chan checked, chunks)
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.checkAhead(v, from, to, ready, &stop)
	}()
	defer func() {
		// the checker touches the mapping: it must be gone when we return
		stop.Store(true)
		<-done
	}()
	for i := from; i < to; {
		c := <-ready
		n := i + c.n
		if c.n > 0 {
			off := omf.EntryOffset(i)
			if err := v.View(off, c.n*omf.EntrySize, func(b []byte) {
				for ; i < n; i, b = i+1, b[omf.EntrySize:] {
					visit(i, b[:omf.EntrySize:omf.EntrySize], nil)
				}
			}); err != nil {
				return i, err
			}
		}
		if c.err != nil {
			return i, c.err
		}
	}
	return to, nil
}

// checkAhead checks entries [from, to) chunk by chunk and queues what it
// found, until an entry is torn, the memory faults, or the visitor stops.
func (l *Log) checkAhead(v Viewer, from, to uint64, ready chan<- checked, stop *atomic.Bool) {
	for i := from; i < to && !stop.Load(); {
		n := min(uint64(chunkEntries), to-i)
		off := omf.EntryOffset(i)
		l.m.Invalidate(off, n*omf.EntrySize)
		var c checked
		if err := v.View(off, n*omf.EntrySize, func(b []byte) {
			for ; c.n < n; c.n, b = c.n+1, b[omf.EntrySize:] {
				if err, _ := l.check(b[:omf.EntrySize:omf.EntrySize], i+c.n, false); err != nil {
					c.err = &BadEntry{Index: i + c.n, Err: err}
					return
				}
			}
		}); err != nil {
			c.err = err
		}
		ready <- c
		if c.err != nil {
			return
		}
		i += n
	}
}

// useAhead reports whether a replay of n entries read in place should check
// ahead on a second goroutine.
func useAhead(n uint64) bool { return n >= aheadMin && runtime.GOMAXPROCS(0) > 1 }
