package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// famfs fsck, items 44-54 (docs/design.md, "Reference CLI behaviours this
// implementation keeps"), with the documented codes: 0 clean, 4 problems,
// 8 operational error, 16 usage.
func TestRefFsck(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	dev := c.dev
	mpt := filepath.Join(c.dir, "mnt-"+masterID[:8])
	os.MkdirAll(mpt, 0o755)

	expect(t, 16, masterID, "fsck")                                         // #44
	expect(t, 0, masterID, "fsck", "-?")                                    // #44
	expect(t, 0, masterID, "fsck", dev)                                     // #45
	noMountOf(t, dev, "")                                                   // #45: no lingering mount
	expect(t, 8, masterID, "fsck", mpt)                                     // #46: not mounted
	expect(t, 8, masterID, "fsck", "/boguspath")                            // #50
	expectWith(t, runOpts{dir: c.dir}, 8, masterID, "fsck", "bogusrelpath") // #50
	bin := c.nobodyBin()
	expectWith(t, runOpts{dir: c.dir, nobody: true, bin: bin}, 8, masterID, "fsck", "bogusrelpath") // #50, unprivileged

	m := c.mount(masterID)
	expect(t, 0, masterID, "mkdir", m+"/d")
	expect(t, 0, masterID, "creat", "-s", "3m", "-r", "-S", "5", m+"/d/f")
	expect(t, 0, masterID, "cp", m+"/d/f", m+"/g")
	// #47: any path inside the mount, every variant.
	for _, p := range []string{m, m + "/", m + "/d", m + "/d/f", m + "/.meta/.log"} {
		for _, flags := range [][]string{nil, {"--human"}, {"-v"}, {"-vv"}, {"-m"}, {"-r"}, {"--human", "-v"}} {
			expect(t, 0, masterID, append(append([]string{"fsck"}, flags...), p)...)
		}
	}
	// #51: an unprivileged caller checks a mount through its world-readable
	// .meta files (the device itself is 0600).
	nobody := runOpts{nobody: true, bin: bin}
	r := expectWith(t, nobody, 0, masterID, "fsck", "--human", "-v", m)
	if got := field(t, r.stdout, "log_len", 2); got != "8388608" || !strings.Contains(r.stdout, "1 directories") {
		t.Errorf("unprivileged fsck:\n%s", r.stdout)
	}
	expectWith(t, nobody, 0, masterID, "fsck", "-B", "8", m+"/d")
	expectWith(t, nobody, 8, masterID, "fsck", dev)
	expect(t, 16, masterID, "fsck", "-rm", m) // #48
	expect(t, 16, masterID, "fsck", "-r", "-m", m)
	r = expect(t, 8, masterID, "fsck", dev) // #49: by device while mounted
	if !strings.Contains(r.stderr, "mounted") {
		t.Errorf("fsck of a mounted device: unclear message %q", r.stderr)
	}

	// #52: the output contract scripts parse.
	r = expect(t, 0, masterID, "fsck", "-v", m)
	if got := field(t, r.stdout, "log_len", 2); got != "8388608" {
		t.Errorf("log_len field: %q", got)
	}
	r = expect(t, 0, masterID, "fsck", m)
	capacity, _ := strconv.ParseUint(field(t, r.stdout, "Device capacity:", 3), 10, 64)
	if capacity != 8<<30 {
		t.Errorf("Device capacity: %d", capacity)
	}
	free, _ := strconv.ParseUint(field(t, r.stdout, "Free space:", 3), 10, 64)
	if want := uint64(8<<30 - 5*(2<<20) - 2*(4<<20)); free != want {
		t.Errorf("Free space: %d, want %d", free, want)
	}
	if strings.Contains(r.stdout, "log_len") {
		t.Error("log_len without -v")
	}

	// #53: per-bucket statistics.
	nb := strconv.FormatUint(capacity>>30, 10)
	r = expect(t, 0, masterID, "fsck", "--human", "-B", nb, m)
	if n := strings.Count(r.stdout, "bucket "); n != 8 {
		t.Errorf("fsck -B %s printed %d bucket lines:\n%s", nb, n, r.stdout)
	}
	for _, b := range []string{"1", nb, "7", "6"} {
		run(t, masterID, "fsck", "--human", "-B", b, m) // exits not asserted by the reference
		run(t, masterID, "fsck", "-B", b, m)
	}

	// #54 with #145-147: clones share extents; fsck then finds the
	// cross-links (exit 4), with and without -v, also after a remount.
	expect(t, 0, masterID, "clone", "-h")                  // #145
	expect(t, 16, masterID, "clone")                       // #146
	expect(t, 1, masterID, "clone", m+"/nothere", m+"/c0") // #146
	expect(t, 1, masterID, "clone", "/etc/passwd", m+"/c0")
	expect(t, 0, masterID, "fsck", m) // still clean
	expect(t, 0, masterID, "clone", m+"/d/f", m+"/c1")
	expect(t, 0, masterID, "clone", "-v", m+"/d/f", m+"/c2")
	expect(t, 0, masterID, "clone", "-v", m+"/c1", m+"/c3")
	for _, f := range []string{"/d/f", "/c1", "/c2", "/c3"} {
		expect(t, 0, masterID, "verify", "-S", "5", "-f", m+f)
	}
	for _, flags := range [][]string{nil, {"-v"}, {"--human"}} {
		r = expect(t, 4, masterID, append(append([]string{"fsck"}, flags...), m)...)
		if !strings.Contains(r.stdout, "COLLISIONS") && !strings.Contains(r.stdout, "cross-linked") {
			t.Errorf("fsck does not say what is wrong:\n%s", r.stdout)
		}
	}
	c.remount(masterID)
	expect(t, 4, masterID, "fsck", m)
	expect(t, 4, masterID, "fsck", "-v", m)
	expect(t, 0, masterID, "verify", "-S", "5", "-f", m+"/c3")
	must(t, masterID, "umount", m)
	expect(t, 4, masterID, "fsck", dev)
}
