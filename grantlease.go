package famfs

import (
	"io"
	"sync"
)

// grantLease keeps the lease of an FS that OpenMounted opened with a grant
// (internal/control.Lease): the mount's daemon holds the file for this process until
// the lease's connection closes. The FS keeps it until it is closed and
// every Mapping made through it is unmapped (Mappings outlive Close).
type grantLease struct {
	mu     sync.Mutex
	lease  io.Closer
	ino    uint64 // the file the daemon holds for the lease
	maps   int    // live Mappings
	closed bool   // FS.Close was called
}

// covers reports whether the lease holds inode ino against reuse.
func (g *grantLease) covers(ino uint64) bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lease != nil && g.ino == ino
}

// pin counts one more Mapping; the returned function (idempotent) uncounts it.
func (g *grantLease) pin() func() {
	if g == nil {
		return func() {}
	}
	g.mu.Lock()
	g.maps++
	g.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { g.drop(false) }) }
}

// close is FS.Close's part.
func (g *grantLease) close() {
	if g != nil {
		g.drop(true)
	}
}

func (g *grantLease) drop(closing bool) {
	g.mu.Lock()
	if closing {
		g.closed = true
	} else {
		g.maps--
	}
	var end io.Closer
	if g.closed && g.maps == 0 {
		end, g.lease = g.lease, nil
	}
	g.mu.Unlock()
	if end != nil {
		end.Close()
	}
}
