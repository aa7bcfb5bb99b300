package famfs

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/famfs-go/famfs/internal/alloc"
	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/famfs-go/famfs/internal/testutil/ncmem"
	"github.com/google/uuid"
)

// These tests run the library's own create/mkdir/replay/fsck code over a log
// held in the non-coherent shared-memory model (internal/testutil/ncmem), with a
// failpoint before every store and flush the master makes, and check what the
// other hosts see after the master dies there.

// crashSB is the superblock of the modelled file system: a 4 GiB device with
// the default 8 MiB log. The model memory holds only (the start of) the log.
func crashSB() omf.Superblock {
	sb := omf.NewSuperblock()
	sb.UUID = uuid.MustParse("33333333-3333-4333-8333-333333333333")
	sb.SystemUUID = masterID
	sb.DevSize = 4 << 30
	sb.DevPath = "ncmem"
	return sb
}

// modelMem is how much of the log the model memory holds: the header and the
// first 120 slots, more than the tests use (an access beyond fails).
const modelMem = 64 << 10

// formatModel writes a fresh log header into the model memory and flushes it
// (the rest of the log is already zero, as mkfs leaves it).
func formatModel(t testing.TB, h *ncmem.Host, logLen uint64) {
	t.Helper()
	var hb [omf.LogHeaderSize]byte
	lh := omf.NewLogHeader(logLen)
	lh.Encode(hb[:])
	if err := h.WriteAt(hb[:], 0); err != nil {
		t.Fatal(err)
	}
	h.Flush(0, omf.LogHeaderSize)
}

// modelFS is an FS whose log lives in m instead of a device mapping. It runs
// the same replay, allocation, append and fsck code as a real FS; the caller
// plays the log lock (only one model master runs at a time).
func modelFS(m metalog.Media, sb omf.Superblock, host uuid.UUID) (*FS, error) {
	dev, err := modelData()
	if err != nil {
		return nil, err
	}
	f := &FS{
		dev:  dev,
		sb:   sb,
		host: host,
		lg:   slog.New(slog.DiscardHandler),
		log:  metalog.New(m, sb.LogLen),
		tree: namespace.New(sb.DevSize, sb.AllocUnit, sb.MetaSize()),
	}
	if host == sb.SystemUUID {
		f.role = Master
	}
	f.alloc = alloc.New(rand.New(rand.NewPCG(1, 2)))
	_, err = f.Refresh()
	return f, err
}

// modelData is the device behind the model file systems' file data (their
// metadata lives in the model memory): one sparse, already unlinked file that
// they all share, so creating files can zero their space.
var modelData = sync.OnceValues(func() (*device.Device, error) {
	p := filepath.Join(os.TempDir(), fmt.Sprintf("famfs-model-data-%d", os.Getpid()))
	d, err := device.Create(p, 64<<30)
	os.Remove(p)
	return d, err
})

// snapshot lists what the FS's namespace holds, one sorted line per node:
// path, type, size and extents.
func snapshot(f *FS) []string {
	var out []string
	f.Walk("", func(i Info) error {
		if i.Path == "" {
			return nil
		}
		if i.IsDir() {
			out = append(out, i.Path+"/")
		} else {
			out = append(out, fmt.Sprintf("%s %d %v", i.Path, i.Size, extentsOf(i.Map)))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// allocatedBitmap marks the superblock and log region and every extent of
// every file in f's namespace into a fresh bitmap, failing on overlap: it is
// the sum of the allocations, independent of how the FS built its own bitmap.
func allocatedBitmap(f *FS) (*alloc.Bitmap, error) {
	sb := f.Superblock()
	bm := alloc.NewBitmap(sb.DevSize, sb.AllocUnit)
	bm.Mark(0, sb.MetaSize())
	var bad error
	f.Walk("", func(i Info) error {
		for _, e := range extentsOf(i.Map) {
			if c, err := bm.Mark(e.Offset, e.Len); (c != 0 || err != nil) && bad == nil {
				bad = fmt.Errorf("%s: extent %v overlaps another allocation (%d units) or is outside the device (%v)", i.Path, e, c, err)
			}
		}
		return nil
	})
	return bm, bad
}

// checkAllocation verifies that the bitmap f rebuilt from the log is exactly
// the sum of its files' allocations, and that fsck counted the same space.
func checkAllocation(f *FS, r *FsckReport) error {
	want, err := allocatedBitmap(f)
	if err != nil {
		return err
	}
	var got []uint64
	f.viewTree(func(t *namespace.Tree) { got = t.Bitmap().Units() })
	if !slices.Equal(got, want.Units()) {
		return fmt.Errorf("allocation bitmap rebuilt from the log differs from the sum of the files' extents")
	}
	if r != nil && r.Allocated != want.UsedBytes() {
		return fmt.Errorf("fsck counts %d allocated bytes, the files hold %d", r.Allocated, want.UsedBytes())
	}
	return nil
}

// fsckClean reports why a fsck report is not clean, or nil.
func fsckClean(r *FsckReport) error {
	if !r.Clean() || r.Collisions != 0 || r.Torn != 0 {
		var ps []string
		for _, p := range r.Problems {
			ps = append(ps, p.String())
		}
		return fmt.Errorf("fsck not clean: log error %q, %d collisions, %d torn, problems %q", r.LogErr, r.Collisions, r.Torn, ps)
	}
	return nil
}

// errCrash is what a failpoint panics with.
type errCrash struct{}

// Broken append orders the failpoint media can impose, so that the checker
// can be shown to catch them.
type brokenOrder int

const (
	orderCorrect      brokenOrder = iota
	orderNoEntryFlush             // the entries are never flushed; the header is
	orderLateFlush                // the entries are flushed only after the header
)

// failMedia is the master's view of the model memory with a failpoint before
// every store and flush. Before mutating operation number crashAt (counting
// from 1) it panics with errCrash; onOp runs after every mutating operation.
type failMedia struct {
	*ncmem.Host
	order   brokenOrder
	crashAt int
	onOp    func()

	ops      int         // mutating operations done
	appends  int         // header flushes done: completed appends
	inAppend bool        // entries stored, header not yet flushed
	pending  [][2]uint64 // orderLateFlush: entry flushes held back
}

func (m *failMedia) op(fn func()) {
	if m.ops+1 == m.crashAt {
		panic(errCrash{})
	}
	fn()
	m.ops++
	if m.onOp != nil {
		m.onOp()
	}
}

func (m *failMedia) WriteAt(p []byte, off uint64) (err error) {
	m.op(func() {
		err = m.Host.WriteAt(p, off)
		m.inAppend = m.inAppend || off >= omf.LogHeaderSize
	})
	return err
}

func (m *failMedia) StoreU64(off, v uint64) (err error) {
	m.op(func() { err = m.Host.StoreU64(off, v) })
	return err
}

func (m *failMedia) Flush(off, n uint64) {
	header := off < omf.LogHeaderSize
	if !header {
		switch m.order {
		case orderNoEntryFlush:
			return
		case orderLateFlush:
			m.pending = append(m.pending, [2]uint64{off, n})
			return
		}
	}
	m.op(func() {
		m.Host.Flush(off, n)
		if header {
			m.appends++
			m.inAppend = false
		}
	})
	for len(m.pending) > 0 && header {
		p := m.pending[0]
		m.pending = m.pending[1:]
		m.op(func() { m.Host.Flush(p[0], p[1]) })
	}
}

// crashTx is the work the master is doing when it dies: a mkdir -p that
// appends two entries at once, then four file creations (one append each),
// with sizes spanning one to three allocation units and one interleaved
// file.
func crashTx(tx *txn) error {
	if err := tx.Mkdir("d/e", MkdirOptions{Mode: 0o755, Parents: true}); err != nil {
		return err
	}
	for _, c := range []struct {
		p    string
		size uint64
	}{{"d/e/f1", 3 << 20}, {"d/e/f2", 1}, {"g", 5 << 20}} {
		if _, err := tx.Create(c.p, CreateOptions{Size: c.size, Mode: 0o644}); err != nil {
			return err
		}
	}
	_, err := tx.Create("d/s", CreateOptions{Size: 9 << 20, Mode: 0o644, Interleave: crashStripes})
	return err
}

// crashStripes interleaves a file over two of four 1 GiB buckets.
var crashStripes = Interleave{NBuckets: 4, NStrips: 2, ChunkSize: 2 << 20}

func baseTx(tx *txn) error {
	if err := tx.Mkdir("base", MkdirOptions{Mode: 0o755}); err != nil {
		return err
	}
	for i, size := range []uint64{1, 7 << 20, 2 << 20} {
		if _, err := tx.Create(fmt.Sprintf("base/f%d", i), CreateOptions{Size: size, Mode: 0o600}); err != nil {
			return err
		}
	}
	return nil
}

// crashRef runs baseTx and crashTx without a crash and returns the namespace
// after the base and after each append of crashTx, and the number of
// mutating operations crashTx makes.
func crashRef(t testing.TB) (states [][]string, ops int) {
	t.Helper()
	sb := crashSB()
	mem := ncmem.New(modelMem)
	w := mem.Host()
	formatModel(t, w, sb.LogLen)
	fm := &failMedia{Host: w}
	m, err := modelFS(fm, sb, masterID)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.session(baseTx); err != nil {
		t.Fatal(err)
	}
	states = append(states, snapshot(m))
	before := fm.ops
	fm.appends = 0
	// After each header flush the append is complete: record what a fresh
	// host replays then.
	fm.onOp = func() {
		if fm.appends > len(states)-1 {
			c, err := modelFS(mem.Host(), sb, clientID)
			if err != nil {
				t.Fatal(err)
			}
			states = append(states, snapshot(c))
		}
	}
	if err := m.session(crashTx); err != nil {
		t.Fatal(err)
	}
	return states, fm.ops - before
}

// crashScenario lets the master die before its mutating operation number
// crashAt of crashTx (crashAt = ops+1: after its last), with keep choosing
// which dirty lines had reached memory. While the master works, its cache
// evicts random dirty lines and a client on another host polls the log after
// every operation. Afterwards it checks, over a fresh host, a stale host (one
// that cached the log before the transaction) and the polling client: the
// log is the old or the new state of the interrupted append (exactly the new
// one once its header flush ran), every view agrees, replay is not stuck, and
// fsck is clean with the allocation bitmap equal to the files' extents. Then
// a restarted master retries what was lost and creates more; the same checks
// hold for the final state.
func crashScenario(t testing.TB, states [][]string, crashAt int, keep func(uint64) bool, order brokenOrder, poll bool, rng *rand.Rand) error {
	sb := crashSB()
	mem := ncmem.New(modelMem)
	w := mem.Host()
	formatModel(t, w, sb.LogLen)
	fm := &failMedia{Host: w, order: order}
	m, err := modelFS(fm, sb, masterID)
	if err != nil {
		return err
	}
	if err := m.session(baseTx); err != nil {
		return fmt.Errorf("base: %w", err)
	}
	fm.Host.Flush(0, modelMem) // the broken orders may have left base entries dirty

	stale := mem.Host()
	stale.ReadAt(make([]byte, modelMem), 0) // caches the header and every slot used
	poller, err := modelFS(mem.Host(), sb, clientID)
	if err != nil {
		return fmt.Errorf("poller: %w", err)
	}

	fm.ops = 0
	fm.appends = 0
	var pollErr error
	fm.onOp = func() {
		for _, idx := range w.Dirty() {
			if rng.IntN(4) == 0 {
				w.Evict(idx)
			}
		}
		if !poll {
			return
		}
		st, err := poller.Refresh()
		if err == nil && len(st.Problems) > 0 {
			err = fmt.Errorf("problems %v", st.Problems)
		}
		if err != nil && pollErr == nil {
			pollErr = fmt.Errorf("client polling after master operation %d: %w", fm.ops, err)
		}
	}
	fm.crashAt = crashAt
	crashed := func() (crashed bool) {
		defer func() {
			if p := recover(); p != nil {
				if _, ok := p.(errCrash); !ok {
					panic(p)
				}
				crashed = true
			}
		}()
		if err := m.session(crashTx); err != nil {
			panic(err)
		}
		return false
	}()
	if crashed && fm.ops != crashAt-1 || !crashed && crashAt <= fm.ops {
		return fmt.Errorf("failpoint %d: crashed=%v after %d operations", crashAt, crashed, fm.ops)
	}
	if pollErr != nil {
		return pollErr
	}
	w.Crash(keep)

	// Appends whose header flush ran are durable; the one in progress, if its
	// entries were stored, may or may not be visible.
	allowed := [][]string{states[fm.appends]}
	if fm.inAppend {
		allowed = append(allowed, states[fm.appends+1])
	}
	// view checks one host's view: fsck over its log (what famfs.Fsck runs:
	// the namespace tree and the bitmap rebuilt from a scan of every entry),
	// then replay as a client; it returns the namespace replay built.
	view := func(name string, h metalog.Media, polled *FS) ([]string, error) {
		r := &FsckReport{}
		fsckLog(r, sb, FsckOptions{SystemUUID: clientID}, metalog.New(h, sb.LogLen), nil)
		if err := fsckClean(r); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c := polled
		if c == nil {
			if c, err = modelFS(h, sb, clientID); err != nil {
				return nil, fmt.Errorf("%s: replay: %w", name, err)
			}
		} else if st, err := c.Refresh(); err != nil || len(st.Problems) > 0 {
			return nil, fmt.Errorf("%s: replay: %v %v", name, err, st.Problems)
		}
		if next, _, _ := c.LogStatus(); next != r.EntriesUsed {
			return nil, fmt.Errorf("%s: replay reached entry %d, fsck saw %d in use", name, next, r.EntriesUsed)
		}
		if err := checkAllocation(c, r); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return snapshot(c), nil
	}
	check := func(stage string, allowed [][]string) error {
		var first []string
		for k, v := range []struct {
			name   string
			h      metalog.Media
			polled *FS
		}{{"fresh host", mem.Host(), nil}, {"stale host", stale, nil}, {"polling client", poller.log.Media(), poller}} {
			got, err := view(stage+", "+v.name, v.h, v.polled)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(allowed, func(s []string) bool { return slices.Equal(s, got) }) {
				return fmt.Errorf("%s, %s sees neither the old nor the new state:\n got %q\nwant one of %q", stage, v.name, got, allowed)
			}
			if k == 0 {
				first = got
			} else if !slices.Equal(first, got) {
				return fmt.Errorf("%s: %s sees %q, a fresh host %q", stage, v.name, got, first)
			}
		}
		return nil
	}
	if err := check("after the crash", allowed); err != nil {
		return err
	}

	// A restarted master (a fresh host's cache) retries whatever of the
	// transaction was lost and creates one more file. Its allocations must not
	// cross-link with anything visible.
	m2, err := modelFS(mem.Host(), sb, masterID)
	if err != nil {
		return fmt.Errorf("restarted master: %w", err)
	}
	final := states[len(states)-1]
	if err := m2.session(func(tx *txn) error {
		if err := crashRetry(tx, final); err != nil {
			return err
		}
		_, err := tx.Create("after", CreateOptions{Size: 4 << 20, Mode: 0o644})
		return err
	}); err != nil {
		return fmt.Errorf("restarted master: %w", err)
	}
	got := snapshot(m2)
	if want := append(withoutExtents(final), "after 4194304"); !slices.Equal(withoutExtents(got), sorted(want)) {
		return fmt.Errorf("after recovery the master has %q, want %q", withoutExtents(got), sorted(want))
	}
	return check("after recovery", [][]string{got})
}

// crashRetry re-creates what of the reference's final state is missing.
func crashRetry(tx *txn, final []string) error {
	for _, line := range final {
		p, rest, isFile := strings.Cut(line, " ")
		if !isFile {
			if err := tx.Mkdir(strings.TrimSuffix(p, "/"), MkdirOptions{Mode: 0o755, Parents: true}); err != nil {
				return err
			}
			continue
		}
		var size uint64
		if _, err := fmt.Sscan(rest, &size); err != nil {
			return err
		}
		o := CreateOptions{Size: size, Mode: 0o644}
		if p == "d/s" {
			o.Interleave = crashStripes
		}
		if _, err := tx.Create(p, o); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return nil
}

// withoutExtents drops the extents from snapshot lines.
func withoutExtents(s []string) []string {
	out := make([]string, len(s))
	for i, l := range s {
		out[i], _, _ = strings.Cut(l, " [")
	}
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// keepPolicies yields write-back choices for the master's dirty lines at the
// crash: none, all, and seeded random subsets.
func keepPolicies(n int, seed uint64) []func(uint64) bool {
	out := []func(uint64) bool{
		func(uint64) bool { return false },
		func(uint64) bool { return true },
	}
	for i := range n {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		out = append(out, func(uint64) bool { return rng.IntN(2) == 0 })
	}
	return out
}

// TestCrashAtEveryFailpointFsckClean kills the master before each store and
// flush of a transaction (mkdir -p, four creations), for many choices of
// which dirty lines reached memory, and checks every host's view with replay
// and the full fsck (namespace and bitmap), then recovery.
func TestCrashAtEveryFailpointFsckClean(t *testing.T) {
	states, ops := crashRef(t)
	if len(states) != 6 || ops != 5*5 {
		t.Fatalf("reference transaction: %d states, %d operations; the test expects 1+5 appends of 5 operations each", len(states), ops)
	}
	const seed = 20260613
	for crashAt := 1; crashAt <= ops+1; crashAt++ {
		for k, keep := range keepPolicies(24, seed+uint64(crashAt)) {
			rng := rand.New(rand.NewPCG(seed, uint64(crashAt*100+k)))
			if err := crashScenario(t, states, crashAt, keep, orderCorrect, true, rng); err != nil {
				t.Fatalf("crash before operation %d of %d, write-back policy %d (seed %d): %v", crashAt, ops, k, seed, err)
			}
		}
	}
}

// The checker must catch an append order that lets the header reach memory
// before the entries: otherwise the test above could not fail.
func TestCrashCheckerCatchesBrokenOrder(t *testing.T) {
	states, ops := crashRef(t)
	for _, c := range []struct {
		order brokenOrder
		poll  bool
	}{{orderNoEntryFlush, true}, {orderNoEntryFlush, false}, {orderLateFlush, true}, {orderLateFlush, false}} {
		order := c.order
		caught, byFsck, runs := 0, 0, 0
		for crashAt := 1; crashAt <= ops+1; crashAt++ {
			for k, keep := range keepPolicies(4, uint64(crashAt)) {
				runs++
				rng := rand.New(rand.NewPCG(uint64(order), uint64(crashAt*100+k)))
				if err := crashScenario(t, states, crashAt, keep, order, c.poll, rng); err != nil {
					caught++
					if strings.Contains(err.Error(), "fsck not clean") {
						byFsck++
					}
					if caught == 1 {
						t.Logf("order %d, polling %v, crash before operation %d, policy %d: %v", order, c.poll, crashAt, k, err)
					}
				}
			}
		}
		t.Logf("broken order %d, polling %v: caught in %d of %d scenarios, %d of them by fsck", order, c.poll, caught, runs, byFsck)
		if caught == 0 {
			t.Errorf("broken append order %d (polling %v) went unnoticed", order, c.poll)
		}
		if !c.poll && byFsck == 0 {
			t.Errorf("broken append order %d: fsck after the crash never noticed", order)
		}
	}
}

// extentsOf lists every extent of a file map: a simple map's extents, or an
// interleaved map's strips.
func extentsOf(m FileMap) []Extent {
	out := slices.Clone(m.Extents)
	for _, ie := range m.Interleave {
		out = append(out, ie.Strips...)
	}
	return out
}
