package participants

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

// mem is a coherent in-memory Media.
type mem struct {
	mu sync.Mutex
	b  []byte
}

func (m *mem) ReadAt(p []byte, off uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	copy(p, m.b[off:])
	return nil
}
func (m *mem) WriteAt(p []byte, off uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	copy(m.b[off:], p)
	return nil
}
func (m *mem) Flush(off, n uint64)      {}
func (m *mem) Invalidate(off, n uint64) {}

var fsID = uuid.UUID{0xf5}

func newTable(t *testing.T, m *mem, boot byte, dir string) *Table {
	t.Helper()
	tb, err := Open(m, fsID, Options{RunDir: dir, BootID: uuid.UUID{boot}, Settle: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func formatted(t *testing.T) *mem {
	m := &mem{b: make([]byte, omf.ParticipantTableSize)}
	if err := Format(m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOpenRefusesNoTable(t *testing.T) {
	if _, err := Open(&mem{b: make([]byte, omf.ParticipantTableSize)}, fsID, Options{}); !errors.Is(err, omf.ErrBadMagic) {
		t.Fatalf("a zero table opened: %v", err)
	}
}

func TestWatermarkEvictAndLease(t *testing.T) {
	m := formatted(t)
	dir := t.TempDir()
	tb := newTable(t, m, 1, dir)
	if w, _, _ := tb.Watermark(10); w != 10 {
		t.Fatalf("empty table: W %d, want the log's next index", w)
	}
	a, err := tb.Register(Identity{Kind: KindDaemon, Name: "a"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tb.Register(Identity{Kind: KindDaemon, Name: "b"}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if w, hs, _ := tb.Watermark(10); w != 5 || len(hs) != 2 {
		t.Fatalf("W %d holders %d, want 5 and 2", w, len(hs))
	}
	if err := a.Publish(Progress{Replayed: 9, Released: 8}); err != nil {
		t.Fatal(err)
	}
	if w, _, _ := tb.Watermark(10); w != 7 {
		t.Fatalf("W %d, want 7 (b's registered index)", w)
	}
	if err := tb.Evict(b.Slot(), b.Gen()+5); err == nil {
		t.Fatal("evicted with the wrong generation")
	}
	if err := tb.Evict(b.Slot(), 0); err != nil {
		t.Fatal(err)
	}
	if w, _, _ := tb.Watermark(10); w != 8 {
		t.Fatalf("W %d after the eviction, want 8", w)
	}
	seq := b.seq
	if err := b.Publish(Progress{Replayed: 1, Released: 1}); !errors.Is(err, ErrEvicted) {
		t.Fatalf("an evicted participant published: %v", err)
	}
	if b.seq != seq {
		t.Fatal("an evicted participant wrote its progress")
	}
	// A torn identity blocks everything.
	off := omf.SlotOffset(a.Slot()) + 0x10
	m.b[off] ^= 0xff
	if w, _, _ := tb.Watermark(10); w != 0 {
		t.Fatalf("W %d with a torn slot, want 0", w)
	}
	m.b[off] ^= 0xff
	// A lease left to run out is left out.
	c, err := tb.Register(Identity{Kind: KindDaemon, LeaseMs: 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if w, _, _ := tb.Watermark(10); w != 8 {
		t.Fatalf("W %d with an expired lease, want 8", w)
	}
	if err := c.Publish(Progress{Replayed: 9, Released: 9}); !errors.Is(err, ErrEvicted) {
		t.Fatalf("a participant past its lease published: %v", err)
	}
	a.Leave()
	if w, _, _ := tb.Watermark(10); w != 10 {
		t.Fatalf("W %d after the goodbye, want 10", w)
	}
}

// Two kernels registering at once never end up sharing a slot.
func TestTwoKernelsClaim(t *testing.T) {
	m := formatted(t)
	t1, t2 := newTable(t, m, 1, t.TempDir()), newTable(t, m, 2, t.TempDir())
	var mu sync.Mutex
	owners := map[int]int{}
	var wg sync.WaitGroup
	for k, tb := range []*Table{t1, t2} {
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := tb.Register(Identity{Kind: KindDaemon}, 1)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				owners[s.Slot()]++
				mu.Unlock()
				if err := s.Publish(Progress{Replayed: 2, Released: 2}); err != nil {
					t.Errorf("kernel %d slot %d: %v", k, s.Slot(), err)
				}
			}()
		}
	}
	wg.Wait()
	for slot, n := range owners {
		if n != 1 {
			t.Errorf("slot %d claimed by %d participants", slot, n)
		}
	}
}

func TestTableFull(t *testing.T) {
	m := formatted(t)
	tb := newTable(t, m, 1, t.TempDir())
	tb.o.Settle = time.Microsecond
	for i := 0; i < omf.ParticipantSlots; i++ {
		if _, err := tb.Register(Identity{Kind: KindDaemon}, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tb.Register(Identity{Kind: KindDaemon}, 1); !errors.Is(err, ErrFull) {
		t.Fatalf("a full table took one more: %v", err)
	}
}
