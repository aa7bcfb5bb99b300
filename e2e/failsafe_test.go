package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/famfs-go/famfs/mount"

	"github.com/famfs-go/famfs/internal/control"
	"github.com/famfs-go/famfs/internal/mounts"
	"github.com/famfs-go/famfs/internal/omf"
)

// logGeometry reads the superblock of the device file dev.
func logGeometry(t *testing.T, dev string) omf.Superblock {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 4096)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	sb, err := omf.ParseSuperblock(b)
	if err != nil {
		t.Fatal(err)
	}
	return sb
}

// logHeaderBytes returns the raw log header of the device file dev.
func logHeaderBytes(t *testing.T, dev string) []byte {
	t.Helper()
	sb := logGeometry(t, dev)
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, omf.LogHeaderSize)
	if _, err := f.ReadAt(b, int64(sb.LogOffset)); err != nil {
		t.Fatal(err)
	}
	return b
}

// appendCrafted appends entry images to the log of the unmounted device
// file dev, as a hostile or buggy master could have logged them: each image
// gets its slot's sequence number and a valid CRC (edit may change the
// encoded bytes first), then the header's next index moves past them.
func appendCrafted(t *testing.T, dev string, entries []omf.Entry, edit func(k int, b []byte)) {
	t.Helper()
	sb := logGeometry(t, dev)
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hb := make([]byte, omf.LogHeaderSize)
	if _, err := f.ReadAt(hb, int64(sb.LogOffset)); err != nil {
		t.Fatal(err)
	}
	h, err := omf.ParseLogHeader(hb, sb.LogLen)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, omf.EntrySize)
	for k, e := range entries {
		i := h.NextIndex + uint64(k)
		e.Seqnum = i
		if err := e.Encode(b); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(k, b)
			binaryLE(b[omf.EntryCRCOffset:], omf.EntryCRC(b))
		}
		if _, err := f.WriteAt(b, int64(sb.LogOffset+omf.EntryOffset(i))); err != nil {
			t.Fatal(err)
		}
	}
	h.NextIndex += uint64(len(entries))
	h.NextSeqnum = h.NextIndex
	h.Encode(hb)
	if _, err := f.WriteAt(hb, int64(sb.LogOffset)); err != nil {
		t.Fatal(err)
	}
}

func binaryLE(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

func craftedFile(path string, size, off, length uint64, uid uint32) omf.Entry {
	return omf.Entry{Type: omf.EntryFile, Size: size, Flags: omf.FileFlagsAllHostsRW, Mode: 0o666, UID: uid, GID: uid, Path: path,
		FMap: omf.FMap{Type: omf.ExtSimple, Extents: []omf.Extent{{Offset: off, Len: length}}}}
}

// A log entry whose extent lies in the log, a logged .meta at the root and a
// path with ".." are refused everywhere: never served, so the log cannot be
// written through a mount; fsck finds them (exit 4) and counts them as bad
// entries, not files; logplay -n lists them as refused.
func TestCraftedEntriesRefused(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	must(t, masterID, "creat", "-s", "2m", "-r", "-S", "3", m+"/ok")
	must(t, masterID, "umount", m)

	const au = 2 << 20
	appendCrafted(t, c.dev, []omf.Entry{
		// a user's file over the log header
		craftedFile("evil", 4096, omf.LogOffset, au, 1000),
		// a file the mount's own .meta would hide
		craftedFile(".meta", 4096, 200*au, au, 0),
		// "xx/evil" becomes "../evil" below
		craftedFile("xx/evil", 4096, 300*au, au, 0),
	}, func(k int, b []byte) {
		if k == 2 {
			i := bytes.Index(b, []byte("xx/evil"))
			copy(b[i:], "..")
		}
	})
	header := logHeaderBytes(t, c.dev)

	m = c.mount(masterID)
	if _, err := os.Stat(m + "/evil"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat of the file over the log: %v, want ENOENT", err)
	}
	var names []string
	ents, err := os.ReadDir(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{".meta", "ok"}) {
		t.Errorf("the root lists %q, want .meta and ok", names)
	}
	if _, err := os.Stat(m + "/.meta/.log"); err != nil {
		t.Errorf("the mount's own .meta: %v", err)
	}

	// Try to write the log through the mount, as the file's owner could.
	junk := bytes.Repeat([]byte{0xee}, 4096)
	if f, err := os.OpenFile(m+"/evil", os.O_WRONLY, 0); err == nil {
		f.WriteAt(junk, 0)
		f.Close()
		t.Error("the file over the log opened for writing")
	}
	if f, err := os.OpenFile(m+"/.meta/.log", os.O_WRONLY, 0); err == nil {
		f.WriteAt(junk, 0)
		f.Close()
		t.Error(".meta/.log opened for writing")
	}
	if got := logHeaderBytes(t, c.dev); !bytes.Equal(got, header) {
		t.Fatalf("the log header changed:\n got %x\nwant %x", got, header)
	}

	r := wantCode(t, 4, masterID, "fsck", m)
	for _, want := range []string{"  3 bad log entries detected\n  1 files\n  0 directories\n",
		"(evil): bad file map: extent 0x200000+0x200000 overlaps the superblock and log",
		"(.meta): reserved name", "malformed entry"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("fsck output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = wantCode(t, 1, masterID, "logplay", "-n", "-v", m) // -v lists every entry
	if !strings.Contains(r.stdout, "; 1 files; 0 directories; ") || strings.Count(r.stdout, "[refused") != 3 {
		t.Errorf("logplay -n:\n%s", r.stdout)
	}

	// The log is intact: the master still logs, every host reads it.
	must(t, masterID, "creat", "-s", "1m", m+"/after")
	if _, err := os.Stat(m + "/after"); err != nil {
		t.Error(err)
	}
	must(t, masterID, "verify", "-S", "3", "-f", m+"/ok")
	if got := logHeaderBytes(t, c.dev); !bytes.Equal(got[:omf.LogHdrNextSeqnum], header[:omf.LogHdrNextSeqnum]) {
		t.Fatalf("the log header's CRC'd part changed:\n got %x\nwant %x", got, header)
	}
	c1 := c.mount(client1ID)
	if _, err := os.Stat(c1 + "/after"); err != nil {
		t.Errorf("client: %v", err)
	}
}

// A mistyped FAMFS_SYSTEM_UUID is an error naming the variable: no client
// mount of the master's device, nothing logged, and mkfs --size leaves no
// device file.
func TestBadSystemUUIDRefused(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	mpt := filepath.Join(c.dir, "mnt-bad")
	if err := os.MkdirAll(mpt, 0o755); err != nil {
		t.Fatal(err)
	}
	const want = `FAMFS_SYSTEM_UUID="master": not a UUID`
	if r := run(t, "master", "mount", c.dev, mpt); r.code != 1 || !strings.Contains(r.stderr, want) || isMounted(mpt) {
		t.Errorf("mount: %v", r)
	}
	m := c.mount(masterID)
	if r := run(t, "master", "creat", "-s", "1m", m+"/f"); r.code != 1 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "client") {
		t.Errorf("creat: %v", r)
	}
	if _, err := os.Stat(m + "/f"); err == nil {
		t.Error("a file was logged")
	}
	dev := filepath.Join(c.dir, "other.img")
	if r := run(t, "master", "mkfs.famfs", "--size", "4g", dev); r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("mkfs: %v", r)
	}
	if _, err := os.Stat(dev); err == nil {
		t.Error("mkfs left a device file behind")
	}
}

// A daemon killed with SIGKILL leaves a dead mount whose root the kernel
// still answers from its attribute cache: famfs mount on the same mount
// point detects it (the FUSE connection is gone), detaches it and mounts
// afresh; famfs umount cleans one up too. A live mount is never taken for a
// dead one, nor is a stopped (not answering) daemon.
func TestSigkillThenRemount(t *testing.T) {
	t.Parallel()
	c, m, c1 := twoHosts(t)
	must(t, masterID, "creat", "-s", "2m", "-r", "-S", "5", m+"/f")
	warm := func(mpt string) {
		t.Helper()
		// The kernel caches the root's attributes and the entries it saw.
		if _, err := os.ReadDir(mpt); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(mpt + "/f"); err != nil {
			t.Fatal(err)
		}
	}
	warm(c1)
	// A live mount stays: mounting over it is refused.
	if r := wantCode(t, 32, client1ID, "mount", c.dev, c1); !strings.Contains(r.stderr, "already a famfs mount") {
		t.Errorf("mount over a live mount: %v", r)
	}
	if st, err := mounts.Check(c1, time.Second); st != mounts.Alive || err != nil {
		t.Fatalf("live mount: %v %v", st, err)
	}

	kill := func(mpt string) int {
		t.Helper()
		pid := daemonAlive(t, mpt).PID
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if !waitExit(pid, 5*time.Second) {
			t.Fatalf("daemon %d outlived SIGKILL", pid)
		}
		return pid
	}
	old := kill(c1)
	if _, err := os.Stat(c1); err != nil {
		t.Logf("the dead mount's root: %v (the kernel did not answer from its cache)", err)
	}
	eventually(t, 5*time.Second, "the kernel to see the connection gone", func() bool {
		st, _ := mounts.Check(c1, time.Second)
		return st == mounts.Dead
	})
	must(t, client1ID, "mount", c.dev, c1)
	if st := daemonAlive(t, c1); st.PID == old {
		t.Fatalf("the same daemon %d answers", old)
	}
	must(t, client1ID, "verify", "-S", "5", "-f", c1+"/f")
	if ms, _ := mounts.BySource(c.dev); len(ms) != 2 {
		t.Errorf("%d mounts of the device, want 2 (the dead one detached): %+v", len(ms), ms)
	}

	// famfs umount of a dead mount detaches it and removes the socket.
	warm(c1)
	kill(c1)
	must(t, client1ID, "umount", c1)
	if isMounted(c1) {
		t.Fatal("famfs umount left the dead mount")
	}
	if _, err := os.Stat(control.SocketPath(c1)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale socket: %v", err)
	}

	// A stopped daemon is not answering, not dead.
	pid := daemonAlive(t, m).PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT)
	// The stop reaches one thread first, which then stops the others: until
	// all are stopped, one of them may still answer.
	eventually(t, 5*time.Second, "every thread of the daemon to stop", func() bool { return allStopped(pid) })
	st, err := mounts.Check(m, 300*time.Millisecond)
	syscall.Kill(pid, syscall.SIGCONT)
	if st != mounts.Unresponsive || err != nil {
		t.Errorf("stopped daemon: %v %v", st, err)
	}
	daemonAlive(t, m)

	// Mount options out of range are refused by name before anything starts.
	if r := run(t, client1ID, "mount", "-o", "timeout=inf", c.dev, c1); r.code != 1 || !strings.Contains(r.stderr, "timeout=inf: want") || isMounted(c1) {
		t.Errorf("timeout=inf: %v", r)
	}
}

// The daemon log stays quiet at the default level while data is read (go-fuse
// used to log a failed splice per 1 MiB read), famfs status names it, and a
// clean unmount removes it.
func TestDaemonLogQuietAndRemoved(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	must(t, masterID, "creat", "-s", "64m", "-r", "-S", "9", m+"/big")
	f, err := os.Open(m + "/big")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	total := 0
	for {
		n, err := f.Read(buf)
		total += n
		if err != nil || n == 0 {
			break
		}
	}
	f.Close()
	if total != 64<<20 {
		t.Fatalf("read %d bytes", total)
	}
	logPath := mount.LogPath(m)
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("the daemon log: %v", err)
	}
	if len(b) != 0 {
		t.Errorf("the daemon log after reading 64 MiB holds %d bytes:\n%.2000s", len(b), b)
	}
	var st struct {
		PID  int      `json:"pid"`
		Log  string   `json:"daemon_log"`
		Tail []string `json:"daemon_log_tail"`
	}
	r := must(t, masterID, "status", m)
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Log != logPath || st.Tail == nil || len(st.Tail) != 0 || st.PID == 0 {
		t.Errorf("status %+v (%v):\n%s", st, err, r.stdout)
	}
	must(t, masterID, "umount", m)
	for _, p := range []string{logPath, logPath + ".1"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after a clean unmount: %v", p, err)
		}
	}
}

// allStopped reports whether every thread of process pid is stopped (T).
func allStopped(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		i := bytes.LastIndexByte(b, ')')
		if err != nil || i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
			return false
		}
	}
	return true
}
