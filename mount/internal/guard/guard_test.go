package guard

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestPeerPermits(t *testing.T) {
	file := &syscall.Stat_t{Mode: syscall.S_IFREG | 0o640, Uid: 1000, Gid: 100}
	cases := []struct {
		p    Peer
		want uint32
		ok   bool
	}{
		{Peer{UID: 0, GID: 0}, 6, true},                              // root
		{Peer{UID: 1000, GID: 5}, 4, true},                           // owner reads
		{Peer{UID: 1000, GID: 5}, 6, true},                           // owner reads and writes
		{Peer{UID: 2000, GID: 100}, 4, true},                         // group reads
		{Peer{UID: 2000, GID: 7, Groups: []uint32{3, 100}}, 4, true}, // supplementary group reads
		{Peer{UID: 2000, GID: 100}, 6, false},                        // group may not write
		{Peer{UID: 2000, GID: 2000}, 4, false},                       // others: nothing
		{Peer{UID: 1000, GID: 100}, 1, false},                        // owner bits decide, not group's
	}
	for _, c := range cases {
		if got := c.p.Permits(file, c.want); got != c.ok {
			t.Errorf("%+v want %d: %v", c.p, c.want, got)
		}
	}
}

// mayOpen needs search permission on every directory and the file's bits.
func TestPeerMayOpen(t *testing.T) {
	dir := t.TempDir() // .../TestPeerMayOpenNNN/001: both the test's own
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	dev := filepath.Join(sub, "dev")
	os.WriteFile(dev, nil, 0o644)
	nobody := Peer{UID: 65534, GID: 65534}
	for d := filepath.Dir(filepath.Dir(dir)); ; d = filepath.Dir(d) {
		var st syscall.Stat_t
		if syscall.Stat(d, &st) != nil || st.Mode&1 == 0 {
			t.Skipf("%s is not searchable by others here", d)
		}
		if d == "/" {
			break
		}
	}
	if !nobody.MayOpen(dev, false) || nobody.MayOpen(dev, true) {
		t.Fatal("0644 file: read yes, write no")
	}
	os.Chmod(sub, 0o700)
	if nobody.MayOpen(dev, false) {
		t.Fatal("a directory without search permission was ignored")
	}
	if !(Peer{}).MayOpen(dev, true) {
		t.Fatal("root")
	}
	os.Chmod(sub, 0o755)
	os.Chmod(dev, 0o600)
	if nobody.MayOpen(dev, false) {
		t.Fatal("0600 file")
	}
}

func TestConnLimiter(t *testing.T) {
	l := NewConnLimiter()
	for i := 0; i < MaxConnsPerUID; i++ {
		if !l.Take(1000) {
			t.Fatalf("connection %d refused", i)
		}
	}
	if l.Take(1000) {
		t.Fatal("past the per-uid cap")
	}
	if !l.Take(1001) || !l.Take(0) {
		t.Fatal("another user, or root, was refused")
	}
	for i := 0; i < 2*MaxConnsNonRoot; i++ {
		l.Take(0) // root is exempt
	}
	l.Release(1000)
	if !l.Take(1000) {
		t.Fatal("a released slot was not reusable")
	}
	if got := l.Refused(); got != 1 {
		t.Fatalf("refused %d, want 1", got)
	}
	for uid := uint32(2000); l.nonRoot < MaxConnsNonRoot; uid++ {
		l.Take(uid)
	}
	if l.Take(9999) {
		t.Fatal("past the total cap")
	}
}

// peerOf reads this process's own credentials over a socket pair.
func TestPeerOf(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[0]), "a")
	defer syscall.Close(fds[1])
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := PeerOf(c)
	if err != nil {
		t.Fatal(err)
	}
	groups, _ := os.Getgroups()
	if int(p.PID) != os.Getpid() || int(p.UID) != os.Getuid() || int(p.GID) != os.Getgid() || len(p.Groups) != len(groups) {
		t.Fatalf("%+v, want pid %d uid %d gid %d groups %v", p, os.Getpid(), os.Getuid(), os.Getgid(), groups)
	}
}
