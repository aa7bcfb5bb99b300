package guard

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/famfs-go/famfs/internal/testutil/sockpair"
)

func TestPeerPermits(t *testing.T) {
	file := &syscall.Stat_t{Mode: syscall.S_IFREG | 0o640, Uid: 1000, Gid: 100}
	cases := []struct {
		p    Peer
		want uint32
		ok   bool
	}{
		{Peer{UID: 0, GID: 0}, 6, true},                              // root
		{Peer{UID: 1000, GID: 5}, 4, true},                           // owner reads
		{Peer{UID: 1000, GID: 5}, 6, true},                           // owner reads and writes
		{Peer{UID: 2000, GID: 100}, 4, true},                         // group reads
		{Peer{UID: 2000, GID: 7, Groups: []uint32{3, 100}}, 4, true}, // supplementary group reads
		{Peer{UID: 2000, GID: 100}, 6, false},                        // group may not write
		{Peer{UID: 2000, GID: 2000}, 4, false},                       // others: nothing
		{Peer{UID: 1000, GID: 100}, 1, false},                        // owner bits decide, not group's
	}
	for _, c := range cases {
		if got := c.p.Permits(file, c.want); got != c.ok {
			t.Errorf("%+v want %d: %v", c.p, c.want, got)
		}
	}
}

// mayOpen needs search permission on every directory and the file's bits.
func TestPeerMayOpen(t *testing.T) {
	dir := t.TempDir() // .../TestPeerMayOpenNNN/001: both the test's own
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	dev := filepath.Join(sub, "dev")
	os.WriteFile(dev, nil, 0o644)
	nobody := Peer{UID: 65534, GID: 65534}
	for d := filepath.Dir(filepath.Dir(dir)); ; d = filepath.Dir(d) {
		var st syscall.Stat_t
		if syscall.Stat(d, &st) != nil || st.Mode&1 == 0 {
			t.Skipf("%s is not searchable by others here", d)
		}
		if d == "/" {
			break
		}
	}
	if !nobody.MayOpen(dev, false) || nobody.MayOpen(dev, true) {
		t.Fatal("0644 file: read yes, write no")
	}
	os.Chmod(sub, 0o700)
	if nobody.MayOpen(dev, false) {
		t.Fatal("a directory without search permission was ignored")
	}
	if !(Peer{}).MayOpen(dev, true) {
		t.Fatal("root")
	}
	os.Chmod(sub, 0o755)
	os.Chmod(dev, 0o600)
	if nobody.MayOpen(dev, false) {
		t.Fatal("0600 file")
	}
}

func TestConnLimiter(t *testing.T) {
	l := NewConnLimiter()
	for i := 0; i < MaxConnsPerUID; i++ {
		if !l.Take(1000) {
			t.Fatalf("connection %d refused", i)
		}
	}
	if l.Take(1000) {
		t.Fatal("past the per-uid cap")
	}
	if !l.Take(1001) || !l.Take(0) {
		t.Fatal("another user, or root, was refused")
	}
	for i := 0; i < 2*MaxConnsNonRoot; i++ {
		l.Take(0) // root is exempt
	}
	l.Release(1000)
	if !l.Take(1000) {
		t.Fatal("a released slot was not reusable")
	}
	if got := l.Refused(); got != 1 {
		t.Fatalf("refused %d, want 1", got)
	}
	for uid := uint32(2000); l.nonRoot < MaxConnsNonRoot; uid++ {
		l.Take(uid)
	}
	if l.Take(9999) {
		t.Fatal("past the total cap")
	}
}

// peerOf reads this process's own credentials over a socket pair.
func TestPeerOf(t *testing.T) {
	c, _ := sockpair.New(t, syscall.SOCK_STREAM)
	p, err := PeerOf(c)
	if err != nil {
		t.Fatal(err)
	}
	groups, _ := os.Getgroups()
	if int(p.PID) != os.Getpid() || int(p.UID) != os.Getuid() || int(p.GID) != os.Getgid() || len(p.Groups) != len(groups) {
		t.Fatalf("%+v, want pid %d uid %d gid %d groups %v", p, os.Getpid(), os.Getuid(), os.Getgid(), groups)
	}
}

func TestTrusted(t *testing.T) {
	dir := t.TempDir() // 0700: nobody else may search it
	dev := filepath.Join(dir, "dev")
	os.WriteFile(dev, nil, 0o666)
	nobody := Peer{UID: 65534, GID: 65534}
	tr := Trust{Device: dev}
	if !tr.Trusted(Peer{}, true) {
		t.Error("root")
	}
	if tr.Trusted(nobody, false) {
		t.Error("a user who may not open the device")
	}
	tr.Group, tr.HasGroup = 4242, true
	if !tr.Trusted(Peer{UID: 65534, GID: 1, Groups: []uint32{4242}}, true) {
		t.Error("a member of the zerocopy group")
	}
	if tr.Trusted(nobody, false) {
		t.Error("not a member")
	}
	// Group 0 is no group unless set.
	if (Trust{Device: dev}).Trusted(Peer{UID: 65534, GID: 0}, false) {
		t.Error("gid 0 trusted without a zerocopy group")
	}
}

func TestLookupGroup(t *testing.T) {
	if g, err := LookupGroup("root"); err != nil || g != 0 {
		t.Errorf("root: %d %v", g, err)
	}
	if g, err := LookupGroup("4242"); err != nil || g != 4242 {
		t.Errorf("4242: %d %v", g, err)
	}
	if _, err := LookupGroup("no-such-group-here"); err == nil || !strings.Contains(err.Error(), "zerocopy_group=no-such-group-here") {
		t.Errorf("missing group: %v", err)
	}
}

func TestProcGroups(t *testing.T) {
	want, _ := os.Getgroups()
	got, err := ProcGroups(os.Getpid())
	if err != nil || len(got) != len(want) {
		t.Errorf("%v %v, want %v", got, err, want)
	}
	if _, err := ProcGroups(0); err == nil {
		t.Error("pid 0")
	}
}

// WaitIdle returns once the last one counted is released.
func TestLimiterWaitIdle(t *testing.T) {
	l := NewLeaseLimiter()
	l.WaitIdle() // nothing counted
	l.Take(1000)
	l.Take(0)
	done := make(chan struct{})
	go func() { l.WaitIdle(); close(done) }()
	l.Release(1000)
	select {
	case <-done:
		t.Fatal("idle with one still counted")
	default:
	}
	l.Release(0)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("WaitIdle did not return")
	}
	var nl *Limiter
	nl.WaitIdle()
	if nl.Open() != 0 {
		t.Error("nil limiter")
	}
}

// The limited listener hands out connections with their peer and counts
// them until closed.
func TestLimitListener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lim := NewConnLimiter()
	lln := Limit(ln, lim)
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := lln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	c1, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	s1 := <-accepted
	lc, ok := s1.(*Conn)
	if !ok || int(lc.Peer().UID) != os.Getuid() || int(lc.Peer().PID) != os.Getpid() {
		t.Fatalf("%T %+v", s1, lc.Peer())
	}
	if lim.Open() != 1 {
		t.Errorf("open %d", lim.Open())
	}
	ctx := WithPeer(context.Background(), s1)
	if p, ok := PeerFrom(ctx); !ok || p.UID != lc.Peer().UID {
		t.Errorf("peer from context: %+v %v", p, ok)
	}
	if _, ok := PeerFrom(WithPeer(context.Background(), c1)); ok {
		t.Error("a peer for a plain connection")
	}
	lc.FreeSlot()
	lc.Close() // the slot is given back once
	if lim.Open() != 0 {
		t.Errorf("open %d after close", lim.Open())
	}
	ln.Close()
	for range accepted {
	}
}

// The middleware lets anyone GET; others need trust and get 403 and a count.
func TestMiddleware(t *testing.T) {
	var forbidden atomic.Uint64
	dir := t.TempDir()
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }),
		Trust{Device: filepath.Join(dir, "dev")}, &forbidden)
	do := func(method string, p *Peer) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/x", nil)
		if p != nil {
			r = r.WithContext(context.WithValue(r.Context(), peerKey{}, *p))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := do("GET", nil); w.Code != 200 {
		t.Errorf("GET: %d", w.Code)
	}
	if w := do("HEAD", &Peer{UID: 65534}); w.Code != 200 {
		t.Errorf("HEAD: %d", w.Code)
	}
	if w := do("POST", nil); w.Code != 403 || !strings.Contains(w.Body.String(), "uid unknown") {
		t.Errorf("POST, no peer: %d %s", w.Code, w.Body)
	}
	if w := do("POST", &Peer{UID: 65534, GID: 65534}); w.Code != 403 || !strings.Contains(w.Body.String(), "uid 65534 may not") {
		t.Errorf("POST, nobody: %d %s", w.Code, w.Body)
	}
	if w := do("POST", &Peer{}); w.Code != 200 {
		t.Errorf("POST, root: %d", w.Code)
	}
	if forbidden.Load() != 2 {
		t.Errorf("forbidden %d", forbidden.Load())
	}
}
