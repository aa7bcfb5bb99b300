package metalog

import (
	"errors"
	"fmt"

	"github.com/famfs-go/famfs/internal/omf"
)

// ErrLogFull is wrapped by the error Append returns when the entries do not
// fit (the famfs package exports this value as its own ErrLogFull).
var ErrLogFull = errors.New("log full")

// FullError reports a full log: nothing was written.
type FullError struct{ Need, Free, Capacity uint64 }

func (e *FullError) Error() string {
	return fmt.Sprintf("log full: %d entries needed, %d of %d slots free", e.Need, e.Free, e.Capacity)
}
func (e *FullError) Unwrap() error { return ErrLogFull }

// BadEntry describes an entry that failed validation.
type BadEntry struct {
	Index uint64
	Err   error
}

func (b *BadEntry) Error() string { return fmt.Sprintf("log entry %d: %v", b.Index, b.Err) }
func (b *BadEntry) Unwrap() error { return b.Err }

// Step names a point of the append protocol; tests use them as failpoints.
type Step int

const (
	StepEntriesStored  Step = iota // entries written, not flushed
	StepEntriesFlushed             // entries flushed and fenced
	StepSeqnumStored               // next_seqnum advanced, not flushed
	StepIndexStored                // next_index advanced, not flushed
	StepHeaderFlushed              // header line flushed: the append is visible
	numSteps
)

func (s Step) String() string {
	return [...]string{"entries-stored", "entries-flushed", "seqnum-stored", "index-stored", "header-flushed"}[s]
}

// Log is a famfs metadata log in a Media.
type Log struct {
	m   Media
	len uint64 // log length in bytes (the superblock's ts_log_len)

	hook           func(Step) // test failpoint
	skipEntryFlush bool       // test only: break the protocol on purpose
}

// New returns the log of logLen bytes held in m.
func New(m Media, logLen uint64) *Log { return &Log{m: m, len: logLen} }

// Len is the log length in bytes.
func (l *Log) Len() uint64 { return l.len }

// Media returns the memory the log lives in.
func (l *Log) Media() Media { return l.m }

// Format zero-fills the log and writes a fresh header (next index 0), then
// flushes it all.
func Format(m Media, logLen uint64) error {
	if !omf.ValidLogLen(logLen) {
		return fmt.Errorf("log length %d is not a power of two of at least %d", logLen, omf.MinLogLen)
	}
	zero := make([]byte, 1<<20)
	for off := uint64(0); off < logLen; off += uint64(len(zero)) {
		if err := m.WriteAt(zero[:min(uint64(len(zero)), logLen-off)], off); err != nil {
			return err
		}
	}
	var hb [omf.LogHeaderSize]byte
	h := omf.NewLogHeader(logLen)
	h.Encode(hb[:])
	if err := m.WriteAt(hb[:], 0); err != nil {
		return err
	}
	m.Flush(0, logLen)
	return nil
}

// Header invalidates and reads the header line and validates it.
func (l *Log) Header() (omf.LogHeader, error) {
	var b [omf.LogHeaderSize]byte
	l.m.Invalidate(0, omf.LogHeaderSize)
	if err := l.m.ReadAt(b[:], 0); err != nil {
		return omf.LogHeader{}, err
	}
	return omf.ParseLogHeader(b[:], l.len)
}

// NextIndex is the cheap poll: it invalidates and loads only next_index,
// without validating the header.
func (l *Log) NextIndex() (uint64, error) {
	l.m.Invalidate(omf.LogHdrNextIndex, 8)
	return l.m.LoadU64(omf.LogHdrNextIndex)
}
