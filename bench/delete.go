package bench

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/famfs-go/famfs/bench/internal/bare"

	"github.com/famfs-go/famfs"
)

// The delete figures (docs/delete.md), on file systems made for delete:
//
//   - Remove: FS.Remove of the creation batch's 10,000 files (one call, as
//     `famfs rm` with every path) against creating them with one batch;
//   - Reuse: the time from the last holder's release of a deleted file to
//     the master's first successful allocation of its space, p99 over many
//     trials, against the same delete-then-create with nobody holding;
//   - Participate: replay in polls of pollChunk entries by a client that is
//     a registered participant (it publishes after every poll), against the
//     same polls on a plain file system;
//   - HeldRead: the mapped read of File.Map while the mapping is a hold (the
//     heartbeat running), against the same loop over a raw mmap of the same
//     bytes: the map figure's comparison, for a participant (the same pages
//     on both sides, since which device file is made first changes the
//     bandwidth by more than participation could).
const (
	Remove      = "rm"
	Reuse       = "reuse"
	Participate = "participate"
	HeldRead    = "heldmap"

	RemoveTarget      = 1.5 // rm time / create time
	ReuseTargetMs     = 50  // p99, milliseconds
	ParticipateTarget = 1.05
	reuseTrials       = 200
	pollChunk         = 256
)

func runRemove(o *Options) (Figure, error) {
	pr, pc := tempPath(o.Dir, "rm"), tempPath(o.Dir, "rmcreate")
	defer removeQuiet(pr)
	defer removeQuiet(pc)
	b := newCreateBatch(o.Files)
	paths := make([]string, len(b.Files))
	for i, r := range b.Files {
		paths[i] = r.Path
	}
	subject := func() (time.Duration, error) {
		f, err := b.newFS(pr, true)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if _, err := b.run(f); err != nil {
			return 0, err
		}
		d, err := o.timer(func() error { return f.Remove(paths, famfs.RemoveOptions{}) })()
		if err == nil && f.Stats().Counts.Files != 0 {
			err = fmt.Errorf("%d files left after removing them all", f.Stats().Counts.Files)
		}
		return d, err
	}
	baseline := func() (time.Duration, error) {
		f, err := b.newFS(pc, true)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		return o.timer(func() error { _, err := b.run(f); return err })()
	}
	if _, err := subject(); err != nil { // warm up
		return Figure{}, err
	}
	s, bs, err := pair(o.Reps, subject, baseline)
	if err != nil {
		return Figure{}, err
	}
	sm, bm := ms(s), ms(bs)
	f := timeFigure(Remove, fmt.Sprintf("rm %d files (one Remove)", o.Files), sm, bm, "create", "one batch creating them", RemoveTarget)
	f.Detail = fmt.Sprintf("%.0f files/s, median ratio %.2fx", float64(o.Files)/(f.Value/1e3), f.MedianRatio)
	return f, nil
}

// reuseRig is a full file system with one allocation unit the trials pass
// around: the master creates a one-unit file there, a second FS (another
// participant) maps it, the master deletes it, the holder unmaps, and the
// master creates the next file in the same space as soon as it may.
type reuseRig struct {
	master, holder *famfs.FS
	n              int
}

func newReuseRig(path string) (*reuseRig, error) {
	if _, err := famfs.Mkfs(path, famfs.MkfsOptions{Size: famfs.Format().MinDeviceSize, Force: true, SystemUUID: masterUUID, Reclaim: true}); err != nil {
		return nil, err
	}
	m, err := famfs.Open(path, famfs.OpenOptions{SystemUUID: masterUUID})
	if err != nil {
		return nil, err
	}
	r := &reuseRig{master: m}
	sp, err := m.Space()
	if err == nil && sp.Free > allocUnit {
		_, err = m.Create("filler", famfs.CreateOptions{Size: sp.Free - allocUnit, Mode: 0o644, NoZero: true})
	}
	if err == nil {
		_, err = r.create()
	}
	if err == nil {
		r.holder, err = famfs.Open(path, famfs.OpenOptions{SystemUUID: clientUUID, ParticipantName: "bench-holder"})
	}
	if err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *reuseRig) close() {
	if r.holder != nil {
		r.holder.Close()
	}
	r.master.Close()
}

func (r *reuseRig) name(i int) string { return fmt.Sprintf("unit-%05d", i) }

// create makes the next one-unit file; ErrNoSpace while the space waits.
func (r *reuseRig) create() (bool, error) {
	_, err := r.master.Create(r.name(r.n), famfs.CreateOptions{Size: allocUnit, Mode: 0o644, NoZero: true})
	if errors.Is(err, famfs.ErrNoSpace) {
		return false, nil
	}
	if err == nil {
		r.n++
	}
	return err == nil, err
}

// trial deletes the newest file, held by the holder when held, and returns
// the time from the release (or the delete, when nobody holds it) until
// the master has created the next file in its space.
func (r *reuseRig) trial(held bool) (time.Duration, error) {
	cur := r.name(r.n - 1)
	var m *famfs.Mapping
	if held {
		if _, err := r.holder.Refresh(); err != nil {
			return 0, err
		}
		fl, err := r.holder.OpenFile(cur)
		if err != nil {
			return 0, err
		}
		if m, err = fl.Map(famfs.MapOptions{Access: famfs.MapReadOnly}); err != nil {
			return 0, err
		}
	}
	if err := r.master.Remove([]string{cur}, famfs.RemoveOptions{}); err != nil {
		return 0, err
	}
	if held {
		// While held, the space must stay reserved.
		if ok, err := r.create(); ok || err != nil {
			return 0, fmt.Errorf("space of %s reused while a participant held it (err %v)", cur, err)
		}
	}
	t0 := time.Now()
	if m != nil {
		m.Unmap()
	}
	deadline := t0.Add(10 * time.Second)
	for {
		ok, err := r.create()
		if err != nil {
			return 0, err
		}
		if ok {
			return time.Since(t0), nil
		}
		if time.Now().After(deadline) {
			ps, _ := r.master.Participants()
			sp, _ := r.master.Space()
			return 0, fmt.Errorf("space of %s not reusable 10 s after its release (participants %#v, space %+v)", cur, ps, sp)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func runReuse(o *Options) (Figure, error) {
	path := tempPath(o.Dir, "reuse")
	defer removeQuiet(path)
	r, err := newReuseRig(path)
	if err != nil {
		return Figure{}, err
	}
	defer r.close()
	var held, free []time.Duration
	for i := range reuseTrials {
		d, err := r.trial(i%2 == 0)
		if err != nil {
			return Figure{}, err
		}
		if i%2 == 0 {
			held = append(held, d)
		} else {
			free = append(free, d)
		}
	}
	hm, fm := ms(held), ms(free)
	p99, base := percentile(hm, 0.99), percentile(fm, 0.99)
	f := Figure{ID: Reuse, Name: "release to reusable space (p99)",
		Value: p99, Unit: "ms", Baseline: base, BaseWord: "unheld", BaseName: "delete then create, an idle participant registered",
		Ratio: p99 / base, Target: fmt.Sprintf("<= %d ms", ReuseTargetMs), Samples: hm, BaseSamples: fm}
	f.OK = p99 <= ReuseTargetMs
	f.Detail = fmt.Sprintf("%d trials each; median %.3f ms vs %.3f ms; max %.3f ms", len(hm),
		percentile(hm, 0.5), percentile(fm, 0.5), slices.Max(hm))
	return f, nil
}

// percentile is the q-quantile of xs (nearest rank).
func percentile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(q*float64(len(s))+0.5) - 1
	return s[min(max(k, 0), len(s)-1)]
}

// pollReplay makes a file system at path (made for delete if reclaim), opens
// it as a client and times the client's Refresh after each pollChunk
// entries a raw writer appends: the polls of a host following a master that
// creates files. With reclaim the client first holds a file, so it is a
// registered participant and publishes its progress after every poll.
func pollReplay(o *Options, path string, reclaim bool) (time.Duration, error) {
	es := bare.Workload(bare.EntriesFor(o.LogLen), famfs.Format().LogOffset+o.LogLen)
	if _, err := famfs.Mkfs(path, famfs.MkfsOptions{Size: DeviceSizeFor(o.LogLen, len(es)), LogLen: o.LogLen,
		Force: true, SystemUUID: masterUUID, Reclaim: reclaim}); err != nil {
		return 0, err
	}
	// Writable (a participant writes its slot), yet not the master.
	c, err := famfs.Open(path, famfs.OpenOptions{SystemUUID: clientUUID})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	raw, err := bare.OpenMeta(path, true)
	if err != nil {
		return 0, err
	}
	defer raw.Close()
	l, err := bare.NewLog(raw.Log())
	if err != nil {
		return 0, err
	}
	first := es[:pollChunk]
	if err := l.Append(first); err != nil {
		return 0, err
	}
	if _, err := c.Refresh(); err != nil {
		return 0, err
	}
	if reclaim {
		fl, err := c.OpenFile(first.FirstFile())
		if err != nil {
			return 0, err
		}
		h, err := fl.Hold()
		if err != nil {
			return 0, err
		}
		defer h.Release()
	}
	var total time.Duration
	for k := pollChunk; k < len(es); k += pollChunk {
		if err := l.Append(es[k:min(k+pollChunk, len(es))]); err != nil {
			return 0, err
		}
		d, err := o.timer(func() error { _, err := c.Refresh(); return err })()
		if err != nil {
			return 0, err
		}
		total += d
	}
	if got := c.Stats().Counts.Entries; got != uint64(len(es)) {
		return 0, fmt.Errorf("client replayed %d entries, want %d", got, len(es))
	}
	return total, nil
}

func runParticipate(o *Options) (Figure, error) {
	pp, pn := tempPath(o.Dir, "poll-part"), tempPath(o.Dir, "poll-plain")
	defer removeQuiet(pp)
	defer removeQuiet(pn)
	subject := func() (time.Duration, error) { return pollReplay(o, pp, true) }
	baseline := func() (time.Duration, error) { return pollReplay(o, pn, false) }
	if _, err := subject(); err != nil {
		return Figure{}, err
	}
	s, b, err := pair(o.Reps, subject, baseline)
	if err != nil {
		return Figure{}, err
	}
	sm, bm := ms(s), ms(b)
	n := uint64(bare.EntriesFor(o.LogLen))
	f := timeFigure(Participate, fmt.Sprintf("replay in %d-entry polls, participating", pollChunk), sm, bm, "plain", "same polls, no participant table", ParticipateTarget)
	f.Detail = fmt.Sprintf("%d polls, %.0f ns/entry, median ratio %.2fx", (n-1)/pollChunk, f.Value*1e6/float64(n), f.MedianRatio)
	return f, nil
}

func runHeldRead(o *Options) (Figure, error) {
	path := tempPath(o.Dir, "held")
	defer removeQuiet(path)
	mf, err := newMapFile(path, o.MapSize, true)
	if err != nil {
		return Figure{}, err
	}
	defer mf.close()
	subject := func() (time.Duration, error) { _, w, _, err := mf.readMapped(); return w, err }
	baseline := func() (time.Duration, error) { _, w, _, err := mf.readRaw(); return w, err }
	subject()
	baseline()
	s, b, err := pair(o.Reps, subject, baseline)
	if err != nil {
		return Figure{}, err
	}
	if ps, err := mf.FS.Participants(); err != nil || len(ps) == 0 {
		return Figure{}, fmt.Errorf("the held mapping's FS is not a registered participant (%v)", err)
	}
	sg, bg := gbPerSec(o.MapSize, s), gbPerSec(o.MapSize, b)
	best, base := slices.Max(sg), slices.Max(bg)
	f := Figure{ID: HeldRead, Name: fmt.Sprintf("File.Map read (%s), held", sizeName(o.MapSize)),
		Value: best, Unit: "GB/s", Baseline: base, BaseWord: "raw mmap", BaseName: "same loop",
		Ratio: best / base, MedianRatio: medianRatio(sg, bg),
		Target: fmt.Sprintf(">= %gx (as map)", MapTarget), Samples: sg, BaseSamples: bg}
	f.OK = f.Ratio >= MapTarget
	f.Detail = fmt.Sprintf("median ratio %.2fx; a registered participant, heartbeat every %v", f.MedianRatio, famfs.HeartbeatInterval)
	return f, nil
}
