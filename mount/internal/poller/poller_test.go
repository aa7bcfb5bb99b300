package poller

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/google/uuid"
)

var (
	masterID = uuid.MustParse("70707070-0000-4000-8000-000000000001")
	clientID = uuid.MustParse("70707070-0000-4000-8000-000000000002")
	quiet    = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// target records what the poller tells it.
type target struct {
	mu       sync.Mutex
	gone     *string
	notified chan []famfs.Node
}

func newTarget() *target { return &target{notified: make(chan []famfs.Node, 100)} }

func (t *target) Gone() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gone == nil {
		return "", false
	}
	return *t.gone, true
}
func (t *target) MarkGone(msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gone = &msg
}
func (t *target) Notify(changed []famfs.Node) { t.notified <- changed }

// setup makes a file system and returns the device, a master handle to
// change it with and a client handle for the poller.
func setup(t *testing.T) (string, *famfs.FS, *famfs.FS) {
	t.Helper()
	dev := filepath.Join(t.TempDir(), "famfs.img")
	if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: masterID}); err != nil {
		t.Fatal(err)
	}
	open := func(id uuid.UUID) *famfs.FS {
		f, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: id, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	return dev, open(masterID), open(clientID)
}

func start(t *testing.T, fsys *famfs.FS, interval time.Duration) (*Poller, *target) {
	tg := newTarget()
	p := New(Config{FS: fsys, Interval: interval, Device: "test", Target: tg, Logger: quiet})
	p.Start()
	t.Cleanup(p.Stop)
	return p, tg
}

// waitNotify waits (with a deadline, not a sleep) for the target to hear of
// a node named name.
func waitNotify(t *testing.T, tg *target, name string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ns := <-tg.notified:
			for _, n := range ns {
				if n.Name() == name {
					return
				}
			}
		case <-deadline:
			t.Fatalf("the poller never told of %s", name)
		}
	}
}

// The loop replays what the master logs and tells the target of it.
func TestPollReplays(t *testing.T) {
	_, master, client := setup(t)
	p, tg := start(t, client, time.Millisecond)
	before := p.LastLog()
	if _, err := master.Create("a", famfs.CreateOptions{Size: 1, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	waitNotify(t, tg, "a")
	if _, err := client.Lookup("a"); err != nil {
		t.Fatalf("the client does not see a: %v", err)
	}
	if p.LastLog() <= before {
		t.Errorf("LastLog %d, was %d", p.LastLog(), before)
	}
	if err := master.Mkdir("d", famfs.MkdirOptions{Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	waitNotify(t, tg, "d")
	c := map[string]uint64{}
	p.Counters(c)
	if c["polls"] == 0 || c["replays"] < 2 || c["entries_applied"] < 2 || c["problems"] != 0 {
		t.Errorf("counters %v", c)
	}
}

// Replay replays at once, whatever the interval, and reports what it
// applied.
func TestReplayNow(t *testing.T) {
	_, master, client := setup(t)
	p, tg := start(t, client, 24*time.Hour)
	if _, err := master.Create("b", famfs.CreateOptions{Size: 1, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	st, err := p.Replay()
	if err != nil || st.Applied != 1 || len(st.Added) != 1 || st.Added[0].Name() != "b" {
		t.Fatalf("replay: %v %+v", err, st)
	}
	waitNotify(t, tg, "b")
	st, err = p.Replay()
	if err != nil || st.Applied != 0 {
		t.Fatalf("second replay: %v %+v", err, st)
	}
	if next, _, _ := client.LogStatus(); p.LastLog() != next {
		t.Errorf("LastLog %d, log at %d", p.LastLog(), next)
	}
}

// A file system re-made under the poller marks the target gone, once, and
// replay reports ErrFSChanged from then on.
func TestRemade(t *testing.T) {
	dev, _, client := setup(t)
	p, tg := start(t, client, 24*time.Hour)
	if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: masterID, Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Replay(); !errors.Is(err, famfs.ErrFSChanged) {
		t.Fatalf("replay after mkfs: %v", err)
	}
	msg, gone := tg.Gone()
	if !gone || msg == "" {
		t.Fatalf("not marked gone: %q", msg)
	}
	if _, err := p.Replay(); !errors.Is(err, famfs.ErrFSChanged) {
		t.Fatalf("second replay: %v", err)
	}
	if m, _ := tg.Gone(); m != msg {
		t.Errorf("marked again: %q, was %q", m, msg)
	}
}

// Stop ends the loop (also before Start, and twice); Replay then fails
// instead of waiting.
func TestStop(t *testing.T) {
	_, _, client := setup(t)
	idle := New(Config{FS: client, Interval: time.Hour, Target: newTarget()})
	idle.Stop()
	idle.Stop()
	p, _ := start(t, client, time.Hour)
	p.Stop()
	p.Stop()
	if _, err := p.Replay(); err == nil {
		t.Error("replay after stop")
	}
}
