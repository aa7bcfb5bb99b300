package guard

import (
	"context"
	"net"
	"sync"
	"sync/atomic"

	"github.com/famfs-go/famfs/internal/control"
)

// Connection caps, per socket. Root is exempt.
const (
	MaxConnsPerUID  = 64   // one unprivileged user
	MaxConnsNonRoot = 1024 // all unprivileged users together
)

// Limiter counts one socket's open connections by uid (or, as the lease
// limiter, the grants in force).
type Limiter struct {
	mu         sync.Mutex
	idle       *sync.Cond // broadcast when total falls to zero
	byUID      map[uint32]int
	nonRoot    int
	total      int
	refused    atomic.Uint64
	perUID     int // caps for unprivileged users: each one, all together
	nonRootCap int
}

// NewLimiter returns a limiter with caps for each unprivileged user and for
// all of them together.
func NewLimiter(perUID, nonRootCap int) *Limiter {
	l := &Limiter{byUID: map[uint32]int{}, perUID: perUID, nonRootCap: nonRootCap}
	l.idle = sync.NewCond(&l.mu)
	return l
}

// NewConnLimiter counts a socket's connections, with the connection caps.
func NewConnLimiter() *Limiter { return NewLimiter(MaxConnsPerUID, MaxConnsNonRoot) }

// NewLeaseLimiter counts the grant socket's leases, with their larger caps.
func NewLeaseLimiter() *Limiter {
	return NewLimiter(control.MaxLeasesPerUID, control.MaxLeasesNonRoot)
}

// Take counts one more for uid, or reports false (and counts a refusal) if
// that would pass a cap.
func (l *Limiter) Take(uid uint32) bool {
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

// Release gives back one that Take counted for uid.
func (l *Limiter) Release(uid uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if uid != 0 {
		if l.byUID[uid]--; l.byUID[uid] <= 0 {
			delete(l.byUID, uid)
		}
		l.nonRoot--
	}
	l.total--
	if l.total == 0 {
		l.idle.Broadcast()
	}
}

// WaitIdle returns once nothing is counted.
func (l *Limiter) WaitIdle() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.total > 0 {
		l.idle.Wait()
	}
}

// Open returns the number counted now.
func (l *Limiter) Open() uint64 {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(l.total)
}

// Refused returns the number of refusals so far.
func (l *Limiter) Refused() uint64 { return l.refused.Load() }

// Limit returns a listener that accepts only connections whose peer is
// known and within lim's caps; the others are closed at once. It returns
// *Conn connections.
func Limit(ln net.Listener, lim *Limiter) net.Listener {
	return &limitedListener{Listener: ln, lim: lim}
}

type limitedListener struct {
	net.Listener
	lim *Limiter
}

func (l *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		p, err := PeerOf(c)
		if err != nil || !l.lim.Take(p.UID) {
			c.Close()
			continue
		}
		return NewConn(c, p, l.lim), nil
	}
}

// Conn is an accepted connection with its peer: it gives its slot back to
// its limiter when closed.
type Conn struct {
	net.Conn
	peer Peer
	lim  *Limiter
	once sync.Once
}

// NewConn wraps c, whose slot for p was taken from lim.
func NewConn(c net.Conn, p Peer, lim *Limiter) *Conn {
	return &Conn{Conn: c, peer: p, lim: lim}
}

// Peer returns who connected.
func (c *Conn) Peer() Peer { return c.peer }

func (c *Conn) Close() error {
	err := c.Conn.Close()
	c.FreeSlot()
	return err
}

// FreeSlot gives the connection's slot back before it closes: a grant
// connection that holds a lease is counted by the lease limiter instead.
func (c *Conn) FreeSlot() { c.once.Do(func() { c.lim.Release(c.peer.UID) }) }

type peerKey struct{}

// WithPeer puts a connection's peer into its requests' context (an
// http.Server's ConnContext).
func WithPeer(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*Conn); ok {
		return context.WithValue(ctx, peerKey{}, lc.peer)
	}
	return ctx
}

// PeerFrom returns the peer WithPeer put into ctx.
func PeerFrom(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(Peer)
	return p, ok
}
