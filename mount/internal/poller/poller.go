package poller

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	famfs "github.com/famfs-go/famfs"
)

// Target is what the poller keeps informed: the mount's node tree.
type Target interface {
	// Gone reports whether MarkGone was called.
	Gone() (string, bool)
	// MarkGone records that the file system was re-made (msg says how).
	MarkGone(msg string)
	// Notify tells of nodes replay added or removed.
	Notify(changed []famfs.Node)
}

// Config configures a Poller.
type Config struct {
	FS       *famfs.FS
	Interval time.Duration // how often to look at the log header
	Device   string        // for the log message when the device is re-made
	Target   Target
	Logger   *slog.Logger
}

// Poller is the replay loop of one mount.
type Poller struct {
	cfg      Config
	lg       *slog.Logger
	lastLog  atomic.Uint64 // header next_index at the last poll
	trigger  chan chan result
	stop     chan struct{}
	done     chan struct{}
	started  atomic.Bool
	stopOnce sync.Once

	polls, replays, applied, problems atomic.Uint64
}

type result struct {
	st  famfs.ReplayStatus
	err error
}

// New returns a poller of cfg.FS; Start starts it. It warns when the log is
// over 90% full.
func New(cfg Config) *Poller {
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	p := &Poller{cfg: cfg, lg: lg, trigger: make(chan chan result), stop: make(chan struct{}), done: make(chan struct{})}
	next, slots, _ := cfg.FS.LogStatus()
	p.lastLog.Store(next)
	if famfs.LogNearlyFull(next, slots) {
		lg.Warn("the famfs log is over 90% full", "used", next, "slots", slots)
	}
	return p
}

// Start starts the loop.
func (p *Poller) Start() {
	if p.started.CompareAndSwap(false, true) {
		go p.loop()
	}
}

// Stop stops the loop and waits for it to end.
func (p *Poller) Stop() {
	p.stopOnce.Do(func() {
		close(p.stop)
		if p.started.Load() {
			<-p.done
		}
	})
}

// LastLog returns the log header's next index at the last replay.
func (p *Poller) LastLog() uint64 { return p.lastLog.Load() }

// Counters adds the poller's counters to m, by the names GET /status shows.
func (p *Poller) Counters(m map[string]uint64) {
	m["polls"] = p.polls.Load()
	m["replays"] = p.replays.Load()
	m["entries_applied"] = p.applied.Load()
	m["problems"] = p.problems.Load()
}

// loop watches the log header and the superblock in shared memory and
// applies new entries as they appear.
func (p *Poller) loop() {
	defer close(p.done)
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	tg := p.cfg.Target
	for {
		var reply chan result
		select {
		case <-p.stop:
			return
		case <-t.C:
		case reply = <-p.trigger:
		}
		p.polls.Add(1)
		if _, gone := tg.Gone(); !gone {
			if err := p.cfg.FS.CheckSuperblock(); err != nil {
				tg.MarkGone(err.Error())
				p.lg.Error("the file system under this mount is gone; serving EIO from now on (unmount and mount again)", "device", p.cfg.Device, "err", err)
			}
		}
		var res result
		if _, gone := tg.Gone(); gone {
			res.err = famfs.ErrFSChanged
		} else if changed, err := p.cfg.FS.Changed(); err != nil {
			res.err = err
		} else if changed || reply != nil {
			res.st, res.err = p.replay()
		}
		if reply != nil {
			reply <- res
		}
	}
}

// replay applies new entries and tells the target about them.
func (p *Poller) replay() (famfs.ReplayStatus, error) {
	st, err := p.cfg.FS.Refresh()
	p.lastLog.Store(st.LogNext)
	if st.Applied > 0 {
		p.replays.Add(1)
		p.applied.Add(st.Applied)
	}
	p.problems.Add(uint64(len(st.Problems)))
	if len(st.Added) > 0 || len(st.Removed) > 0 {
		p.cfg.Target.Notify(append(st.Added, st.Removed...))
	}
	if slots := st.Capacity; st.Applied > 0 {
		before, after := st.LogNext-st.Applied, st.LogNext
		if !famfs.LogNearlyFull(before, slots) && famfs.LogNearlyFull(after, slots) {
			p.lg.Warn("the famfs log is over 90% full", "used", after, "slots", slots)
		}
	}
	if err != nil && !errors.Is(err, famfs.ErrLogDamaged) {
		p.lg.Warn("replay", "err", err)
	}
	return st, err
}

// Replay makes the loop replay now and waits for the result.
func (p *Poller) Replay() (famfs.ReplayStatus, error) {
	reply := make(chan result, 1)
	select {
	case p.trigger <- reply:
	case <-p.stop:
		return famfs.ReplayStatus{}, errors.New("the mount is shutting down")
	}
	r := <-reply
	return r.st, r.err
}
