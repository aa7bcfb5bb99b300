package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

// Delete with safe space reuse (docs/delete.md): a holder on a client host
// keeps a deleted file's bytes while the master fills the device; once it
// lets go, the space is reused within moments.

// holderScript holds a famfs file open (mode "read": a descriptor it preads
// from; "map": a Python mmap, which keeps a duplicate of the descriptor;
// "cmap": libc's mmap, every descriptor closed) and prints the file's SHA-256
// for every line it reads on stdin, until stdin closes.
const holderScript = `
import hashlib, mmap, os, sys
path, mode = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDONLY)
size = os.fstat(fd).st_size
if mode == "map":
    m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
    os.close(fd)
    get = lambda: hashlib.sha256(m).hexdigest()
elif mode == "cmap":
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    addr = libc.mmap(None, size, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
    if addr is None or addr == ctypes.c_void_p(-1).value:
        raise OSError(ctypes.get_errno(), "mmap")
    os.close(fd)
    buf = (ctypes.c_char * size).from_address(addr)
    get = lambda: hashlib.sha256(buf).hexdigest()
else:
    get = lambda: hashlib.sha256(os.pread(fd, size, 0)).hexdigest()
print("sum", get(), flush=True)
for line in sys.stdin:
    print("sum", get(), flush=True)
`

// holder is a running holder process.
type holder struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines *bufio.Scanner
	errb  strings.Builder
}

// startHolder runs the holder script on path, under famfs run when preload.
func startHolder(t *testing.T, path, mode string, preload bool) *holder {
	t.Helper()
	py := debianPython(t)
	args := []string{py, "-c", holderScript, path, mode}
	if preload {
		preloadLib(t)
		args = append([]string{famfsBin, "run", "--"}, args...)
	}
	h := &holder{cmd: exec.Command(args[0], args[1:]...)}
	h.cmd.Stderr = &h.errb
	h.in, _ = h.cmd.StdinPipe()
	out, _ := h.cmd.StdoutPipe()
	h.lines = bufio.NewScanner(out)
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.cmd.Process.Kill(); h.cmd.Wait() })
	return h
}

// sum asks the holder for the file's checksum now.
func (h *holder) sum(t *testing.T, first bool) string {
	t.Helper()
	if !first {
		if _, err := io.WriteString(h.in, "\n"); err != nil {
			t.Fatalf("holder gone: %v\n%s", err, h.errb.String())
		}
	}
	if !h.lines.Scan() {
		h.cmd.Wait()
		t.Fatalf("holder ended: %s", h.errb.String())
	}
	s, ok := strings.CutPrefix(h.lines.Text(), "sum ")
	if !ok {
		t.Fatalf("holder said %q", h.lines.Text())
	}
	return s
}

// exit ends the holder: by closing its stdin, or with SIGKILL.
func (h *holder) exit(t *testing.T, kill bool) {
	t.Helper()
	if kill {
		h.cmd.Process.Kill()
	} else {
		h.in.Close()
	}
	h.cmd.Wait()
}

// units returns the allocation units a file's map covers.
func units(fm famfs.FileMap) map[uint64]bool {
	u := map[uint64]bool{}
	all := fm.Extents
	for _, ie := range fm.Interleave {
		all = append(all, ie.Strips...)
	}
	for _, x := range all {
		for o := x.Offset; o < x.Offset+x.Len; o += omf.AllocUnit {
			u[o] = true
		}
	}
	return u
}

// deleteCluster: a file system made for delete, a master mount and a client
// mount; file "a" (seeded) on it, replayed on the client. It returns the
// master's library FS (this test process is the master's CLI, in effect),
// a's units and a's checksum.
func deleteCluster(t *testing.T) (c *cluster, m, c1 string, fsys *famfs.FS, aUnits map[uint64]bool, aSum string) {
	t.Helper()
	c, m, c1 = twoHosts(t, "--reclaim")
	must(t, masterID, "creat", "-s", "64m", "-r", "-S", "7", m+"/a")
	waitSeen(t, c1+"/a")
	b, err := os.ReadFile(m + "/a")
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	var e error
	fsys, e = famfs.Open(c.dev, famfs.OpenOptions{SystemUUID: uuid.MustParse(masterID)})
	if e != nil {
		t.Fatal(e)
	}
	t.Cleanup(func() { fsys.Close() })
	info, err := fsys.Stat("a")
	if err != nil {
		t.Fatal(err)
	}
	return c, m, c1, fsys, units(info.Map), hex.EncodeToString(s[:])
}

// fill creates files on the master until the device is full, failing the
// test if any lands on a's units; it returns how many it made.
func fill(t *testing.T, fsys *famfs.FS, aUnits map[uint64]bool, prefix string, check func()) int {
	t.Helper()
	made := 0
	for _, size := range []uint64{1 << 30, 64 << 20, 2 << 20} {
		for {
			f, err := fsys.Create(fmt.Sprintf("%s-%d", prefix, made), famfs.CreateOptions{Size: size, Mode: 0o644, NoZero: true})
			if errors.Is(err, famfs.ErrNoSpace) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			made++
			for u := range units(f.Info().Map) {
				if aUnits[u] {
					t.Fatalf("%s got unit 0x%x of the deleted file while it is held", f.Path(), u)
				}
			}
			if check != nil {
				check()
			}
		}
	}
	return made
}

// reusedWithin waits until a file of a's size can be made on a's space and
// returns how long it took.
func reusedWithin(t *testing.T, fsys *famfs.FS, aUnits map[uint64]bool, name string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var fm famfs.FileMap
	if !within(limit, func() bool {
		f, err := fsys.Create(name, famfs.CreateOptions{Size: 64 << 20, Mode: 0o644, NoZero: true})
		if err != nil && !errors.Is(err, famfs.ErrNoSpace) {
			t.Fatal(err)
		}
		if err == nil {
			fm = f.Info().Map
		}
		return err == nil
	}) {
		sp, _ := fsys.Space()
		t.Fatalf("the deleted file's space was not reused within %v: %+v", limit, sp)
	}
	d := time.Since(start)
	for u := range units(fm) {
		if !aUnits[u] {
			t.Fatalf("the device was full, yet %s got unit 0x%x, not the deleted file's", name, u)
		}
	}
	return d
}

func TestDeleteHeldByClient(t *testing.T) {
	t.Parallel()
	debianPython(t)
	cases := []struct {
		name    string
		mode    string
		preload bool
		kill    bool
	}{
		{"preload-map-exit", "map", true, false},
		{"preload-map-kill9", "map", true, true},
		{"mount-read-exit", "read", false, false},
		{"mount-read-kill9", "read", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, m, c1, fsys, aUnits, aSum := deleteCluster(t)
			h := startHolder(t, c1+"/a", tc.mode, tc.preload)
			if got := h.sum(t, true); got != aSum {
				t.Fatalf("holder read %s, want %s", got, aSum)
			}
			must(t, masterID, "rm", m+"/a")
			eventually(t, 5*time.Second, "a gone on the client", func() bool {
				_, err := os.Stat(c1 + "/a")
				return errors.Is(err, os.ErrNotExist)
			})
			fsys.Refresh()
			n := 0
			made := fill(t, fsys, aUnits, "fill", func() {
				if n++; n%8 == 0 {
					if got := h.sum(t, false); got != aSum {
						t.Fatalf("the holder's bytes changed after %d new files: %s", n, got)
					}
				}
			})
			if got := h.sum(t, false); got != aSum {
				t.Fatalf("the holder's bytes changed: %s", got)
			}
			sp, err := fsys.Space()
			if err != nil {
				t.Fatal(err)
			}
			if sp.Waiting != 64<<20 || len(sp.Holders) != 1 {
				t.Errorf("space while held: %+v", sp)
			}
			h.exit(t, tc.kill)
			d := reusedWithin(t, fsys, aUnits, "after", 10*time.Second)
			t.Logf("%d files filled the device around the held file; its space was reused %v after the holder ended", made, d)
		})
	}
}

// A library Mapping on a client host holds the file; the process's exit,
// or its death by SIGKILL, lets the space go (the dead process's slot is
// reaped by a process on the same kernel).
func TestDeleteHeldByLibraryMapping(t *testing.T) {
	t.Parallel()
	for _, kill := range []bool{false, true} {
		t.Run(fmt.Sprintf("kill9=%v", kill), func(t *testing.T) {
			t.Parallel()
			c, m, _, fsys, aUnits, aSum := deleteCluster(t)
			exe, _ := os.Executable()
			cmd := exec.Command(exe)
			cmd.Env = append(os.Environ(), "FAMFS_E2E_CHILD=holdmap", "FAMFS_E2E_DEV="+c.dev, "FAMFS_SYSTEM_UUID="+client2ID)
			cmd.Stderr = os.Stderr
			in, _ := cmd.StdinPipe()
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			sc := bufio.NewScanner(out)
			sum := func() string {
				if !sc.Scan() {
					t.Fatal("the library holder ended")
				}
				return strings.TrimPrefix(sc.Text(), "sum ")
			}
			if got := sum(); got != aSum {
				t.Fatalf("library holder read %s", got)
			}
			must(t, masterID, "rm", m+"/a")
			fsys.Refresh()
			fill(t, fsys, aUnits, "fill", nil)
			io.WriteString(in, "\n")
			if got := sum(); got != aSum {
				t.Fatalf("the mapped bytes changed: %s", got)
			}
			if kill {
				cmd.Process.Kill()
			} else {
				in.Close()
			}
			cmd.Wait()
			d := reusedWithin(t, fsys, aUnits, "after", 10*time.Second)
			t.Logf("reused %v after the library holder ended", d)
		})
	}
}

// holdMapChild maps file "a" of the device through the library and prints
// its checksum for each line on stdin.
func holdMapChild() int {
	fsys, err := famfs.Open(os.Getenv("FAMFS_E2E_DEV"), famfs.OpenOptions{})
	if err != nil {
		fmt.Println("error:", err)
		return 3
	}
	defer fsys.Close()
	f, err := fsys.OpenFile("a")
	if err != nil {
		fmt.Println("error:", err)
		return 3
	}
	mp, err := f.Map(famfs.MapOptions{})
	if err != nil {
		fmt.Println("error:", err)
		return 4
	}
	defer mp.Unmap()
	sc := bufio.NewScanner(os.Stdin)
	for {
		s := sha256.Sum256(mp.Bytes())
		fmt.Println("sum", hex.EncodeToString(s[:]))
		if !sc.Scan() {
			return 0
		}
	}
}

// A client daemon killed with SIGKILL while its host holds the file blocks
// reuse until famfs evict; a daemon paused (a host that stops) and evicted
// serves no data when it runs again.
func TestDeleteDeadDaemonNeedsEvict(t *testing.T) {
	t.Parallel()
	debianPython(t)
	c, m, c1, fsys, aUnits, _ := deleteCluster(t)
	h := startHolder(t, c1+"/a", "read", false)
	h.sum(t, true)
	pid := daemonAlive(t, c1).PID
	must(t, masterID, "rm", m+"/a")
	fsys.Refresh()
	fill(t, fsys, aUnits, "fill", nil)
	syscall.Kill(pid, syscall.SIGKILL)
	waitExit(pid, 5*time.Second)
	h.exit(t, true)
	// The dead daemon's slot still holds a back.
	if _, err := fsys.Create("blocked", famfs.CreateOptions{Size: 64 << 20, NoZero: true}); !errors.Is(err, famfs.ErrNoSpace) {
		t.Fatalf("space reused while a dead daemon's slot holds it: %v", err)
	}
	out := must(t, masterID, "hosts", m).stdout
	slot := -1
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, client1ID) && strings.Contains(l, "daemon") {
			fmt.Sscanf(strings.TrimSpace(l), "%d", &slot)
		}
	}
	if slot < 0 {
		t.Fatalf("famfs hosts does not list the dead daemon:\n%s", out)
	}
	must(t, masterID, "evict", m, fmt.Sprint(slot))
	reusedWithin(t, fsys, aUnits, "after-evict", 10*time.Second)
	c.forget(client1ID)

	// A paused daemon, evicted, serves no data when it resumes.
	if err := fsys.Remove([]string{"fill-0"}, famfs.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	c2 := c.mount(client2ID)
	must(t, masterID, "creat", "-s", "2m", m+"/b")
	waitSeen(t, c2+"/b")
	f, err := os.Open(c2 + "/b")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	if _, err := f.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	// Evicted while it runs (as a paused host is, seen from the master):
	// at its next heartbeat it finds out and the handle it served before
	// gives EIO; new opens work again once it has registered anew.
	slot2 := -1
	out = must(t, masterID, "hosts", m).stdout
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, client2ID) && strings.Contains(l, "active") {
			fmt.Sscanf(strings.TrimSpace(l), "%d", &slot2)
		}
	}
	must(t, masterID, "evict", m, fmt.Sprint(slot2))
	eventually(t, 10*time.Second, "EIO from the evicted daemon", func() bool {
		_, err := f.ReadAt(buf, 0)
		return errors.Is(err, syscall.EIO)
	})
}

// rm's refusals: each a clear message and nothing written.
func TestDeleteRefusals(t *testing.T) {
	t.Parallel()
	plain := newCluster(t)
	pm := plain.mount(masterID)
	must(t, masterID, "creat", "-s", "2m", pm+"/f")
	r := wantCode(t, 1, masterID, "rm", pm+"/f")
	if !strings.Contains(r.stderr, "--reclaim") || !strings.Contains(r.stderr, "nothing was removed") {
		t.Errorf("rm on a plain file system: %v", r)
	}
	if err := os.Remove(pm + "/f"); !errors.Is(err, syscall.EPERM) {
		t.Errorf("unlink through a plain mount: %v", err)
	}

	c, m, c1 := twoHosts(t, "--reclaim")
	must(t, masterID, "mkdir", "-p", m+"/d/e")
	must(t, masterID, "creat", "-s", "2m", m+"/d/e/f")
	must(t, masterID, "creat", "-s", "2m", m+"/g")
	waitSeen(t, c1+"/g")
	next := func() uint64 { n, _, _ := famfsLogNext(t, c.dev); return n }
	before := next()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rm", m + "/nope"}, "does not exist"},
		{[]string{"rm", m + "/.meta"}, ".meta"},
		{[]string{"rm", m + "/d"}, "not empty"},
		{[]string{"rm", m + "/g", m + "/nope"}, "does not exist"},
		{[]string{"rm", m}, "root"},
	} {
		r := wantCode(t, 1, masterID, tc.args...)
		if !strings.Contains(r.stderr, tc.want) {
			t.Errorf("famfs %v: want %q in: %v", tc.args, tc.want, r)
		}
	}
	r = wantCode(t, 1, client1ID, "rm", c1+"/g")
	if !strings.Contains(r.stderr, "master") {
		t.Errorf("rm on a client: %v", r)
	}
	if err := os.Remove(c1 + "/g"); !errors.Is(err, syscall.EROFS) {
		t.Errorf("unlink through a client mount: %v", err)
	}
	if err := syscall.Rmdir(m + "/d"); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("rmdir of a non-empty directory: %v", err)
	}
	if next() != before {
		t.Fatalf("refused removals wrote the log (%d -> %d entries)", before, next())
	}
	must(t, masterID, "rm", "-f", m+"/nope")
	must(t, masterID, "rm", "-r", m+"/d", m+"/d/e")
	if next() != before+3 {
		t.Errorf("rm -r of a tree of 3 logged %d entries", next()-before)
	}
	if err := os.Remove(m + "/g"); err != nil {
		t.Errorf("unlink through the master's mount: %v", err)
	}
	eventually(t, 5*time.Second, "the removals on the client", func() bool {
		ents, _ := os.ReadDir(c1)
		return len(ents) == 1 // .meta
	})
	// A non-owner may not unlink in a directory it may not write.
	must(t, masterID, "mkdir", "-m", "0755", m+"/locked")
	must(t, masterID, "creat", "-s", "2m", "-m", "0666", m+"/locked/x")
	out, err := asNobody(t, "rm", "-f", m+"/locked/x").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "denied") {
		t.Errorf("a non-owner removed a file from a 0755 directory: %v %s", err, out)
	}
	if _, err := os.Stat(m + "/locked/x"); err != nil {
		t.Errorf("x is gone: %v", err)
	}
}

// famfsLogNext reads the log's next index from the device.
func famfsLogNext(t *testing.T, dev string) (uint64, uint64, error) {
	t.Helper()
	fsys, err := famfs.Open(dev, famfs.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	next, capacity, _ := fsys.LogStatus()
	return next, capacity, nil
}

// mkfs -f refuses while participants are registered, naming them.
func TestDeleteMkfsRefusesLiveParticipants(t *testing.T) {
	t.Parallel()
	c := newCluster(t, "--reclaim")
	m := c.mount(masterID)
	must(t, masterID, "creat", "-s", "2m", m+"/a")
	exe, _ := os.Executable()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "FAMFS_E2E_CHILD=holdmap", "FAMFS_E2E_DEV="+c.dev, "FAMFS_SYSTEM_UUID="+client2ID)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if sc := bufio.NewScanner(out); !sc.Scan() || !strings.HasPrefix(sc.Text(), "sum ") {
		t.Fatalf("the library holder did not start: %q", sc.Text())
	}
	must(t, masterID, "umount", m)
	r := wantCode(t, 1, masterID, "mkfs.famfs", "-f", "--reclaim", c.dev)
	if !strings.Contains(r.stderr, "participant") || !strings.Contains(r.stderr, client2ID) {
		t.Errorf("mkfs -f over a live participant: %v", r)
	}
	must(t, masterID, "mkfs.famfs", "-f", "--force-participants", c.dev)
	in.Close()
}

// A program under famfs run keeps mapping a file after its mount is
// unmounted (the mapping is of the device): the daemon stays registered
// until the program lets go, so the file's space is not reused under it;
// then the daemon leaves and the space is reused.
func TestDeleteHeldAfterUnmount(t *testing.T) {
	t.Parallel()
	debianPython(t)
	c, m, c1, fsys, aUnits, aSum := deleteCluster(t)
	h := startHolder(t, c1+"/a", "cmap", true)
	if got := h.sum(t, true); got != aSum {
		t.Fatalf("holder read %s, want %s", got, aSum)
	}
	pid := daemonAlive(t, c1).PID
	// No descriptor is open: the mount is not busy and goes at once.
	r := must(t, client1ID, "umount", c1)
	c.forget(client1ID)
	if !strings.Contains(r.stderr, "preload leases still map its files") {
		t.Errorf("umount with a lease in force said nothing of it: %v", r)
	}
	if waitExit(pid, 300*time.Millisecond) {
		t.Fatal("the daemon left while a program it granted still maps a file")
	}
	must(t, masterID, "rm", m+"/a")
	fsys.Refresh()
	fill(t, fsys, aUnits, "fill", nil)
	if got := h.sum(t, false); got != aSum {
		t.Fatalf("the holder's bytes changed after its mount went: %s", got)
	}
	h.exit(t, false)
	if !waitExit(pid, 10*time.Second) {
		t.Fatal("the daemon did not exit after its last lease ended")
	}
	d := reusedWithin(t, fsys, aUnits, "after", 10*time.Second)
	t.Logf("space reused %v after the last lease ended", d)
}
