package mount

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/famfs-go/famfs/control"
	"golang.org/x/sys/unix"
)

// What keeps the daemon's sockets (control and grant) available to everyone:
// the peer's credentials taken when it connects, a cap on the connections
// one unprivileged user may hold, and the trust rule for anything beyond
// reading status.

// Connection caps, per socket. Root is exempt.
const (
	maxConnsPerUID  = 64   // one unprivileged user
	maxConnsNonRoot = 1024 // all unprivileged users together
)

// peer is who is at the other end of a Unix socket, as the kernel recorded
// it at connect time (SO_PEERCRED, SO_PEERGROUPS).
type peer struct {
	pid      int32
	uid, gid uint32
	groups   []uint32 // supplementary groups
}

// peerOf reads the credentials of a Unix socket connection.
func peerOf(c net.Conn) (peer, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return peer{}, errors.New("not a socket")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return peer{}, err
	}
	var p peer
	var perr error
	err = raw.Control(func(fd uintptr) {
		var cred *unix.Ucred
		cred, perr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if perr != nil {
			return
		}
		p = peer{pid: cred.Pid, uid: cred.Uid, gid: cred.Gid}
		p.groups, perr = peerGroups(int(fd))
		if perr != nil {
			// Kernels before 4.13: the process's groups now, not at connect.
			p.groups, perr = procGroups(int(cred.Pid))
		}
	})
	if err == nil {
		err = perr
	}
	return p, err
}

// peerGroups reads SO_PEERGROUPS.
func peerGroups(fd int) ([]uint32, error) {
	buf := make([]uint32, 32)
	for {
		size := uint32(4 * len(buf))
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0)
		switch {
		case e == unix.ERANGE && size > uint32(4*len(buf)) && size <= 4*65536:
			buf = make([]uint32, size/4)
			continue
		case e != 0:
			return nil, e
		}
		return buf[:size/4], nil
	}
}

// procGroups reads the supplementary groups of process pid.
func procGroups(pid int) ([]uint32, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Groups:"); ok {
			var gs []uint32
			for _, g := range strings.Fields(rest) {
				if v, err := strconv.ParseUint(g, 10, 32); err == nil {
					gs = append(gs, uint32(v))
				}
			}
			return gs, nil
		}
	}
	return nil, errors.New("no Groups line")
}

func (p peer) inGroup(gid uint32) bool {
	if p.gid == gid {
		return true
	}
	for _, g := range p.groups {
		if g == gid {
			return true
		}
	}
	return false
}

// permits applies the owner/group/other bits of st for want (4 read, 2
// write, 1 search).
func (p peer) permits(st *syscall.Stat_t, want uint32) bool {
	if p.uid == 0 {
		return true
	}
	mode := st.Mode & 0o777
	switch {
	case p.uid == st.Uid:
		return (mode>>6)&want == want
	case p.inGroup(st.Gid):
		return (mode>>3)&want == want
	}
	return mode&want == want
}

// mayOpen reports whether p could open path itself (read, and write with
// write): search permission on every directory on the way and the file's
// own bits. ACLs and capabilities are not considered (root is).
func (p peer) mayOpen(path string, write bool) bool {
	if p.uid == 0 {
		return true
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	var st syscall.Stat_t
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if syscall.Stat(dir, &st) != nil || !p.permits(&st, 1) {
			return false
		}
		if dir == "/" {
			break
		}
	}
	want := uint32(4)
	if write {
		want |= 2
	}
	return syscall.Stat(abs, &st) == nil && p.permits(&st, want)
}

// trusted reports whether p may have a descriptor of the device (read-only,
// or writable with write): root, a member of -o zerocopy_group, or a user
// who may open the device itself.
func (s *Server) trusted(p peer, write bool) bool {
	if p.uid == 0 {
		return true
	}
	if gid := s.grants.zcGroup; gid >= 0 && p.inGroup(uint32(gid)) {
		return true
	}
	return p.mayOpen(s.opts.Device, write)
}

// lookupGroup resolves a group name (or number) to its gid.
func lookupGroup(name string) (uint32, error) {
	if g, err := user.LookupGroup(name); err == nil {
		v, err := strconv.ParseUint(g.Gid, 10, 32)
		if err == nil {
			return uint32(v), nil
		}
	}
	if v, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(v), nil
	}
	return 0, fmt.Errorf("zerocopy_group=%s: no such group", name)
}

// connLimiter counts one socket's open connections by uid (or, as the lease
// limiter, the grants in force).
type connLimiter struct {
	mu         sync.Mutex
	idle       *sync.Cond // broadcast when total falls to zero (lease limiter only)
	byUID      map[uint32]int
	nonRoot    int
	total      int
	refused    atomic.Uint64
	perUID     int // caps for unprivileged users: each one, all together
	nonRootCap int
}

func newConnLimiter() *connLimiter {
	return &connLimiter{byUID: map[uint32]int{}, perUID: maxConnsPerUID, nonRootCap: maxConnsNonRoot}
}

// newLeaseLimiter counts the grant socket's leases, with their larger caps.
func newLeaseLimiter() *connLimiter {
	l := &connLimiter{byUID: map[uint32]int{}, perUID: control.MaxLeasesPerUID, nonRootCap: control.MaxLeasesNonRoot}
	l.idle = sync.NewCond(&l.mu)
	return l
}

func (l *connLimiter) take(uid uint32) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if uid != 0 {
		if l.byUID[uid] >= l.perUID || l.nonRoot >= l.nonRootCap {
			l.refused.Add(1)
			return false
		}
		l.byUID[uid]++
		l.nonRoot++
	}
	l.total++
	return true
}

func (l *connLimiter) release(uid uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if uid != 0 {
		if l.byUID[uid]--; l.byUID[uid] <= 0 {
			delete(l.byUID, uid)
		}
		l.nonRoot--
	}
	l.total--
	if l.total == 0 && l.idle != nil {
		l.idle.Broadcast()
	}
}

// waitIdle returns once no connection (lease) is counted.
func (l *connLimiter) waitIdle() {
	if l == nil || l.idle == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.total > 0 {
		l.idle.Wait()
	}
}

// open returns the number of connections open now.
func (l *connLimiter) open() uint64 {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(l.total)
}

// limitedListener accepts only connections whose peer is known and within
// the caps; the others are closed at once.
type limitedListener struct {
	net.Listener
	lim *connLimiter
}

func (l *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		p, err := peerOf(c)
		if err != nil || !l.lim.take(p.uid) {
			c.Close()
			continue
		}
		return &limitedConn{Conn: c, peer: p, lim: l.lim}, nil
	}
}

// limitedConn gives its slot back when closed.
type limitedConn struct {
	net.Conn
	peer peer
	lim  *connLimiter
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.freeSlot()
	return err
}

// freeSlot gives the connection's slot back before it closes: a grant
// connection that holds a lease is counted by the lease limiter instead.
func (c *limitedConn) freeSlot() { c.once.Do(func() { c.lim.release(c.peer.uid) }) }

type peerKey struct{}

// withPeer puts a connection's peer into its requests' context.
func withPeer(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitedConn); ok {
		return context.WithValue(ctx, peerKey{}, lc.peer)
	}
	return ctx
}

func peerFrom(r *http.Request) (peer, bool) {
	p, ok := r.Context().Value(peerKey{}).(peer)
	return p, ok
}

// guard lets only root and users trusted with the device make requests
// that change the daemon's state (anything but GET and HEAD).
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			p, ok := peerFrom(r)
			if !ok || !s.trusted(p, false) {
				uid := "unknown"
				if ok {
					uid = strconv.FormatUint(uint64(p.uid), 10)
				}
				s.grants.ctlRefused.Add(1)
				http.Error(w, fmt.Sprintf("%s %s: only root and users trusted with the device %s (who may open it, or -o zerocopy_group) may do this; uid %s may not",
					r.Method, r.URL.Path, s.opts.Device, uid), http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Control socket limits: a connection that sends nothing is closed after
// controlIdle; headers are small.
const (
	controlIdle      = 10 * time.Second
	controlMaxHeader = 8 << 10
)

// controlServer is the control socket's HTTP server: timeouts so that idle
// or slow connections go away, small headers so that memory stays bounded.
func (s *Server) controlServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       controlIdle,
		WriteTimeout:      time.Minute, // a replay of a long log takes a while
		IdleTimeout:       controlIdle,
		MaxHeaderBytes:    controlMaxHeader,
		ConnContext:       withPeer,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
}

// limitControl caps the control socket's connections per uid.
func (s *Server) limitControl(ln net.Listener) net.Listener {
	s.grants.ctlLimit = newConnLimiter()
	return &limitedListener{Listener: ln, lim: s.grants.ctlLimit}
}

// accessStatus adds the grant and connection figures to a status.
func (s *Server) accessStatus(st *control.Status) {
	st.Grants = s.grantStatus()
	if l := s.grants.ctlLimit; l != nil {
		st.Control = &control.ConnStats{Open: l.open(), Refused: l.refused.Load(), Forbidden: s.grants.ctlRefused.Load()}
	}
}
