// Package ctlsock owns the control socket of a mount: HTTP over a Unix
// socket at control.SocketPath(mountpoint) (docs/protocol.md), its handlers
// (GET /status, /pid, /log_level; POST /replay, /invalidate, /log_level),
// the server's timeouts and header limits, the cap on connections per uid,
// and the guard that keeps state-changing requests to trusted users. What
// the handlers report and do comes from the Config (the mount's Server).
package ctlsock
