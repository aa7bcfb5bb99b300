// Package control owns what the two ends of a mount's sockets share: the
// sockets' paths, which derive from the mount point alone, and the grant
// protocol (SOCK_SEQPACKET: zero-copy grants, see Grant) with its client,
// which the library uses. The control socket (HTTP over a Unix socket:
// status, replay, log level, cache invalidation) is served by the mount
// package's daemon, which also holds its client and the status it reports.
//
// Control endpoints (all answers are JSON unless noted):
//
//	GET  /status          mount.Status
//	GET  /pid             the daemon's pid, as text
//	POST /replay          replay new log entries now; returns mount.Replay
//	GET  /log_level       the daemon's log level, as text
//	POST /log_level       set it (body: debug, info, warn, error or 7..0)
//	POST /invalidate?path=P  drop the kernel's cached pages of file P
//
// Requests other than GET and HEAD come only from root and users trusted
// with the device (who may open it, or are in the mount's zerocopy_group);
// others get 403. One unprivileged user holds at most 64 connections to each
// socket; connections idle for 10 s are closed, except grant connections
// that hold leases (see Lease), which last until their client closes them
// and have their own cap (MaxLeasesPerUID).
package control

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
)

// Dir holds the control sockets (and daemon logs) of all famfs mounts.
var Dir = "/run/famfs"

// SocketPath returns the control socket of the mount at mountpoint (an
// absolute, clean path). It is derived from the path alone, so any process
// can find it; a hash keeps it within the 108-byte socket path limit.
func SocketPath(mountpoint string) string {
	return filepath.Join(Dir, key(mountpoint)+".sock")
}

// LogPath returns the daemon log file of the mount at mountpoint.
func LogPath(mountpoint string) string {
	return filepath.Join(Dir, key(mountpoint)+".log")
}

func key(mountpoint string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(mountpoint)))
	return hex.EncodeToString(sum[:12])
}
