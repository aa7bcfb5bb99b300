// Package poller owns the loop that keeps a mount current: it watches the
// superblock and the log header in shared memory, replays new log entries
// into the library's namespace and tells its Target which nodes changed
// (so the kernel's cached entries can be dropped), and notices when the
// device is re-made under the mount. Replay runs one on demand (the control
// socket's POST /replay).
package poller
