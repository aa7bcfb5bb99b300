// Package control owns the protocol of a mount's control socket: HTTP over a
// Unix socket whose path derives from the mount point alone, the status it
// reports, and a client for it (used by the CLI, by tests, and by the library
// to get a device descriptor for an unprivileged caller).
//
// Endpoints (all answers are JSON unless noted):
//
//	GET  /status          Status
//	GET  /pid             the daemon's pid, as text
//	POST /replay          replay new log entries now; returns Replay
//	GET  /log_level       the daemon's log level, as text
//	POST /log_level       set it (body: debug, info, warn, error or 7..0)
//	POST /invalidate?path=P  drop the kernel's cached pages of file P
//	POST /fd?path=P&write=0|1  a descriptor of the device, passed with
//	                      SCM_RIGHTS, if the caller (SO_PEERCRED) may read
//	                      (or write) file P
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

// Status is what GET /status returns.
type Status struct {
	PID        int    `json:"pid"`
	Device     string `json:"device"`
	Mountpoint string `json:"mountpoint"`
	HostUUID   string `json:"host_uuid"`
	FSUUID     string `json:"fs_uuid"`
	Role       string `json:"role"`
	ReadOnly   bool   `json:"read_only"`
	CacheMode  string `json:"cache_mode"`
	Coherence  string `json:"coherence"`
	Started    string `json:"started"`
	LogLevel   string `json:"log_level"`

	ReplayNext   uint64  `json:"replay_next"`   // entries applied
	LogEntries   uint64  `json:"log_entries"`   // the header's next_index at the last poll
	LogCapacity  uint64  `json:"log_capacity"`  // entry slots
	LogFill      float64 `json:"log_fill"`      // percent of slots used
	ReplayStuck  string  `json:"replay_stuck"`  // non-empty while replay waits at a torn entry
	Problems     int     `json:"problems"`      // entries reported during replay
	FSChanged    string  `json:"fs_changed"`    // non-empty once the device was re-made: serving EIO
	PollInterval string  `json:"poll_interval"` // how often the log header is polled

	Counters map[string]uint64 `json:"counters"`
}

// Replay is what POST /replay returns.
type Replay struct {
	Applied uint64 `json:"applied"`
	Next    uint64 `json:"next"`
	Stuck   string `json:"stuck,omitempty"`
	Error   string `json:"error,omitempty"`
}
