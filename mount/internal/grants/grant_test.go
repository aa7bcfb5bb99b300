package grants

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/famfs-go/famfs/internal/testutil/sockpair"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/control"
	"github.com/famfs-go/famfs/mount/internal/guard"
)

// fakeHold counts its releases.
type fakeHold struct{ released *atomic.Int32 }

func (h fakeHold) Release() { h.released.Add(1) }

// leaseServer is a Server with only its grant state, whose requests are
// answered by a stub: a request with one descriptor is granted (a hold
// counted in released; a device descriptor attached when asked for),
// anything else refused with EBADF.
func leaseServer(t *testing.T, idle time.Duration) (*Server, *atomic.Int32) {
	t.Helper()
	s := &Server{lg: slog.New(slog.NewTextHandler(io.Discard, nil))}
	released := new(atomic.Int32)
	s.idle = idle
	s.answer = func(req []byte, fds []int, p guard.Peer) answer {
		r, err := control.DecodeGrantRequest(req)
		if err != nil || len(fds) != 1 {
			return answer{reply: control.GrantReply{Status: syscall.EBADF}}
		}
		a := answer{reply: control.GrantReply{AllocUnit: 2 << 20, DevAlign: 2 << 20, Ino: 42}, hold: fakeHold{released}}
		if r.Flags&control.GrantWantDevice != 0 {
			a.dev, _ = os.Open(os.Args[0])
		}
		return a
	}
	s.init()
	return s, released
}

// leaseConn connects a client, as uid, to a grantConn of s; done closes
// when the daemon side is finished with the connection.
func leaseConn(t *testing.T, s *Server, uid uint32) (client *net.UnixConn, done chan struct{}) {
	t.Helper()
	client, srv := sockpair.New(t, syscall.SOCK_SEQPACKET)
	if !s.limit.Take(uid) {
		t.Fatal("connection cap")
	}
	done = make(chan struct{})
	go func() {
		defer close(done)
		s.serveConn(guard.NewConn(srv, guard.Peer{UID: uid}, s.limit))
	}()
	return client, done
}

// ask sends a request (with proof as its descriptor, if not nil) and reads
// the reply; an attached descriptor is closed.
func ask(t *testing.T, c *net.UnixConn, flags uint32, proof *os.File) control.GrantReply {
	t.Helper()
	var rights []byte
	if proof != nil {
		rights = syscall.UnixRights(int(proof.Fd()))
	}
	if _, _, err := c.WriteMsgUnix(control.GrantRequest{Flags: flags}.Encode(), rights, nil); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf, oob := make([]byte, 4096), make([]byte, 64)
	n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			if fds, err := syscall.ParseUnixRights(&m); err == nil {
				for _, fd := range fds {
					syscall.Close(fd)
				}
			}
		}
	}
	r, err := control.DecodeGrantReply(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func waitDone(t *testing.T, done chan struct{}, limit time.Duration, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("timed out after %v waiting for %s", limit, what)
	}
}

// A grant is a lease: it holds its file for as long as the connection is
// open (no idle timeout once it holds one), further grants on the
// connection add holds, a refusal adds none, and the peer's close ends
// them all at once. Status counts leases, not connection slots.
func TestGrantLeaseLifecycle(t *testing.T) {
	const idle = 100 * time.Millisecond
	s, released := leaseServer(t, idle)
	proof, _ := os.Open(os.Args[0])
	defer proof.Close()
	c, done := leaseConn(t, s, 1000)
	st := func() Stats { return s.Stats() }
	if g := st(); g.Connections != 1 || g.Leases != 0 {
		t.Fatalf("pending connection: %+v", g)
	}
	if r := ask(t, c, control.GrantWantDevice, proof); r.Status != 0 || r.Ino != 42 {
		t.Fatalf("grant: %+v", r)
	}
	if g := st(); g.Leases != 1 || g.LeaseConns != 1 || g.Connections != 0 || g.Made != 1 {
		t.Fatalf("after one grant: %+v", g)
	}
	// Well past the idle timeout: still open, still held.
	select {
	case <-done:
		t.Fatal("a connection holding a lease was closed as idle")
	case <-time.After(4 * idle):
	}
	if released.Load() != 0 {
		t.Fatal("a hold ended while its connection was open")
	}
	if r := ask(t, c, 0, proof); r.Status != 0 {
		t.Fatalf("second grant: %+v", r)
	}
	if r := ask(t, c, 0, nil); r.Status != syscall.EBADF {
		t.Fatalf("refused request: %+v", r)
	}
	if g := st(); g.Leases != 2 || g.LeaseConns != 1 || g.MapOnly != 1 {
		t.Fatalf("after two grants and a refusal: %+v", g)
	}
	c.Close()
	waitDone(t, done, 10*time.Second, "the daemon side to see the close")
	if n := released.Load(); n != 2 {
		t.Fatalf("%d holds released at close, want 2", n)
	}
	if g := st(); g.Leases != 0 || g.LeaseConns != 0 || g.Connections != 0 {
		t.Fatalf("after the close: %+v", g)
	}
}

// Before its first grant a connection is closed when idle, and gives its
// slot back.
func TestGrantIdleBeforeLease(t *testing.T) {
	s, released := leaseServer(t, 50*time.Millisecond)
	_, done := leaseConn(t, s, 1000)
	waitDone(t, done, 10*time.Second, "the idle connection to be closed")
	if g := s.Stats(); g.Connections != 0 || g.Leases != 0 || released.Load() != 0 {
		t.Fatalf("%+v", g)
	}
}

// Leases have their own cap per user (past it: EDQUOT, the hold released
// at once), separate from the connection cap; root has none.
func TestGrantLeaseCap(t *testing.T) {
	s, released := leaseServer(t, time.Second)
	proof, _ := os.Open(os.Args[0])
	defer proof.Close()
	// More leases than the connection cap allows connections, one connection each.
	s.leases = guard.NewLimiter(guard.MaxConnsPerUID+3, control.MaxLeasesNonRoot)
	var conns []*net.UnixConn
	var dones []chan struct{}
	for i := range guard.MaxConnsPerUID + 3 {
		c, done := leaseConn(t, s, 1000)
		if r := ask(t, c, 0, proof); r.Status != 0 {
			t.Fatalf("lease %d: %+v", i, r)
		}
		conns, dones = append(conns, c), append(dones, done)
	}
	c, done := leaseConn(t, s, 1000)
	if r := ask(t, c, 0, proof); r.Status != syscall.EDQUOT {
		t.Fatalf("past the lease cap: %+v", r)
	}
	if released.Load() != 1 {
		t.Fatalf("the refused lease's hold: %d releases", released.Load())
	}
	rc, rdone := leaseConn(t, s, 0)
	if r := ask(t, rc, 0, proof); r.Status != 0 {
		t.Fatalf("root past the cap: %+v", r)
	}
	g := s.Stats()
	if g.Leases != guard.MaxConnsPerUID+4 || g.Refused[refLeases] != 1 || g.Connections != 1 {
		t.Fatalf("%+v", g)
	}
	for _, c := range append(conns, c, rc) {
		c.Close()
	}
	for i, d := range append(dones, done, rdone) {
		waitDone(t, d, 10*time.Second, fmt.Sprintf("connection %d to end", i))
	}
	if g := s.Stats(); g.Leases != 0 || g.Connections != 0 || released.Load() != guard.MaxConnsPerUID+5 {
		t.Fatalf("after the closes: %+v, %d releases", g, released.Load())
	}
}

func TestHoldRefusal(t *testing.T) {
	for _, c := range []struct {
		err    error
		reason string
		errno  syscall.Errno
	}{
		{&fs.PathError{Op: "hold", Path: "f", Err: famfs.ErrDeleted}, refDeleted, syscall.ENOENT},
		{fmt.Errorf("x: %w", famfs.ErrEvicted), refEvicted, syscall.EIO},
		{errors.New("other"), refHold, syscall.EIO},
	} {
		if r, e := holdRefusal(c.err); r != c.reason || e != c.errno {
			t.Errorf("%v: %s %v", c.err, r, e)
		}
	}
	for _, r := range []string{refDeleted, refEvicted, refLeases} {
		found := false
		for _, n := range refusalNames {
			found = found || n == r
		}
		if !found {
			t.Errorf("refusal %q is not counted", r)
		}
	}
}
