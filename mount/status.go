package mount

// The control socket's answers (docs/protocol.md, "Control socket"): what
// the daemon serves and Client decodes.

// Status is what a mount's daemon reports of itself (GET /status on its
// control socket, docs/protocol.md); famfs status prints it.
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

	ReplayNext   uint64  `json:"replay_next"`      // entries applied
	LogEntries   uint64  `json:"log_entries"`      // the header's next_index at the last poll
	LogCapacity  uint64  `json:"log_capacity"`     // entry slots
	LogFill      float64 `json:"log_fill_percent"` // percent of slots used (0-100)
	ReplayStuck  string  `json:"replay_stuck"`     // non-empty while replay waits at a torn entry
	Problems     int     `json:"problems"`         // entries reported during replay
	FSChanged    string  `json:"fs_changed"`       // non-empty once the device was re-made: serving EIO
	PollInterval float64 `json:"poll_interval_ms"` // how often the log header is polled

	Counters map[string]uint64 `json:"counters"`

	Grants  *GrantStats `json:"grants,omitempty"`  // the grant socket
	Control *ConnStats  `json:"control,omitempty"` // the control socket

	// Space is set on a file system made for delete (docs/delete.md).
	Space *SpaceStatus `json:"space,omitempty"`
}

// SpaceStatus is how the file system's memory is used, as a daemon sees it.
type SpaceStatus struct {
	CapacityBytes uint64   `json:"capacity_bytes"`
	InUseBytes    uint64   `json:"in_use_bytes"`
	FreeBytes     uint64   `json:"free_bytes"`
	WaitingBytes  uint64   `json:"waiting_bytes"` // freed by deletes, waiting for participants to let go
	Holders       []string `json:"holders"`       // the participants that hold the waiting space
	Evicted       bool     `json:"evicted"`       // this daemon was evicted and serves no data
}

// GrantStats counts what the grant socket handed out and refused.
type GrantStats struct {
	Made          uint64            `json:"made"`     // device descriptors handed out
	MapOnly       uint64            `json:"map_only"` // maps without a descriptor (not asked for)
	Refused       map[string]uint64 `json:"refused"`  // by reason
	ZeroCopyGroup string            `json:"zerocopy_group,omitempty"`

	Connections        uint64 `json:"connections"`         // open now, holding no lease yet
	ConnectionsRefused uint64 `json:"connections_refused"` // closed at once: per-uid or total cap

	Leases     uint64 `json:"leases"`      // grants in force now: each holds its file until its connection closes
	LeaseConns uint64 `json:"lease_conns"` // the connections that hold them
}

// ConnStats describes the control socket's connections.
type ConnStats struct {
	Open      uint64 `json:"open"`
	Refused   uint64 `json:"refused"`   // closed at once: per-uid or total cap
	Forbidden uint64 `json:"forbidden"` // state-changing requests from untrusted users
}

// Replay is what a replay on request (POST /replay) did.
type Replay struct {
	Applied uint64 `json:"applied"`
	Next    uint64 `json:"next"`
	Stuck   string `json:"stuck,omitempty"`
	Error   string `json:"error,omitempty"`
}
