package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/google/uuid"
)

// bulkCreate logs n tiny files bulk/<prefix><i> through the library on the
// master, in one hold of the log lock.
func bulkCreate(t *testing.T, dev, prefix string, n int) {
	t.Helper()
	fsys, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: uuid.MustParse(masterID)})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	err = fsys.Batch(func(b *famfs.Batch) error {
		for i := range n {
			if _, err := b.Create(fmt.Sprintf("bulk/%s%d", prefix, i), famfs.CreateOptions{Size: 1, Mode: 0o644}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("bulk create: %v", err)
	}
}

// A log past 90% makes the CLI warn and shows in the daemons' status; a full
// log refuses new files and directories cleanly (exit 1, a clear message,
// nothing half-written: fsck stays clean), and the file system still mounts.
func TestLogFillWarningAndFullLog(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	// 15 420 entries of 2 MiB files need 30 GiB: a bigger sparse device.
	must(t, masterID, "mkfs.famfs", "-f", "--size", "32g", c.dev)
	m := c.mount(masterID)
	c1 := c.mount(client1ID)
	expect(t, 0, masterID, "mkdir", m+"/bulk")
	capacity := daemonAlive(t, m).LogCapacity
	if capacity != 15420 {
		t.Fatalf("log capacity %d", capacity)
	}

	// Up to 89%: no warning.
	bulkCreate(t, c.dev, "a", int(capacity*89/100)-1)
	r := expect(t, 0, masterID, "mkdir", m+"/quiet")
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("warned below 90%%: %s", r.stderr)
	}
	// Past 90%: mkdir, creat and cp warn on stderr.
	bulkCreate(t, c.dev, "b", int(capacity/100)+5)
	r = expect(t, 0, masterID, "mkdir", m+"/loud")
	if !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "log") || !strings.Contains(r.stderr, "full") {
		t.Errorf("no log-fill warning: %q", r.stderr)
	}
	r = expect(t, 0, masterID, "creat", "-s", "1m", m+"/loud/f")
	if !strings.Contains(r.stderr, "full") {
		t.Errorf("creat: no log-fill warning: %q", r.stderr)
	}
	// Every daemon's status shows the fill level.
	for _, mp := range []string{m, c1} {
		var st float64
		if !within(5*time.Second, func() bool { st = daemonAlive(t, mp).LogFill; return st >= 90 }) {
			t.Errorf("%s: status log_fill_percent %.1f", mp, st)
		}
	}
	r = expect(t, 0, masterID, "status", c1)
	if !strings.Contains(r.stdout, `"log_fill_percent": 9`) {
		t.Errorf("famfs status: %s", r.stdout)
	}

	// Two slots left: a mkdir -p that needs three logs nothing; a creat of
	// three files fails on the third and makes none (all or nothing); two
	// fit.
	used := logEntries(t, c.dev)
	bulkCreate(t, c.dev, "c", int(capacity-used-2))
	if n := logEntries(t, c.dev); n != capacity-2 {
		t.Fatalf("%d entries, want %d", n, capacity-2)
	}
	r = expect(t, 1, masterID, "mkdir", "-p", m+"/x/y/z")
	if !strings.Contains(r.stderr, "full") {
		t.Errorf("mkdir -p on a nearly full log: %q", r.stderr)
	}
	if _, err := os.Stat(m + "/x"); err == nil || logEntries(t, c.dev) != capacity-2 {
		t.Error("a refused mkdir -p logged some of its directories")
	}
	r = expect(t, 1, masterID, "creat", "-M", m+"/t1,1m,1", "-M", m+"/t2,1m,2", "-M", m+"/t3,1m,3")
	if !strings.Contains(r.stderr, "t3") || !strings.Contains(r.stderr, "full") {
		t.Errorf("creat on a filling log: %q", r.stderr)
	}
	for _, n := range []string{"/t1", "/t2", "/t3"} {
		if _, err := os.Stat(m + n); err == nil {
			t.Errorf("%s exists after a failed creat", n)
		}
	}
	expect(t, 0, masterID, "creat", "-M", m+"/t1,1m,1", "-M", m+"/t2,1m,2")
	expect(t, 0, masterID, "verify", "-m", m+"/t1,1", "-m", m+"/t2,2")

	// Full: every change is refused cleanly, nothing is written.
	if n := logEntries(t, c.dev); n != capacity {
		t.Fatalf("%d entries, want %d", n, capacity)
	}
	before := fsckFree(t, m)
	src := filepath.Join(c.dir, "src")
	writeFile(t, src, 4096)
	for _, args := range [][]string{
		{"creat", "-s", "1m", m + "/onemore"},
		{"creat", "-s", "1m", "-r", "-S", "5", m + "/onemore"},
		{"mkdir", m + "/onemore"},
		{"mkdir", "-p", m + "/p/q"},
		{"cp", src, m + "/onemore"},
		{"cp", src, m + "/"},
		{"clone", m + "/t1", m + "/onemore"},
	} {
		r := expect(t, 1, masterID, args...)
		if !strings.Contains(r.stderr, "log") || !strings.Contains(r.stderr, "full") {
			t.Errorf("%v: unclear: %q", args, r.stderr)
		}
	}
	if _, err := os.Stat(m + "/onemore"); err == nil {
		t.Error("onemore exists")
	}
	if n := logEntries(t, c.dev); n != capacity {
		t.Errorf("the log changed: %d entries", n)
	}
	if after := fsckFree(t, m); after != before {
		t.Errorf("refused creates leaked space: free %s, was %s", after, before)
	}
	// Existing files are still usable, and the full log replays.
	expect(t, 0, masterID, "creat", "-r", "-S", "9", m+"/t1") // re-randomizing needs no entry
	expect(t, 0, masterID, "verify", "-S", "9", "-f", m+"/t1")
	expect(t, 0, masterID, "logplay", m)
	c.remount(client1ID)
	if ents, err := os.ReadDir(c1 + "/bulk"); err != nil || uint64(len(ents)) != capacity-6 {
		t.Errorf("client sees %d bulk files after remount (%v), want %d", len(ents), err, capacity-6)
	}
	expect(t, 0, client1ID, "fsck", c1)
}

// fsckFree is the Free space field of fsck on mpt (which must be clean).
func fsckFree(t *testing.T, mpt string) string {
	t.Helper()
	r := expect(t, 0, masterID, "fsck", mpt)
	return field(t, r.stdout, "Free space:", 3)
}
