package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/google/uuid"
)

// Files, directories and striped files made on the master appear on every
// client without a manual logplay, with identical attributes and content
// (through the mount and through the library's Map on the client), and
// verify passes on every host.
func TestMasterAndClientsShareFiles(t *testing.T) {
	t.Parallel()
	c, m, c1 := twoHosts(t)
	c2 := c.mount(client2ID)

	src := filepath.Join(c.dir, "src.bin")
	data := make([]byte, 5_000_001)
	rand.Read(data)
	os.WriteFile(src, data, 0o644)

	must(t, masterID, "mkdir", "-p", "-m", "0750", "-u", "1000", "-g", "1001", m+"/proj/a/b")
	must(t, masterID, "creat", "-s", "3m", "-r", "-S", "42", "-m", "0640", "-u", "7", "-g", "8", m+"/proj/seeded")
	must(t, masterID, "creat", "-s", "70m", "-N", "4", "-B", "8", "-r", "-S", "9", m+"/proj/striped")
	must(t, masterID, "cp", src, m+"/proj/a/b/")

	names := []string{"proj", "proj/a", "proj/a/b", "proj/seeded", "proj/striped", "proj/a/b/src.bin"}
	for _, mp := range []string{c1, c2} {
		waitSeen(t, mp+"/proj/a/b/src.bin")
	}
	for _, n := range names {
		want, err := os.Stat(filepath.Join(m, n))
		if err != nil {
			t.Fatal(err)
		}
		ws := want.Sys().(*syscall.Stat_t)
		for _, mp := range []string{c1, c2} {
			got, err := os.Stat(filepath.Join(mp, n))
			if err != nil {
				t.Fatalf("%s on %s: %v", n, mp, err)
			}
			gs := got.Sys().(*syscall.Stat_t)
			if got.Size() != want.Size() || got.Mode() != want.Mode() || gs.Uid != ws.Uid || gs.Gid != ws.Gid || gs.Ino != ws.Ino {
				t.Errorf("%s: client %s %v %d:%d ino %d, master %s %v %d:%d ino %d", n,
					mp, got.Mode(), gs.Uid, gs.Gid, gs.Ino, m, want.Mode(), ws.Uid, ws.Gid, ws.Ino)
			}
		}
	}
	if st, _ := os.Stat(c1 + "/proj/seeded"); st.Mode().Perm() != 0o640&^currentUmask() || st.Sys().(*syscall.Stat_t).Uid != 7 {
		t.Errorf("creat -m/-u not applied: %v", st.Mode())
	}
	for _, mp := range []string{c1, c2} {
		got, err := os.ReadFile(mp + "/proj/a/b/src.bin")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("copied file differs on %s (%v)", mp, err)
		}
	}
	for id, mp := range map[string]string{masterID: m, client1ID: c1, client2ID: c2} {
		must(t, id, "verify", "-S", "42", "-f", mp+"/proj/seeded")
		must(t, id, "verify", "-m", mp+"/proj/striped,9")
		wantCode(t, 1, id, "verify", "-S", "43", "-f", mp+"/proj/seeded")
	}
	// The library's Map on a client is the same memory the mount serves.
	fsys, err := famfs.Open(c.dev, famfs.OpenOptions{SystemUUID: uuid.MustParse(client1ID)})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	for _, n := range []string{"proj/striped", "proj/a/b/src.bin"} {
		f, err := fsys.OpenFile(n)
		if err != nil {
			t.Fatal(err)
		}
		mp, err := f.Map(famfs.MapOptions{})
		if err != nil {
			t.Fatal(err)
		}
		viaMount, _ := os.ReadFile(filepath.Join(c2, n))
		if mp.Writable() || !bytes.Equal(mp.Bytes(), viaMount) {
			t.Errorf("%s: client Map differs from the mount (writable=%v)", n, mp.Writable())
		}
		mp.Unmap()
	}
	// Inode numbers come from the log: the same on every host.
	st := daemonAlive(t, c1)
	if st.Role != "client" || !st.ReadOnly || st.ReplayNext != 6 {
		t.Errorf("client status %+v", st)
	}
}

// currentUmask reads the process's umask from /proc (setting it to learn
// it would, for a moment, be the umask of whatever another test starts).
func currentUmask() os.FileMode {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Umask:"); ok {
			if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
				return os.FileMode(m)
			}
		}
	}
	panic("no Umask in /proc/self/status")
}

// Everything famfs forbids fails on every host, changes nothing, and the
// daemons stay up.
func TestForbiddenOperationsEverywhere(t *testing.T) {
	t.Parallel()
	_, m, c1 := twoHosts(t)
	must(t, masterID, "mkdir", m+"/d")
	must(t, masterID, "creat", "-s", "1m", m+"/d/f")
	waitSeen(t, c1+"/d/f")
	for _, mp := range []string{m, c1} {
		ops := map[string]func() error{
			"create":   func() error { f, err := os.Create(mp + "/new"); f.Close(); return err },
			"mkdir":    func() error { return os.Mkdir(mp+"/d2", 0o755) },
			"mknod":    func() error { return syscall.Mknod(mp+"/node", syscall.S_IFIFO|0o644, 0) },
			"rmdir":    func() error { return syscall.Rmdir(mp + "/d") },
			"unlink":   func() error { return os.Remove(mp + "/d/f") },
			"rename":   func() error { return os.Rename(mp+"/d/f", mp+"/d/g") },
			"link":     func() error { return os.Link(mp+"/d/f", mp+"/d/h") },
			"symlink":  func() error { return os.Symlink("f", mp+"/d/s") },
			"truncate": func() error { return os.Truncate(mp+"/d/f", 10) },
			"grow":     func() error { return os.Truncate(mp+"/d/f", 4<<20) },
			"o_trunc": func() error {
				f, err := os.OpenFile(mp+"/d/f", os.O_WRONLY|os.O_TRUNC, 0)
				f.Close()
				return err
			},
		}
		for name, op := range ops {
			err := op()
			var errno syscall.Errno
			if !errors.As(err, &errno) || (errno != syscall.EPERM && errno != syscall.EROFS) {
				t.Errorf("%s on %s: got %v, want EPERM or EROFS", name, mp, err)
			}
		}
		daemonAlive(t, mp)
		if st, err := os.Stat(mp + "/d/f"); err != nil || st.Size() != 1<<20 {
			t.Fatalf("%s/d/f changed: %v %v", mp, st, err)
		}
		ents, _ := os.ReadDir(mp + "/d")
		if len(ents) != 1 {
			t.Errorf("%s/d holds %d entries", mp, len(ents))
		}
	}
	// The master mount writes data but never past the end.
	f, err := os.OpenFile(m+"/d/f", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("famfs"), 100); err != nil {
		t.Errorf("write inside the file: %v", err)
	}
	if _, err := f.WriteAt([]byte("x"), 1<<20); !errors.Is(err, syscall.EFBIG) {
		t.Errorf("write past the end: %v", err)
	}
	f.Close()
	if b, _ := os.ReadFile(c1 + "/d/f"); string(b[100:105]) != "famfs" {
		t.Errorf("the client does not read what the master wrote: %q", b[100:105])
	}
	// A client mount is read-only for data.
	if _, err := os.OpenFile(c1+"/d/f", os.O_WRONLY, 0); !errors.Is(err, syscall.EROFS) {
		t.Errorf("client open for write: %v", err)
	}
	if n := daemonAlive(t, m).Counters["refused"]; n == 0 {
		t.Error("the master daemon counted no refusals")
	}
}

// A client may not change the file system: every mutating command fails with
// a clear message and nothing is written to the log.
func TestClientMutationsRefused(t *testing.T) {
	t.Parallel()
	c, m, c1 := twoHosts(t)
	must(t, masterID, "mkdir", m+"/d")
	must(t, masterID, "creat", "-s", "4k", m+"/d/f")
	waitSeen(t, c1+"/d/f")
	before := daemonAlive(t, c1).LogEntries
	src := filepath.Join(c.dir, "s")
	os.WriteFile(src, []byte("data"), 0o644)
	for _, args := range [][]string{
		{"mkdir", c1 + "/x"},
		{"mkdir", "-p", c1 + "/y/z"},
		{"creat", "-s", "1m", c1 + "/x"},
		{"cp", src, c1 + "/d/"},
		{"clone", c1 + "/d/f", c1 + "/d/g"},
	} {
		r := wantCode(t, 1, client1ID, args...)
		if !strings.Contains(r.stderr, "not the master") {
			t.Errorf("%v: unclear refusal: %s", args, r.stderr)
		}
	}
	must(t, client1ID, "logplay", c1)
	if after := daemonAlive(t, c1).LogEntries; after != before {
		t.Fatalf("log grew from %d to %d entries", before, after)
	}
	r := must(t, client1ID, "fsck", c1)
	if !strings.Contains(r.stdout, "role of this node: Client") {
		t.Errorf("fsck role: %s", r.stdout)
	}
}

// Killing a daemon leaves a dead mount; mounting again cleans it up and
// serves, and umount leaves no daemon behind.
func TestKillDaemonAndRemount(t *testing.T) {
	t.Parallel()
	c, m, c1 := twoHosts(t)
	must(t, masterID, "creat", "-s", "2m", "-r", "-S", "5", m+"/f")
	pid := daemonAlive(t, c1).PID
	syscall.Kill(pid, syscall.SIGKILL)
	waitExit(pid, 5*time.Second)
	// The kernel answers ENOTCONN once it sees the connection gone (EIO or
	// ECONNABORTED for a request caught in flight).
	eventually(t, 5*time.Second, "a dead mount", func() bool {
		_, err := os.Stat(c1 + "/f")
		return errors.Is(err, syscall.ENOTCONN)
	})
	must(t, client1ID, "mount", c.dev, c1)
	waitSeen(t, c1+"/f")
	must(t, client1ID, "verify", "-S", "5", "-f", c1+"/f")
	// famfs umount waits for the daemon; plain umount(8) works too.
	p1, p2 := daemonAlive(t, c1).PID, daemonAlive(t, m).PID
	must(t, client1ID, "umount", c1)
	if isMounted(c1) || !waitExit(p1, time.Second) {
		t.Fatal("famfs umount left the mount or the daemon")
	}
	if out, err := exec.Command("umount", m).CombinedOutput(); err != nil {
		t.Fatalf("umount: %v %s", err, out)
	}
	if !waitExit(p2, 5*time.Second) {
		t.Fatal("the daemon outlived umount(8)")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(c1), "x")); err == nil {
		t.Fatal("unexpected")
	}
}

// Mount failures are clear, exit 32 (usage 1), and leave nothing mounted.
func TestMountErrors(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	mpt := filepath.Join(c.dir, "mnt")
	os.MkdirAll(mpt, 0o755)
	wantCode(t, 32, masterID, "mount", filepath.Join(c.dir, "missing.img"), mpt)
	wantCode(t, 32, masterID, "mount", c.dev, filepath.Join(c.dir, "nompt"))
	wantCode(t, 1, masterID, "mount", c.dev)
	wantCode(t, 1, masterID, "mount", c.dev, mpt, "extra")
	wantCode(t, 1, masterID, "mount", "-r", "-m", c.dev, mpt)
	wantCode(t, 1, masterID, "mount", "-o", "bogus", c.dev, mpt)
	// A killed superblock: refused, not 99, nothing mounted.
	other := filepath.Join(c.dir, "other.img")
	must(t, masterID, "mkfs.famfs", "--size", "4g", other)
	must(t, masterID, "mkfs.famfs", "-f", "-k", other)
	r := wantCode(t, 32, masterID, "mount", other, mpt)
	if !strings.Contains(r.stderr, "superblock") {
		t.Errorf("unclear: %s", r.stderr)
	}
	if isMounted(mpt) {
		t.Fatal("a failed mount left a mount")
	}
	// The same device twice on one host is refused; another host may.
	must(t, masterID, "mount", "-o", "defaults,nofail,_netdev", c.dev, mpt)
	second := filepath.Join(c.dir, "mnt2")
	os.MkdirAll(second, 0o755)
	r = wantCode(t, 32, masterID, "mount", c.dev, second)
	if !strings.Contains(r.stderr, "already mounted") {
		t.Errorf("unclear: %s", r.stderr)
	}
	wantCode(t, 32, client1ID, "mount", c.dev, mpt) // mount point busy
	must(t, client1ID, "mount", c.dev, second)
	// /proc/mounts shows the device as the source and fuse.famfs as the type.
	b, _ := os.ReadFile("/proc/mounts")
	if !strings.Contains(string(b), c.dev+" "+mpt+" fuse.famfs ") {
		t.Errorf("/proc/mounts: %s", b)
	}
	// mkfs refuses a mounted device; fsck wants the mount path.
	wantCode(t, 1, masterID, "mkfs.famfs", "-f", c.dev)
	wantCode(t, 8, masterID, "fsck", c.dev)
	must(t, masterID, "fsck", mpt)
	// reference kernel flags are accepted with a note
	r = must(t, masterID, "fsck", "--nofuse", mpt)
	if !strings.Contains(r.stderr, "no effect") {
		t.Errorf("no note for --nofuse: %s", r.stderr)
	}
}

// Python (an unmodified program) reads and mmaps a file through a client mount.
func TestPythonReadsAndMmaps(t *testing.T) {
	t.Parallel()
	py := needTool(t, "python3", "python3")
	_, m, c1 := twoHosts(t)
	must(t, masterID, "creat", "-s", "6m", "-r", "-S", "77", m+"/blob")
	waitSeen(t, c1+"/blob")
	want, _ := os.ReadFile(m + "/blob")
	sum := sha256.Sum256(want)
	script := `import sys, mmap, hashlib
p = sys.argv[1]
with open(p, 'rb') as f:
    data = f.read()
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    mapped = m[:]
    m.close()
assert data == mapped, "read and mmap differ"
print(len(data), hashlib.sha256(mapped).hexdigest())
`
	out, err := exec.Command(py, "-c", script, c1+"/blob").CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != fmt.Sprintf("%d %s", len(want), hex.EncodeToString(sum[:])) {
		t.Fatalf("python saw %s", got)
	}
}

// Re-making the file system under live mounts makes them fail safe: EIO
// instead of another file system's bytes, daemons still answering.
func TestRemakeUnderLiveMountsFailsSafe(t *testing.T) {
	t.Parallel()
	c, m, c1 := twoHosts(t)
	must(t, masterID, "creat", "-s", "2m", "-r", "-S", "3", m+"/f")
	waitSeen(t, c1+"/f")
	// Another host re-makes the device (here: through a second name for the
	// same file, which this host's mount table does not know).
	alias := filepath.Join(c.dir, "alias.img")
	if err := os.Link(c.dev, alias); err != nil {
		t.Fatal(err)
	}
	must(t, masterID, "mkfs.famfs", "-f", alias)
	for _, mp := range []string{m, c1} {
		eventually(t, 5*time.Second, "EIO on "+mp, func() bool {
			_, err := os.ReadFile(mp + "/f")
			return errors.Is(err, syscall.EIO)
		})
		st := daemonAlive(t, mp)
		if st.FSChanged == "" {
			t.Errorf("%s: status does not say the file system changed", mp)
		}
		if _, err := os.ReadDir(mp); !errors.Is(err, syscall.EIO) {
			t.Errorf("%s: readdir after re-mkfs: %v", mp, err)
		}
	}
	logb, _ := os.ReadFile(filepathLog(c1))
	if !strings.Contains(string(logb), "serving EIO") {
		t.Errorf("no clear log line in the daemon log:\n%s", logb)
	}
}

// The binary works as mount(8)'s helper by its name: mount.famfs <dev> <dir>
// [-sfnv] [-o options].
func TestMountHelper(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	mpt := filepath.Join(c.dir, "helper")
	os.MkdirAll(mpt, 0o755)
	must(t, masterID, "mount.famfs", c.dev, mpt, "-f", "-o", "defaults")
	if isMounted(mpt) {
		t.Fatal("-f (fake) mounted")
	}
	must(t, masterID, "mount.famfs", c.dev, mpt, "-n", "-o", "defaults,nofail,_netdev,x-systemd.automount,noatime")
	if !isMounted(mpt) {
		t.Fatal("mount.famfs did not mount")
	}
	daemonAlive(t, mpt)
	wantCode(t, 1, masterID, "mount.famfs", c.dev, mpt, "-o", "no_such_option")
	must(t, masterID, "umount", mpt)
}
