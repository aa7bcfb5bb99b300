// Package errmap owns the one mapping from the library's errors to the
// errnos the daemon answers with: the FUSE nodes, remove and the grant
// socket all use Errno, so a library error means the same errno wherever it
// surfaces.
package errmap
