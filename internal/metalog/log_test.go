package metalog

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/famfs-go/famfs/internal/omf"
	"github.com/famfs-go/famfs/internal/testutil/ncmem"
)

// smallLog is a log length for model tests: the header only checks that the
// length matches and the last index fits, so a short log behaves like a long
// one with fewer slots.
const smallLog = 16 << 10

// formatSmall writes a fresh header for a log of n bytes through m and flushes.
func formatSmall(t testing.TB, m Media, n uint64) {
	t.Helper()
	var hb [omf.LogHeaderSize]byte
	h := omf.NewLogHeader(n)
	h.Encode(hb[:])
	if err := m.WriteAt(hb[:], 0); err != nil {
		t.Fatal(err)
	}
	m.Flush(0, omf.LogHeaderSize)
}

func fileEntry(name string, off uint64) omf.Entry {
	return omf.Entry{Type: omf.EntryFile, Size: 4096, Flags: 2, Mode: 0o644, Path: name,
		FMap: omf.FMap{Type: omf.ExtSimple, Extents: []omf.Extent{{Offset: off, Len: omf.AllocUnit}}}}
}

func entries(prefix string, n int, base int) []omf.Entry {
	out := make([]omf.Entry, n)
	for i := range out {
		out[i] = fileEntry(fmt.Sprintf("%s%d", prefix, base+i), uint64(5+base+i)*omf.AllocUnit)
	}
	return out
}

// collect replays [from, hdr.NextIndex) and returns the paths seen.
func collect(t testing.TB, l *Log, from uint64) ([]string, uint64, error) {
	t.Helper()
	h, err := l.Header()
	if err != nil {
		return nil, from, err
	}
	var paths []string
	next, err := l.Replay(from, h.NextIndex, func(i uint64, e *omf.Entry, err error) {
		if err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
		paths = append(paths, e.Path)
	})
	return paths, next, err
}

func TestFormatAppendReplay(t *testing.T) {
	mem := ncmem.New(omf.DefaultLogLen)
	w := mem.Host()
	if err := Format(w, omf.DefaultLogLen); err != nil {
		t.Fatal(err)
	}
	wl := New(w, omf.DefaultLogLen)
	rl := New(mem.Host(), omf.DefaultLogLen)
	if p, next, err := collect(t, rl, 0); err != nil || len(p) != 0 || next != 0 {
		t.Fatalf("empty log: %v %d %v", p, next, err)
	}
	if first, err := wl.Append(entries("a", 3, 0)); err != nil || first != 0 {
		t.Fatal(first, err)
	}
	p, next, err := collect(t, rl, 0)
	if err != nil || next != 3 || fmt.Sprint(p) != "[a0 a1 a2]" {
		t.Fatalf("%v %d %v", p, next, err)
	}
	if first, err := wl.Append(entries("b", 2, 3)); err != nil || first != 3 {
		t.Fatal(first, err)
	}
	// incremental: only the new entries
	p, next, err = collect(t, rl, next)
	if err != nil || next != 5 || fmt.Sprint(p) != "[b3 b4]" {
		t.Fatalf("%v %d %v", p, next, err)
	}
	if n, err := rl.NextIndex(); err != nil || n != 5 {
		t.Fatalf("poll %d %v", n, err)
	}
	// the stored bytes are exactly what the encoder makes (seqnum == index)
	img := mem.Snapshot()
	var want [omf.EntrySize]byte
	e := fileEntry("b4", 9*omf.AllocUnit)
	e.Seqnum = 4
	e.Encode(want[:])
	if !bytes.Equal(img[omf.EntryOffset(4):omf.EntryOffset(5)], want[:]) {
		t.Fatal("entry 4 bytes differ from the encoder's")
	}
}

func TestStaleReaderSeesNewEntries(t *testing.T) {
	mem := ncmem.New(smallLog)
	w := mem.Host()
	formatSmall(t, w, smallLog)
	wl := New(w, smallLog)
	r := mem.Host()
	// The reader reads the whole log ahead: every slot's zero lines are cached.
	r.ReadAt(make([]byte, smallLog), 0)
	wl.Append(entries("x", 4, 0))
	p, next, err := collect(t, New(r, smallLog), 0)
	if err != nil || next != 4 || len(p) != 4 {
		t.Fatalf("stale reader: %v %d %v", p, next, err)
	}
}

func TestLogFullWritesNothing(t *testing.T) {
	mem := ncmem.New(smallLog)
	w := mem.Host()
	formatSmall(t, w, smallLog)
	l := New(w, smallLog)
	capacity := int(omf.EntriesFor(smallLog))
	if _, err := l.Append(entries("f", capacity-1, 0)); err != nil {
		t.Fatal(err)
	}
	before := mem.Snapshot()
	_, err := l.Append(entries("g", 2, 0))
	var fe *FullError
	if !errors.As(err, &fe) || !errors.Is(err, ErrLogFull) || fe.Free != 1 || fe.Need != 2 {
		t.Fatalf("got %v", err)
	}
	w.Flush(0, smallLog)
	if !bytes.Equal(before, mem.Snapshot()) {
		t.Fatal("a refused append changed the log")
	}
	if _, err := l.Append(entries("h", 1, 0)); err != nil {
		t.Fatalf("last slot: %v", err)
	}
	if _, err := l.Append(entries("i", 1, 0)); !errors.Is(err, ErrLogFull) {
		t.Fatalf("append to a full log: %v", err)
	}
}

func TestEncodeErrorWritesNothing(t *testing.T) {
	mem := ncmem.New(smallLog)
	w := mem.Host()
	formatSmall(t, w, smallLog)
	before := mem.Snapshot()
	bad := append(entries("ok", 1, 0), omf.Entry{Type: omf.EntryMkdir, Path: "../escape"})
	if _, err := New(w, smallLog).Append(bad); !errors.Is(err, omf.ErrBadPath) {
		t.Fatalf("got %v", err)
	}
	w.Flush(0, smallLog)
	if !bytes.Equal(before, mem.Snapshot()) {
		t.Fatal("a refused append changed the log")
	}
}

// A torn entry below next_index stops replay; once it is whole, replay resumes
// from it.
func TestReplayStopsAtTornEntryAndResumes(t *testing.T) {
	mem := ncmem.New(smallLog)
	w := mem.Host()
	formatSmall(t, w, smallLog)
	wl := New(w, smallLog)
	wl.Append(entries("a", 4, 0))
	good := make([]byte, omf.EntrySize)
	w.ReadAt(good, omf.EntryOffset(2))
	w.WriteAt([]byte{0xff}, omf.EntryOffset(2)+100) // corrupt entry 2
	w.Flush(0, smallLog)

	rl := New(mem.Host(), smallLog)
	var seen []uint64
	next, err := rl.Replay(0, 4, func(i uint64, e *omf.Entry, err error) { seen = append(seen, i) })
	var bad *BadEntry
	if !errors.As(err, &bad) || bad.Index != 2 || !errors.Is(err, omf.ErrBadCRC) || next != 2 || len(seen) != 2 {
		t.Fatalf("next %d err %v seen %v", next, err, seen)
	}
	// fsck's scan sees all four, the bad one with its error
	var torn int
	rl.Scan(0, 4, func(i uint64, e *omf.Entry, err error) {
		if omf.IsTorn(err) {
			torn++
		}
	})
	if torn != 1 {
		t.Fatalf("scan found %d torn entries", torn)
	}
	w.WriteAt(good, omf.EntryOffset(2))
	w.Flush(0, smallLog)
	next, err = rl.Replay(next, 4, func(i uint64, e *omf.Entry, err error) { seen = append(seen, i) })
	if err != nil || next != 4 || fmt.Sprint(seen) != "[0 1 2 3]" {
		t.Fatalf("resume: %d %v %v", next, err, seen)
	}
}

// checkReader verifies what a host sees: the header is valid, next_index is
// either old or new, and every entry below it is whole and is the entry that
// was appended there.
func checkReader(l *Log, old, new uint64, want []omf.Entry) error {
	h, err := l.Header()
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if h.NextIndex != old && h.NextIndex != new {
		return fmt.Errorf("next_index %d is neither %d nor %d", h.NextIndex, old, new)
	}
	var bad error
	_, err = l.Replay(0, h.NextIndex, func(i uint64, e *omf.Entry, err error) {
		if err == nil && e.Path != want[i].Path {
			err = fmt.Errorf("path %q, want %q", e.Path, want[i].Path)
		}
		if err != nil && bad == nil {
			bad = fmt.Errorf("entry %d: %w", i, err)
		}
	})
	if err != nil {
		return fmt.Errorf("torn entry visible below next_index %d: %w", h.NextIndex, err)
	}
	return bad
}

type crash struct{}

// crashScenario appends `base` entries, lets a reader cache the log, then
// appends `batch` more with the writer dying at step s; keep decides which
// dirty lines reached memory. It returns the first inconsistency a reader on
// another host (stale cache) or a fresh host sees, or a failed recovery.
func crashScenario(t testing.TB, s Step, base, batch int, keep func(idx uint64) bool, breakProtocol bool) error {
	mem := ncmem.New(smallLog)
	w := mem.Host()
	formatSmall(t, w, smallLog)
	wl := New(w, smallLog)
	want := entries("f", base+batch+1, 0)
	if _, err := wl.Append(append([]omf.Entry(nil), want[:base]...)); err != nil {
		return err
	}
	r := mem.Host()
	r.ReadAt(make([]byte, smallLog), 0) // stale everything
	wl.skipEntryFlush = breakProtocol
	wl.hook = func(at Step) {
		if at == s {
			panic(crash{})
		}
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				if _, ok := p.(crash); !ok {
					panic(p)
				}
			}
		}()
		wl.Append(append([]omf.Entry(nil), want[base:base+batch]...))
	}()
	w.Crash(keep)
	old, new := uint64(base), uint64(base+batch)
	if err := checkReader(New(r, smallLog), old, new, want); err != nil {
		return fmt.Errorf("stale reader: %w", err)
	}
	if err := checkReader(New(mem.Host(), smallLog), old, new, want); err != nil {
		return fmt.Errorf("fresh reader: %w", err)
	}
	// Recovery: a restarted master appends after whatever is visible.
	w2 := New(mem.Host(), smallLog)
	h, _ := w2.Header()
	if _, err := w2.Append([]omf.Entry{want[h.NextIndex]}); err != nil {
		return fmt.Errorf("recovery append: %w", err)
	}
	if err := checkReader(New(r, smallLog), h.NextIndex+1, h.NextIndex+1, want); err != nil {
		return fmt.Errorf("after recovery: %w", err)
	}
	return nil
}

// keepPolicies yields write-back choices for the dirty lines of a crash: none,
// all, and random subsets.
func keepPolicies(n int) []func(uint64) bool {
	out := []func(uint64) bool{
		func(uint64) bool { return false },
		func(uint64) bool { return true },
	}
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(i), 42))
		out = append(out, func(uint64) bool { return rng.IntN(2) == 0 })
	}
	return out
}

func TestCrashAtEveryStep(t *testing.T) {
	for s := Step(0); s < numSteps; s++ {
		for _, batch := range []int{1, 3} {
			for k, keep := range keepPolicies(64) {
				if err := crashScenario(t, s, 2, batch, keep, false); err != nil {
					t.Fatalf("crash at %v, batch %d, write-back policy %d: %v", s, batch, k, err)
				}
			}
		}
	}
}

// The checker must catch a protocol that publishes the header before the
// entries are flushed: otherwise the test above could not fail.
func TestCrashCheckerCatchesBrokenOrder(t *testing.T) {
	caught := 0
	for k, keep := range keepPolicies(16) {
		if err := crashScenario(t, StepHeaderFlushed, 2, 1, keep, true); err != nil {
			caught++
			t.Logf("policy %d: %v", k, err)
		}
	}
	if caught == 0 {
		t.Fatal("a broken append order went unnoticed")
	}
}

// While an append is in progress, a reader on another host polling at every
// step, with the writer's cache evicting random dirty lines, never sees a torn
// entry.
func TestReaderDuringAppendWithEvictions(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for round := range 200 {
		mem := ncmem.New(smallLog)
		w := mem.Host()
		formatSmall(t, w, smallLog)
		wl := New(w, smallLog)
		r := mem.Host()
		rl := New(r, smallLog)
		want := entries("e", 8, 0)
		var failure error
		done := 0
		wl.hook = func(Step) {
			for _, idx := range w.Dirty() {
				if rng.IntN(3) == 0 {
					w.Evict(idx)
				}
			}
			if err := checkReader(rl, uint64(done), uint64(done+2), want); err != nil && failure == nil {
				failure = err
			}
		}
		for done < 8 {
			if _, err := wl.Append(append([]omf.Entry(nil), want[done:done+2]...)); err != nil {
				t.Fatal(err)
			}
			done += 2
		}
		if failure != nil {
			t.Fatalf("round %d: %v", round, failure)
		}
	}
}
