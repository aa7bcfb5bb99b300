package metalog

import (
	"github.com/famfs-go/famfs/internal/omf"
)

// Visit receives entries in log order. err is nil for a usable entry. Replay
// also passes entries that are intact (sequence number and CRC good) but
// cannot be used (a bad path, an unknown type, a malformed map) with their
// decoding error; Scan additionally passes torn entries (omf.IsTorn(err)).
// The Entry is only valid during the call.
type Visit func(index uint64, e *omf.Entry, err error)

// RawVisit receives entry images in log order: raw is an intact entry
// (sequence number and CRC checked) unless err says it is torn (Scan only).
// raw is only valid during the call, and may be the shared memory itself:
// copy whatever is kept.
type RawVisit func(index uint64, raw []byte, err error)

const chunkEntries = 256 // entries invalidated (and read) at a time

// Replay visits entries [from, to) in order and returns the index after the
// last one visited. It stops at the first torn entry (bad sequence number or
// CRC even after one invalidate-and-reread) and returns it as a *BadEntry:
// the entry may still be in flight, so the caller should retry from the
// returned index on its next poll. Other errors are I/O faults.
func (l *Log) Replay(from, to uint64, visit Visit) (next uint64, err error) {
	return l.walk(from, to, decoding(from, to, visit), true)
}

// ReplayRaw is Replay for callers that decode entries themselves (the
// namespace's fast path): it passes the checked entry images, never a torn one.
func (l *Log) ReplayRaw(from, to uint64, visit RawVisit) (next uint64, err error) {
	return l.walk(from, to, visit, true)
}

// Scan visits every entry in [from, to), torn ones included, for fsck.
func (l *Log) Scan(from, to uint64, visit Visit) error {
	_, err := l.walk(from, to, decoding(from, to, visit), false)
	return err
}

// ScanRaw is Scan for callers that decode entries themselves; torn entries
// come with their error.
func (l *Log) ScanRaw(from, to uint64, visit RawVisit) error {
	_, err := l.walk(from, to, visit, false)
	return err
}

// decoding turns a Visit into a RawVisit that decodes each intact entry.
func decoding(from, to uint64, visit Visit) RawVisit {
	var e omf.Entry
	dec := new(omf.EntryDecoder)
	dec.Expect(int(to - min(from, to)))
	return func(i uint64, raw []byte, err error) {
		if err != nil {
			visit(i, &omf.Entry{}, err)
			return
		}
		// Checked already: decode without computing the CRC again.
		err = dec.Decode(raw, &e)
		visit(i, &e, err)
	}
}

// walk reads entries [from, to) a chunk at a time: it drops the chunk's cache
// lines, then checks each entry where it lies when the Media can be read in
// place (a mapping), or in a copy otherwise.
func (l *Log) walk(from, to uint64, visit RawVisit, stopTorn bool) (uint64, error) {
	if max := omf.EntriesFor(l.len); to > max {
		to = max
	}
	v, direct := viewer(l.m)
	if direct && stopTorn && from < to && useAhead(to-from) {
		return l.replayAhead(v, from, to, visit)
	}
	w := walker{l: l, visit: visit, stopTorn: stopTorn}
	if !direct {
		w.buf = make([]byte, omf.EntrySize*min(chunkEntries, to-min(from, to)))
	}
	for i := from; i < to; {
		n := min(uint64(chunkEntries), to-i)
		off, size := omf.EntryOffset(i), n*omf.EntrySize
		l.m.Invalidate(off, size)
		var err error
		if direct {
			if ferr := v.View(off, size, func(b []byte) { err = w.chunk(i, b) }); ferr != nil {
				return w.next, ferr // a memory fault after entries [i, w.next) were visited
			}
		} else {
			chunk := w.buf[:size]
			if err = l.m.ReadAt(chunk, off); err != nil {
				return i, err
			}
			err = w.chunk(i, chunk)
		}
		if err != nil {
			return w.next, err
		}
		i += n
	}
	return to, nil
}

// check checks entry i in raw, which is the entry in place or, when copied,
// a copy of it. If it fails, the entry may be a stale line read ahead of the
// master's append: check drops its lines and looks once more (the reference
// does the same). bad is why the entry is torn; ioErr a failure to read the
// copy again.
func (l *Log) check(raw []byte, i uint64, copied bool) (bad, ioErr error) {
	if omf.CheckEntry(raw, i) == nil {
		return nil, nil
	}
	off := omf.EntryOffset(i)
	l.m.Invalidate(off, omf.EntrySize)
	if copied {
		if err := l.m.ReadAt(raw, off); err != nil {
			return nil, err
		}
	}
	return omf.CheckEntry(raw, i), nil
}

// walker checks and visits the entries of one chunk at a time.
type walker struct {
	l        *Log
	visit    RawVisit
	stopTorn bool
	buf      []byte // the copy of a chunk, when the Media is not read in place
	next     uint64 // the entry chunk is at: where the walk stops if it fails
}

// chunk visits the entries in b, the first of which is entry i.
func (w *walker) chunk(i uint64, b []byte) error {
	for ; len(b) >= omf.EntrySize; i, b = i+1, b[omf.EntrySize:] {
		w.next = i
		raw := b[:omf.EntrySize:omf.EntrySize]
		err, ioErr := w.l.check(raw, i, w.buf != nil)
		if ioErr != nil {
			return ioErr
		}
		if err != nil && w.stopTorn {
			return &BadEntry{Index: i, Err: err}
		}
		w.visit(i, raw, err)
	}
	return nil
}
