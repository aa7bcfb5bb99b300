package metalog

import (
	"github.com/famfs-go/famfs/internal/omf"
)

// Append adds entries at the end of the log and returns the index of the
// first. The caller must hold the log lock. Sequence numbers are assigned
// here (seqnum == index). If the entries do not all fit, or one cannot be
// encoded, nothing is written.
//
// Order (each step flushes only the lines it changed):
//  1. store the encoded entries in their slots, flush their lines, fence;
//  2. store next_seqnum, then next_index, flush the header line, fence.
//
// A crash before step 2's flush leaves the old header (on another host) or the
// new header over complete entries (on this host, or after a write-back): no
// reader can see a partial entry below next_index.
func (l *Log) Append(entries []omf.Entry) (first uint64, err error) {
	if len(entries) == 0 {
		return 0, nil
	}
	h, err := l.Header()
	if err != nil {
		return 0, err
	}
	n := uint64(len(entries))
	if n > h.Free() {
		return 0, &FullError{Need: n, Free: h.Free(), Capacity: h.Capacity()}
	}
	first = h.NextIndex
	buf := make([]byte, n*omf.EntrySize)
	for k := range entries {
		entries[k].Seqnum = first + uint64(k)
		if err := entries[k].Encode(buf[uint64(k)*omf.EntrySize:]); err != nil {
			return 0, err
		}
	}
	off := omf.EntryOffset(first)
	if err := l.m.WriteAt(buf, off); err != nil {
		return 0, err
	}
	l.step(StepEntriesStored)
	if !l.skipEntryFlush {
		l.m.Flush(off, uint64(len(buf)))
	}
	l.step(StepEntriesFlushed)
	if err := l.m.StoreU64(omf.LogHdrNextSeqnum, first+n); err != nil {
		return 0, err
	}
	l.step(StepSeqnumStored)
	if err := l.m.StoreU64(omf.LogHdrNextIndex, first+n); err != nil {
		return 0, err
	}
	l.step(StepIndexStored)
	l.m.Flush(0, omf.LogHeaderSize)
	l.step(StepHeaderFlushed)
	return first, nil
}

func (l *Log) step(s Step) {
	if l.hook != nil {
		l.hook(s)
	}
}
