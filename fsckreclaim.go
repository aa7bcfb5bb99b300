package famfs

import (
	"fmt"
	"time"

	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/famfs-go/famfs/internal/participants"
)

// FsckReclaim is what fsck found in the participant table of a file system
// made for delete (docs/delete.md, "fsck").
type FsckReclaim struct {
	// TableErr says why the table could not be read at all (its header is
	// damaged, or the image given to fsckImage does not hold it).
	TableErr     string        `json:"table_error,omitempty"`
	Participants []Participant `json:"participants"`
	// Watermark is W: the space of deletes at or above it waits.
	Watermark uint64          `json:"watermark"`
	Waiting   uint64          `json:"waiting_bytes"`
	Deletes   []WaitingDelete `json:"waiting_deletes"`
	// Problems are torn slots, impossible progress, and space reused while
	// a participant could still reach it.
	Problems []string `json:"problems"`
}

// fsckReclaim checks the participant table in m against the namespace t
// replayed from a log whose next index is next.
func fsckReclaim(m participants.Media, sb *omf.Superblock, t *namespace.Tree, next uint64) *FsckReclaim {
	r := &FsckReclaim{Participants: []Participant{}, Deletes: []WaitingDelete{}, Problems: []string{}}
	if m == nil {
		r.TableErr = "the participant table is not in the image"
		return r
	}
	tb, err := participants.Open(m, sb.UUID, participants.Options{RunDir: runDir()})
	if err != nil {
		r.TableErr = fmt.Sprintf("participant table at device offset %#x: %v (no space can be reused until mkfs)", omf.ParticipantTableOffset, err)
		return r
	}
	es, err := tb.List()
	if err != nil {
		r.TableErr = fmt.Sprintf("participant table: %v", err)
		return r
	}
	rk := reckon(es, t.Pending(), t.Bitmap(), next, time.Now())
	r.Participants, r.Watermark, r.Deletes = rk.parts, rk.w, rk.waiting
	for _, x := range rk.waiting {
		r.Waiting += x.Bytes
	}
	bad := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }
	for _, e := range es {
		switch {
		case e.Torn:
			bad("slot %d is torn (%v): it blocks all reuse until evicted (famfs evict %d)", e.Slot, e.TornErr, e.Slot)
			continue
		case e.ID.Registered > next:
			bad("slot %d registered at log index %d, beyond the log's end %d", e.Slot, e.ID.Registered, next)
		}
		if !e.ProgressValid {
			continue
		}
		pg := e.Progress
		switch {
		case pg.Replayed > next:
			bad("slot %d says it replayed up to log index %d, beyond the log's end %d", e.Slot, pg.Replayed, next)
		case pg.Released > next:
			bad("slot %d says it released up to log index %d, beyond the log's end %d", e.Slot, pg.Released, next)
		case pg.Released < e.ID.Registered:
			bad("slot %d says it released up to log index %d, below its registration at %d", e.Slot, pg.Released, e.ID.Registered)
		}
	}
	for _, x := range rk.reused {
		bad("space of %s (deleted by log entry %d) is reused by a later file, %d bytes of it, while a participant has not released it", x.Path, x.Index, x.Bytes)
	}
	return r
}

// imageMedia is a participant table read from a superblock image.
type imageMedia []byte

func (b imageMedia) ReadAt(p []byte, off uint64) error {
	if off > uint64(len(b)) || uint64(len(p)) > uint64(len(b))-off {
		return fmt.Errorf("read of %d bytes at %#x past the image's %d", len(p), off, len(b))
	}
	copy(p, b[off:])
	return nil
}
func (b imageMedia) WriteAt(p []byte, off uint64) error { return ErrReadOnly }
func (imageMedia) Flush(off, n uint64)                  {}
func (imageMedia) Invalidate(off, n uint64)             {}
