// Package sockpair gives tests both ends of a connected Unix socket pair as
// *net.UnixConn, closed when the test ends: the grant protocol's tests speak
// SOCK_SEQPACKET over one, the credential tests read SO_PEERCRED from one.
package sockpair

import (
	"net"
	"os"
	"syscall"
	"testing"
)

// New returns both ends of a close-on-exec AF_UNIX socket pair of type typ
// (syscall.SOCK_SEQPACKET, SOCK_STREAM). Both are closed at the end of the
// test; closing one earlier is fine.
func New(t testing.TB, typ int) (a, b *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, typ|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "sockpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}
