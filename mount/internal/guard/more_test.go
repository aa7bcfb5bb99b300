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
	"testing"
	"time"
)

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
