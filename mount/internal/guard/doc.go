// Package guard owns what keeps the daemon's sockets (control and grant)
// available to everyone: the peer's credentials taken when it connects
// (SO_PEERCRED, SO_PEERGROUPS), group membership, the caps on the
// connections (and leases) one unprivileged user may hold, the trust rule for
// anything beyond reading status (root, a member of -o zerocopy_group, or a
// user who may open the device), and the HTTP middleware that applies it.
package guard
