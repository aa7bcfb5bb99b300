package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/famfs-go/famfs/internal/control"
)

// The mounted tree under ordinary tools, items 153-157 and 161-163
// (docs/design.md, "Reference CLI behaviours this implementation keeps").
func TestRefMountedTree(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	os.Chmod(c.dir, 0o755) // let uid 65534 reach the mount point
	m := c.mount(masterID)
	expect(t, 0, masterID, "mkdir", "-p", m+"/dir/sub")
	expect(t, 0, masterID, "mkdir", m+"/tmpdir")
	expect(t, 0, masterID, "creat", "-s", "2m", "-r", "-S", "31", m+"/f")
	expect(t, 0, masterID, "creat", "-s", "100000", "-r", "-S", "32", "-m", "0640", "-u", "1000", "-g", "1001", m+"/dir/g")
	expect(t, 0, masterID, "creat", "-s", "5m", "-r", "-S", "33", m+"/dir/sub/h")

	// #153
	for _, p := range []string{".meta/.superblock", ".meta/.log"} {
		if st, err := os.Stat(filepath.Join(m, p)); err != nil || !st.Mode().IsRegular() {
			t.Errorf("%s: %v", p, err)
		}
	}
	// #154, #89: dd into the existing file changes its data; verify fails;
	// dd of the original back (conv=notrunc) repairs it.
	orig := filepath.Join(c.dir, "f.orig")
	toolOK(t, "dd", "if="+m+"/f", "of="+orig, "bs=1M")
	toolOK(t, "dd", "if=/dev/zero", "of="+m+"/f", "bs=4096", "count=1", "conv=notrunc")
	toolOK(t, "dd", "if="+m+"/f", "of=/dev/null")
	if b, _ := os.ReadFile(m + "/f"); len(b) != 2<<20 || strings.Trim(string(b[:4096]), "\x00") != "" {
		t.Error("dd did not zero the first page")
	}
	expect(t, 1, masterID, "verify", "-S", "31", "-f", m+"/f")
	toolOK(t, "dd", "if="+orig, "of="+m+"/f", "bs=4096", "conv=notrunc")
	expect(t, 0, masterID, "verify", "-S", "31", "-f", m+"/f")
	if st, _ := os.Stat(m + "/f"); st.Size() != 2<<20 {
		t.Errorf("dd changed the size: %d", st.Size())
	}
	// #155: stat as an unprivileged user.
	for _, p := range []string{m + "/f", m + "/dir/g", m + "/dir/sub", m + "/.meta/.log"} {
		out, err := asNobody(t, "stat", p).CombinedOutput()
		if err != nil {
			t.Errorf("unprivileged stat %s: %v %s", p, err, out)
		}
	}
	out, err := asNobody(t, "cat", m+"/dir/g").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Permission denied") {
		t.Errorf("uid 65534 read a 0640 file of 1000:1001: %v", err)
	}
	// #156, #157: what famfs forbids fails, leaves nothing, and the daemon lives.
	toolFails(t, "cp", "/etc/passwd", m+"/pwd")
	toolFails(t, "touch", m+"/touchfile")
	toolFails(t, "dd", "if="+m+"/touchfile", "of=/dev/null")
	toolFails(t, "truncate", "--size", "0", m+"/f")
	toolFails(t, "truncate", "--size", "4M", m+"/f")
	toolFails(t, "mkdir", m+"/mydir")
	toolFails(t, "ln", m+"/f", m+"/hardlink")
	toolFails(t, "ln", "-s", m+"/f", m+"/symlink")
	toolFails(t, "mknod", m+"/node", "b", "100", "100")
	toolFails(t, "mknod", m+"/fifo", "p")
	toolFails(t, "rmdir", m+"/tmpdir")
	toolFails(t, "rm", m+"/f")
	toolFails(t, "rm", "-rf", m+"/dir")
	toolFails(t, "mv", m+"/f", m+"/moved")
	toolFails(t, "touch", m+"/new")
	for _, p := range []string{"pwd", "touchfile", "mydir", "hardlink", "symlink", "node", "fifo", "new", "moved"} {
		if _, err := os.Lstat(filepath.Join(m, p)); err == nil {
			t.Errorf("a refused operation left %s", p)
		}
	}
	for _, p := range []string{"f", "tmpdir", "dir/g", "dir/sub/h"} {
		if _, err := os.Stat(filepath.Join(m, p)); err != nil {
			t.Errorf("a refused operation removed %s", p)
		}
	}
	daemonAlive(t, m)
	expect(t, 0, masterID, "verify", "-S", "31", "-f", m+"/f")
	// #161: chown and chmod are accepted (for the life of the mount); a
	// size change is not.
	toolOK(t, "chown", "1234:5678", m+"/f")
	toolOK(t, "chmod", "0666", m+"/dir")
	toolOK(t, "chmod", "0600", m+"/dir/sub/h")
	if mode, uid, gid := statIDs(t, m+"/f"); uid != 1234 || gid != 5678 || mode != 0o644&^currentUmask() {
		t.Errorf("after chown: %o %d:%d", mode, uid, gid)
	}
	if mode, _, _ := statIDs(t, m+"/dir"); mode != 0o666 {
		t.Errorf("after chmod: %o", mode)
	}
	toolFails(t, "truncate", "--size", "1", m+"/dir/sub/h")
	for _, args := range [][]string{{"chmod", "0777", m + "/dir/sub/h"}, {"chown", "65534", m + "/dir/sub/h"}} {
		out, err := asNobody(t, args...).CombinedOutput()
		if err == nil {
			t.Errorf("uid 65534 may %v a root file: %s", args, out)
		}
	}
	if mode, uid, _ := statIDs(t, m+"/dir/sub/h"); mode != 0o600 || uid != 0 {
		t.Errorf("an unprivileged chmod/chown changed h: %o %d", mode, uid)
	}
	// #162: df reports the famfs capacity.
	out2 := toolOK(t, "df", "-B1", m)
	if f := strings.Fields(lastLine(out2)); len(f) < 2 || f[1] != strconv.Itoa(8<<30) {
		t.Errorf("df -B1: %q", out2)
	}
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(m, &sfs); err != nil || uint64(sfs.Blocks)*uint64(sfs.Bsize) != 8<<30 {
		t.Errorf("statfs: %v %+v", err, sfs)
	}
	free := func() uint64 {
		var s syscall.Statfs_t
		syscall.Statfs(m, &s)
		return s.Bavail * uint64(s.Bsize)
	}
	was := free()
	expect(t, 0, masterID, "creat", "-s", "99m", m+"/big")
	if !within(5*time.Second, func() bool { return free() == was-100<<20 }) {
		t.Errorf("statfs free space %d after a 100 MiB allocation, was %d", free(), was)
	}
	// #163: cmp, diff -r, ls -lR, find, stat --format on mounted files.
	local := filepath.Join(c.dir, "copy")
	toolOK(t, "cp", "-r", m+"/dir", local)
	toolOK(t, "cmp", m+"/dir/sub/h", local+"/sub/h")
	toolOK(t, "diff", "-r", m+"/dir", local)
	toolFails(t, "cmp", "-s", m+"/f", m+"/dir/sub/h")
	ls := toolOK(t, "ls", "-lR", m)
	for _, n := range []string{"dir", "sub", "f", "g", "h", "tmpdir"} {
		if !strings.Contains(ls, n) {
			t.Errorf("ls -lR misses %s:\n%s", n, ls)
		}
	}
	if got := strings.Fields(toolOK(t, "find", m, "-type", "f", "-name", "[fgh]")); len(got) != 3 {
		t.Errorf("find: %v", got)
	}
	if got := strings.TrimSpace(toolOK(t, "stat", "--format=%a/%u/%g/%s", m+"/dir/g")); got != "640/1000/1001/100000" {
		t.Errorf("stat --format: %s", got)
	}
	if got := strings.TrimSpace(toolOK(t, "stat", "--format=%F", m+"/dir/sub")); got != "directory" {
		t.Errorf("stat --format=%%F: %s", got)
	}
	// After a remount the logged attributes are back (chown/chmod were for
	// the life of the mount) and the data is what dd restored.
	c.remount(masterID)
	if mode, uid, _ := statIDs(t, m+"/f"); uid != 0 || mode != 0o644&^currentUmask() {
		t.Errorf("after remount: %o uid %d", mode, uid)
	}
	expect(t, 0, masterID, "verify", "-m", m+"/f,31", "-m", m+"/dir/g,32", "-m", m+"/dir/sub/h,33")
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}

// Item 164 (docs/design.md, "Reference CLI behaviours this implementation
// keeps"), the portable part: an HTTP server on the mount's unix socket
// answers (here the control socket, whose path derives from the mount point;
// the reference's shadow directory and xattr are not ours).
func TestRefControlSocket(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	sock := control.SocketPath(m)
	curl := func(args ...string) string {
		t.Helper()
		return toolOK(t, "curl", append([]string{"-sS", "-f", "--unix-socket", sock}, args...)...)
	}
	if pid := strings.TrimSpace(curl("http://famfs/pid")); pid != strconv.Itoa(daemonAlive(t, m).PID) {
		t.Errorf("/pid: %q", pid)
	}
	curl("-X", "POST", "-d", "7", "http://famfs/log_level")
	if lvl := strings.TrimSpace(curl("http://famfs/log_level")); lvl != "debug" && lvl != "DEBUG" && lvl != "7" {
		t.Errorf("/log_level after POST 7: %q", lvl)
	}
	curl("-X", "POST", "-d", "warn", "http://famfs/log_level")
	if st := curl("http://famfs/status"); !strings.Contains(st, `"mountpoint"`) {
		t.Errorf("/status: %s", st)
	}
	code, _ := tool(t, "curl", "-sS", "-f", "--unix-socket", sock, "http://famfs/no_such_endpoint")
	if code == 0 {
		t.Error("an unknown endpoint answered 200")
	}
	daemonAlive(t, m)
}
