package mount

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/control"
	"github.com/famfs-go/famfs/mount/internal/ctlsock"
	"github.com/famfs-go/famfs/mount/internal/grants"
	"github.com/google/uuid"
	"github.com/hanwen/go-fuse/v2/fuse"
)

var (
	masterID = uuid.MustParse("6d6f756e-0000-4000-8000-000000000001")
	clientID = uuid.MustParse("6d6f756e-0000-4000-8000-000000000002")
)

// server makes a file system and a Server of it, as Serve does but without
// the kernel mount; the poller runs.
func server(t *testing.T, reclaim bool, id uuid.UUID, edit func(*Options)) (*Server, string) {
	t.Helper()
	dir := t.TempDir()
	dev := filepath.Join(dir, "famfs.img")
	if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: masterID, Reclaim: reclaim}); err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.Device, o.Mountpoint, o.SystemUUID = dev, dir, id
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	o.PollInterval = time.Hour
	if edit != nil {
		edit(&o)
	}
	s, err := newServer(o)
	if err != nil {
		t.Fatal(err)
	}
	s.poller.Start()
	t.Cleanup(s.shutdown)
	return s, dev
}

// Status puts together the file system's, the poller's and the tree's
// figures.
func TestStatus(t *testing.T) {
	s, dev := server(t, true, masterID, func(o *Options) { o.Cache = CacheOpen; o.Coherence = CoherenceOn })
	if _, err := s.FS().Create("f", famfs.CreateOptions{Size: 1, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replay(); err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	next, slots, _ := s.FS().LogStatus()
	if st.Device != dev || st.Role != "master" || st.CacheMode != "open" || st.Coherence != "on" || st.ReadOnly ||
		st.LogEntries != next || st.LogCapacity != slots || st.LogFill <= 0 || st.PollInterval != 3.6e6 ||
		st.Space == nil || st.FSChanged != "" || st.Grants != nil || st.Control != nil || st.LogLevel != "INFO" {
		t.Errorf("%+v", st)
	}
	var keys []string
	for k := range st.Counters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"entries_applied", "getattr", "lookup", "notifications", "open", "polls", "problems", "read",
		"read_bytes", "readdir", "readlink", "refused", "removed", "replays", "write", "write_bytes"}
	if !slices.Equal(keys, want) {
		t.Errorf("counters %v, want %v", keys, want)
	}
	if st.Counters["polls"] != 1 {
		t.Errorf("polls %d", st.Counters["polls"])
	}
	if err := s.Invalidate("f"); err != nil {
		t.Error(err)
	}
	if err := s.Invalidate("missing"); err == nil {
		t.Error("invalidate of a missing file")
	}
	// A re-made device shows in the status.
	if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: masterID, Force: true, ForceParticipants: true}); err != nil {
		t.Fatal(err)
	}
	s.Replay()
	if st := s.Status(); st.FSChanged == "" {
		t.Errorf("re-made: %+v", st)
	}
}

// A client's status; its data is read-only unless asked for rw.
func TestStatusClient(t *testing.T) {
	s, _ := server(t, false, clientID, nil)
	if st := s.Status(); st.Role != "client" || !st.ReadOnly || st.Space != nil || st.Coherence != "off" || st.CacheMode != "direct" {
		t.Errorf("%+v", st)
	}
	if mo := mountOptions(s.opts, s.fsys, s.lg); mo.DirectMountFlags&syscall.MS_RDONLY == 0 || !slices.Contains(mo.Options, "default_permissions") {
		t.Errorf("client mount options %+v", mo)
	}
	rw, _ := server(t, false, clientID, func(o *Options) { o.ReadWrite = true; o.DefaultPermissions = false; o.Debug = true })
	if mo := mountOptions(rw.opts, rw.fsys, rw.lg); mo.DirectMountFlags&syscall.MS_RDONLY != 0 || slices.Contains(mo.Options, "default_permissions") || mo.Logger != nil {
		t.Errorf("rw client mount options %+v", mo)
	}
}

func TestOpenFlags(t *testing.T) {
	for c, want := range map[CacheMode]uint32{
		CacheDirect: fuse.FOPEN_DIRECT_IO | fuse.FOPEN_PARALLEL_DIRECT_WRITES, "": fuse.FOPEN_DIRECT_IO | fuse.FOPEN_PARALLEL_DIRECT_WRITES,
		CacheOpen: 0, CacheKeep: fuse.FOPEN_KEEP_CACHE,
	} {
		if got := openFlags(c); got != want {
			t.Errorf("%q: %#x, want %#x", c, got, want)
		}
	}
}

// ServeControl answers the control socket with the whole status, grants
// and connections included; a bad zerocopy group fails it.
func TestServeControl(t *testing.T) {
	if syscall.Getuid() != 0 {
		t.Skip("the sockets live in " + control.Dir + ", root's")
	}
	bad, _ := server(t, false, masterID, func(o *Options) { o.ZeroCopyGroup = "no-such-group-here" })
	if _, err := bad.ServeControl(); err == nil {
		t.Error("an unknown zerocopy group was accepted")
	}
	s, _ := server(t, false, masterID, func(o *Options) { o.ZeroCopyGroup = "root"; o.Level = new(slog.LevelVar) })
	stop, err := s.ServeControl()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	c := NewClient(s.opts.Mountpoint)
	st, err := c.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Grants == nil || st.Grants.ZeroCopyGroup != "root" || st.Control == nil || st.Control.Open != 1 || st.Role != "master" {
		t.Errorf("%+v (grants %+v, control %+v)", st, st.Grants, st.Control)
	}
	if r, err := c.Replay(); err != nil || r.Error != "" {
		t.Errorf("replay: %+v %v", r, err)
	}
}

// The status carries every count of the sockets under its own JSON name.
func TestSocketStats(t *testing.T) {
	g := grants.Stats{Made: 1, MapOnly: 2, Refused: map[string]uint64{"untrusted": 3}, ZeroCopyGroup: "zc",
		Connections: 4, ConnectionsRefused: 5, Leases: 6, LeaseConns: 7}
	b, _ := json.Marshal(grantStats(g))
	if want := `{"made":1,"map_only":2,"refused":{"untrusted":3},"zerocopy_group":"zc","connections":4,"connections_refused":5,"leases":6,"lease_conns":7}`; string(b) != want {
		t.Errorf("grants %s\nwant   %s", b, want)
	}
	b, _ = json.Marshal(connStats(ctlsock.Stats{Open: 1, Refused: 2, Forbidden: 3}))
	if want := `{"open":1,"refused":2,"forbidden":3}`; string(b) != want {
		t.Errorf("control %s, want %s", b, want)
	}
}

// A replay's answer says where it waits and why it failed, on the wire as
// docs/protocol.md names it.
func TestReplayAnswer(t *testing.T) {
	if r := replayAnswer(famfs.ReplayStatus{Applied: 3, Next: 7}, nil); r != (Replay{Applied: 3, Next: 7}) {
		t.Errorf("clean replay: %+v", r)
	}
	r := replayAnswer(famfs.ReplayStatus{Next: 7, Stuck: &famfs.BadEntry{Index: 7, Err: errors.New("torn")}}, errors.New("stuck"))
	if r.Stuck == "" || !strings.Contains(r.Stuck, "torn") || r.Error != "stuck" {
		t.Errorf("stuck replay: %+v", r)
	}
	b, _ := json.Marshal(r)
	if want := `{"applied":0,"next":7,"stuck":"log entry 7: torn","error":"stuck"}`; string(b) != want {
		t.Errorf("on the wire %s, want %s", b, want)
	}
}
