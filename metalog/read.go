package metalog

import (
	"github.com/famfs-go/famfs/omf"
)

// Visit receives entries in log order. err is nil for a usable entry. Replay
// also passes entries that are intact (sequence number and CRC good) but
// cannot be used (a bad path, an unknown type, a malformed map) with their
// decoding error; Scan additionally passes torn entries (omf.IsTorn(err)).
// The Entry is only valid during the call.
type Visit func(index uint64, e *omf.Entry, err error)

const chunkEntries = 256 // entries read per invalidate+copy

// Replay visits entries [from, to) in order and returns the index after the
// last one visited. It stops at the first torn entry (bad sequence number or
// CRC even after one invalidate-and-reread) and returns it as a *BadEntry:
// the entry may still be in flight, so the caller should retry from the
// returned index on its next poll. Other errors are I/O faults.
func (l *Log) Replay(from, to uint64, visit Visit) (next uint64, err error) {
	return l.walk(from, to, visit, true)
}

// Scan visits every entry in [from, to), torn ones included, for fsck.
func (l *Log) Scan(from, to uint64, visit Visit) error {
	_, err := l.walk(from, to, visit, false)
	return err
}

func (l *Log) walk(from, to uint64, visit Visit, stopTorn bool) (uint64, error) {
	if max := omf.EntriesFor(l.len); to > max {
		to = max
	}
	buf := make([]byte, omf.EntrySize*min(chunkEntries, to-min(from, to)))
	var e omf.Entry
	var dec omf.EntryDecoder
	dec.Expect(int(to - min(from, to)))
	for i := from; i < to; {
		n := min(uint64(chunkEntries), to-i)
		chunk := buf[:n*omf.EntrySize]
		off := omf.EntryOffset(i)
		l.m.Invalidate(off, uint64(len(chunk)))
		if err := l.m.ReadAt(chunk, off); err != nil {
			return i, err
		}
		for k := uint64(0); k < n; k, i = k+1, i+1 {
			raw := chunk[k*omf.EntrySize : (k+1)*omf.EntrySize]
			err := omf.CheckEntry(raw, i)
			if err != nil {
				// A stale line read ahead of the master's append: drop it and
				// look once more (the reference does the same).
				l.m.Invalidate(omf.EntryOffset(i), omf.EntrySize)
				if rerr := l.m.ReadAt(raw, omf.EntryOffset(i)); rerr != nil {
					return i, rerr
				}
				err = omf.CheckEntry(raw, i)
			}
			if err != nil {
				if stopTorn {
					return i, &BadEntry{Index: i, Err: err}
				}
				visit(i, &omf.Entry{}, err)
				continue
			}
			// Checked above: decode without computing the CRC again.
			err = dec.Decode(raw, &e)
			visit(i, &e, err)
		}
	}
	return to, nil
}
