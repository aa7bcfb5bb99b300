package mounts

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// State is what the kernel says of the daemon behind a FUSE mount.
type State int

const (
	// Alive: the daemon answered a request.
	Alive State = iota
	// Dead: the kernel's FUSE connection is gone (the daemon exited or was
	// killed and nothing holds its /dev/fuse descriptor any more): every
	// request fails with ENOTCONN, and only unmounting helps.
	Dead
	// Unresponsive: the daemon did not answer in time. It is there (the
	// connection is up) but stuck or slow; it is not dead.
	Unresponsive
)

func (s State) String() string {
	switch s {
	case Alive:
		return "alive"
	case Dead:
		return "dead"
	case Unresponsive:
		return "not answering"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// DefaultWait is how long Check waits for an answer by default: a live
// daemon answers a GETATTR in microseconds.
const DefaultWait = 2 * time.Second

// Check asks the FUSE connection behind the mount point whether its daemon
// is still there. It stats the mount point with AT_STATX_FORCE_SYNC, which
// makes the kernel send a GETATTR to the daemon whatever its attribute cache
// holds: a plain stat of the mount root is answered from that cache (for an
// hour with famfs' timeouts) and says nothing about the daemon. A connection
// whose daemon is gone fails the request with ENOTCONN (ECONNABORTED for a
// request caught in flight): that is the kernel's own verdict, with no pid
// that could have been reused, no socket file that could be stale or not
// yet made, and no need for the fusectl file system (which does not expose
// the connection state anyway). A request that gets no answer within wait
// means a stuck daemon: Unresponsive, never Dead. (The statx then stays
// blocked in a goroutine until the daemon answers or dies; callers are
// short-lived commands.) Other errors (the path is gone, not a directory,
// ...) are returned with Alive: nothing says the daemon is gone.
func Check(point string, wait time.Duration) (State, error) {
	done := make(chan error, 1)
	go func() {
		var st unix.Statx_t
		done <- unix.Statx(unix.AT_FDCWD, point, unix.AT_STATX_FORCE_SYNC|unix.AT_NO_AUTOMOUNT, unix.STATX_TYPE|unix.STATX_MODE, &st)
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-done:
		switch {
		case err == nil:
			return Alive, nil
		case errors.Is(err, unix.ENOTCONN), errors.Is(err, unix.ECONNABORTED):
			return Dead, nil
		}
		return Alive, fmt.Errorf("%s: %w", point, err)
	case <-t.C:
		return Unresponsive, nil
	}
}
