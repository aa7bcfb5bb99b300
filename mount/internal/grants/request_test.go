package grants

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/control"
	"github.com/famfs-go/famfs/mount/internal/guard"
	"github.com/google/uuid"
	"golang.org/x/sys/unix"
)

var masterID = uuid.MustParse("67676767-0000-4000-8000-000000000001")

// grantEnv is a grant server over a real file system whose "mount" is a
// temporary directory: a file there stands in for the file opened through
// the mount (its inode number is mapped to the famfs file f).
type grantEnv struct {
	g     *Server
	fsys  *famfs.FS
	dev   string
	dir   string
	proof string // the stand-in for a file of the mount
	file  *famfs.File
	gone  bool
}

func newGrantEnv(t *testing.T) *grantEnv {
	t.Helper()
	dir := t.TempDir()
	e := &grantEnv{dir: dir, dev: filepath.Join(dir, "famfs.img"), proof: filepath.Join(dir, "proof")}
	if _, err := famfs.Mkfs(e.dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: masterID, Reclaim: true}); err != nil {
		t.Fatal(err)
	}
	fsys, err := famfs.Open(e.dev, famfs.OpenOptions{SystemUUID: masterID, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	e.fsys = fsys
	if e.file, err = fsys.Create("f", famfs.CreateOptions{Size: 3<<20 + 5, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.proof, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(e.proof, &st); err != nil {
		t.Fatal(err)
	}
	e.g = New(Config{FS: fsys, Device: e.dev, Mountpoint: dir, Trust: guard.Trust{Device: e.dev},
		Gone: func() bool { return e.gone }, Logger: quiet()})
	e.g.mntDev = st.Dev
	e.g.align, e.g.devDax = e.g.deviceFacts()
	proofIno := st.Ino
	e.g.byIno = func(ino uint64) (*famfs.File, error) {
		if ino == proofIno {
			return e.file, nil
		}
		return e.g.fileByIno(ino)
	}
	return e
}

// ask opens path with flags and asks for a grant with its descriptor.
func (e *grantEnv) ask(t *testing.T, path string, flags int, want uint32, p guard.Peer) answer {
	t.Helper()
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	return e.g.grant(control.GrantRequest{Flags: want}.Encode(), []int{fd}, p)
}

func (a answer) done() {
	if a.hold != nil {
		a.hold.Release()
	}
	if a.dev != nil {
		a.dev.Close()
	}
}

// The protocol's checks, in order, each with its errno and the reason
// status counts.
func TestGrantRefusals(t *testing.T) {
	e := newGrantEnv(t)
	root := guard.Peer{PID: int32(os.Getpid())}
	other := filepath.Join(e.dir, "other")
	os.WriteFile(other, nil, 0o644)
	check := func(what string, a answer, errno syscall.Errno) {
		t.Helper()
		defer a.done()
		if a.reply.Status != errno || (errno != 0) != (a.hold == nil) {
			t.Errorf("%s: status %v hold %v, want %v", what, a.reply.Status, a.hold != nil, errno)
		}
	}
	fd, _ := unix.Open(e.proof, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	defer unix.Close(fd)
	check("no request", e.g.grant(nil, []int{fd}, root), syscall.EINVAL)
	check("no descriptor", e.g.grant(control.GrantRequest{}.Encode(), nil, root), syscall.EINVAL)
	check("two descriptors", e.g.grant(control.GrantRequest{}.Encode(), []int{fd, fd}, root), syscall.EINVAL)
	check("O_PATH", e.ask(t, e.proof, unix.O_PATH, 0, root), syscall.EBADF)
	check("directory", e.ask(t, e.dir, unix.O_RDONLY, 0, root), syscall.EISDIR)
	check("another file system", e.ask(t, "/proc/self/status", unix.O_RDONLY, 0, root), syscall.EBADF)
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	check("a pipe", e.g.grant(control.GrantRequest{}.Encode(), pipe[:1], root), syscall.EBADF)
	unix.Close(pipe[0])
	unix.Close(pipe[1])
	check("not a file of the mount", e.ask(t, other, unix.O_RDONLY, 0, root), syscall.EBADF)
	check("write only", e.ask(t, e.proof, unix.O_WRONLY, 0, root), syscall.EACCES)
	nobody := guard.Peer{UID: 65534, GID: 65534}
	check("untrusted", e.ask(t, e.proof, unix.O_RDONLY, control.GrantWantDevice, nobody), syscall.EACCES)
	e.g.cfg.Device = filepath.Join(e.dir, "missing")
	check("no device", e.ask(t, e.proof, unix.O_RDONLY, control.GrantWantDevice, root), syscall.ENOENT)
	e.g.cfg.Device = e.dev
	e.gone = true
	check("re-made", e.ask(t, e.proof, unix.O_RDONLY, 0, root), syscall.EIO)
	e.gone = false
	if err := e.fsys.Remove([]string{"f"}, famfs.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	check("deleted", e.ask(t, e.proof, unix.O_RDONLY, 0, root), syscall.ENOENT)

	st := e.g.Stats()
	for reason, n := range map[string]uint64{refMalformed: 3, refNotFamfs: 4, refDir: 1, refWriteOnly: 1,
		refUntrusted: 1, refDevice: 1, refRemade: 1, refDeleted: 1, refEvicted: 0, refHold: 0} {
		if st.Refused[reason] != n {
			t.Errorf("refused[%s] = %d, want %d", reason, st.Refused[reason], n)
		}
	}
	if st.Made != 0 || st.MapOnly != 0 || st.ZeroCopyGroup != "" {
		t.Errorf("%+v", st)
	}
}

// A grant describes the file (size, allocation unit, the file system's
// UUID, its segments) and, when asked, carries a device descriptor:
// writable for an O_RDWR descriptor on a writable mount.
func TestGrantMade(t *testing.T) {
	e := newGrantEnv(t)
	root := guard.Peer{PID: int32(os.Getpid())}
	sb := e.fsys.Superblock()
	a := e.ask(t, e.proof, unix.O_RDONLY, 0, root)
	r := a.reply
	if r.Status != 0 || a.hold == nil || a.dev != nil || r.FileSize != 3<<20+5 || r.AllocUnit != sb.AllocUnit ||
		r.FSUUID != sb.UUID || len(r.Segments) == 0 || r.DevAlign == 0 || r.Flags != 0 {
		t.Fatalf("map only: %+v", a)
	}
	var total uint64
	for _, s := range r.Segments {
		total += s.Len
	}
	if total != 2*sb.AllocUnit {
		t.Errorf("segments cover %d bytes, want %d", total, 2*sb.AllocUnit)
	}
	a.done()

	a = e.ask(t, e.proof, unix.O_RDWR, control.GrantWantDevice, root)
	if a.reply.Status != 0 || a.dev == nil || a.reply.Flags&control.GrantWritable == 0 {
		t.Fatalf("device rw: %+v", a)
	}
	if fl, _ := unix.FcntlInt(a.dev.Fd(), unix.F_GETFL, 0); fl&unix.O_ACCMODE != unix.O_RDWR {
		t.Errorf("device descriptor flags %#o", fl)
	}
	a.done()

	// The zerocopy group is trusted; a coherence-managing mount says so.
	e.g.cfg.Trust = guard.Trust{Device: e.dev, Group: 4242, HasGroup: true}
	e.g.cfg.ZeroCopyGroup = "zc"
	e.g.cfg.Coherent = true
	a = e.ask(t, e.proof, unix.O_RDONLY, control.GrantWantDevice, guard.Peer{UID: 65534, GID: 1, Groups: []uint32{4242}})
	if a.reply.Status != 0 || a.dev == nil || a.reply.Flags != control.GrantNonCoherent {
		t.Fatalf("zerocopy group: %+v", a)
	}
	a.done()
	if st := e.g.Stats(); st.Made != 0 || st.ZeroCopyGroup != "zc" {
		t.Errorf("%+v", st) // made and map_only count leases, which serveConn keeps
	}
}

// Over a connection, a real grant becomes a lease that the close ends.
func TestGrantLease(t *testing.T) {
	e := newGrantEnv(t)
	e.g.idle = control.GrantIdleTimeout
	proof, err := os.Open(e.proof)
	if err != nil {
		t.Fatal(err)
	}
	defer proof.Close()
	c, done := leaseConn(t, e.g, 0)
	if r := ask(t, c, control.GrantWantDevice, proof); r.Status != 0 || r.FileSize != 3<<20+5 {
		t.Fatalf("%+v", r)
	}
	if st := e.g.Stats(); st.Made != 1 || st.Leases != 1 || e.g.Leases() != 1 {
		t.Errorf("%+v", st)
	}
	c.Close()
	waitDone(t, done, 10*time.Second, "the connection to end")
	e.g.WaitIdle()
	if e.g.Leases() != 0 {
		t.Error("the lease outlived its connection")
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Serve answers on the grant socket (and its link by st_dev) until stopped,
// then removes both.
func TestServe(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("the grant socket lives in " + control.Dir + ", root's")
	}
	e := newGrantEnv(t)
	stop, err := e.g.Serve()
	if err != nil {
		t.Fatal(err)
	}
	sock := control.GrantSocketPath(e.dir)
	link := control.GrantLinkPath(e.g.mntDev)
	if target, err := os.Readlink(link); err != nil || target != sock {
		stop()
		t.Fatalf("link %s: %q %v", link, target, err)
	}
	proof, _ := os.Open(e.proof)
	defer proof.Close()
	lease, dev, err := control.GrantVia(sock, proof, control.GrantWantDevice)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	if dev == nil || e.g.Leases() != 1 {
		t.Errorf("dev %v, %d leases", dev, e.g.Leases())
	}
	dev.Close()
	lease.Close()
	e.g.WaitIdle()
	stop()
	for _, p := range []string{sock, link} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
}
