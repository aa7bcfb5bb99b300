// Package mount owns the famfs FUSE daemon: it serves the replayed namespace
// of a device through a FUSE mount (hanwen/go-fuse v2, mounted directly), keeps
// it current by polling the log header in shared memory, and answers a
// control socket.
//
// What the mount serves:
//   - files and directories with the size, mode, uid and gid the log holds, an
//     inode number derived from the log index (the same on every host) and one
//     time per mount;
//   - .meta/.superblock and .meta/.log, the raw regions, read-only;
//   - statfs with famfs capacity and free space;
//   - read and write as copies to and from the device mapping (writes never
//     change a file's size);
//   - the logged symbolic links (readlink; the kernel follows them);
//   - unlink and rmdir on the master's mount of a file system made for
//     delete (docs/delete.md).
//
// chmod and chown through a mount are accepted and kept in that daemon's
// memory for the life of the mount (the reference's daemon does the same):
// they are not logged, so other hosts and later mounts see the logged mode
// and owner.
//
// Every other namespace change (create, mknod, mkdir, rename, link, making a
// symlink, truncate or any size change; unlink and rmdir elsewhere) fails
// with EPERM (EROFS for unlink and rmdir on a client), changes nothing and
// leaves the daemon serving: the namespace is the master CLI's to change. A client mount is mounted read-only unless asked
// for rw. If the device is re-made under the mount, the daemon notices on its
// next poll and answers EIO instead of serving another file system's bytes.
//
// This package owns the options, Serve and the Server: the wiring of the
// parts below and their lifecycle (Wait, Unmount, the shutdown that waits
// for preload leases) and the status they make up together, and the client
// other processes read that status with (NewClient: famfs status, umount and
// logplay use it; LogPath and RemoveSockets for what a daemon leaves
// behind). The parts, under
// internal/, import the library and each other but never this package:
//   - fusefs: the FUSE node tree (nodes, overrides, refusals, delete and its
//     permission rules, statfs, telling the kernel of changes);
//   - poller: the loop that watches the superblock and log header and replays;
//   - grants: the grant socket and its leases;
//   - ctlsock: the control socket's HTTP server and handlers;
//   - guard: peer credentials, group checks, connection limits, trust and
//     the HTTP guard both sockets use;
//   - errmap: the one mapping from library errors to errnos.
package mount
