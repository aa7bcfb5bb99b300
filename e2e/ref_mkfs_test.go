package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/internal/mounts"
)

// logLen reads the log length the way the reference's scripts do: the one
// line of `fsck -v` that holds log_len, second field.
func logLen(t *testing.T, dev string) string {
	t.Helper()
	r := expect(t, 0, masterID, "fsck", "-v", dev)
	return field(t, r.stdout, "log_len", 2)
}

func superblockBytes(t *testing.T, dev string) []byte {
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
	return b
}

// mkfs.famfs, items 1-15 (docs/design.md, "Reference CLI behaviours this
// implementation keeps").
func TestRefMkfs(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	dev := c.dev
	noMount := func() {
		t.Helper()
		if ms, _ := mounts.BySource(dev); len(ms) > 0 {
			t.Errorf("a mount of %s lingers: %v", dev, ms) // #15
		}
	}
	expect(t, 0, masterID, "mkfs.famfs", "-h")                                // #1
	expect(t, 0, masterID, "mkfs.famfs", "-?")                                // #1
	expect(t, 16, masterID, "mkfs.famfs")                                     // #2
	expect(t, 1, masterID, "mkfs.famfs", filepath.Join(c.dir, "nonexistent")) // #3
	expect(t, 1, masterID, "mkfs.famfs", "/tmp/nonexistent-famfs-e2e-device") // #3
	if _, err := os.Stat("/tmp/nonexistent-famfs-e2e-device"); err == nil {   // #3: not created
		t.Error("mkfs created /tmp/nonexistent-famfs-e2e-device")
		os.Remove("/tmp/nonexistent-famfs-e2e-device")
	}

	// #4: a device without a superblock formats.
	blank := filepath.Join(c.dir, "blank.img")
	if err := os.WriteFile(blank, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(blank, 4<<30); err != nil {
		t.Fatal(err)
	}
	expect(t, 0, masterID, "mkfs.famfs", blank)
	expect(t, 0, masterID, "fsck", blank)

	// #7: no -f over an existing file system: refused, device untouched.
	before := superblockBytes(t, dev)
	expect(t, 1, masterID, "mkfs.famfs", dev)
	// #5: -k without -f: refused, untouched.
	expect(t, 1, masterID, "mkfs.famfs", "-k", dev)
	if !bytes.Equal(before, superblockBytes(t, dev)) {
		t.Error("a refused mkfs changed the superblock")
	}
	// #10-12: bad log lengths: refused, log length unchanged.
	for _, l := range []string{"1", "11m", "1m"} {
		expect(t, 1, masterID, "mkfs.famfs", "-f", "--loglen", l, dev)
		if got := logLen(t, dev); got != "8388608" {
			t.Errorf("after --loglen %s: log_len %s", l, got)
		}
	}
	if !bytes.Equal(before, superblockBytes(t, dev)) {
		t.Error("a refused mkfs changed the superblock")
	}
	// #13: a 256 MiB log; a plain mkfs then fails and leaves it.
	expect(t, 0, masterID, "mkfs.famfs", "-f", "--loglen", "256m", dev)
	if got := logLen(t, dev); got != "268435456" {
		t.Errorf("--loglen 256m: log_len %s", got)
	}
	expect(t, 1, masterID, "mkfs.famfs", dev)
	if got := logLen(t, dev); got != "268435456" {
		t.Errorf("after a refused mkfs: log_len %s", got)
	}
	// #8: -f reverts to the default 8 MiB log.
	expect(t, 0, masterID, "mkfs.famfs", "-f", dev)
	if got := logLen(t, dev); got != "8388608" {
		t.Errorf("mkfs -f: log_len %s", got)
	}
	// #9: -v -f formats (the reference prints usage instead; both exit 0).
	expect(t, 0, masterID, "mkfs.famfs", "-v", "-f", dev)
	// #6: -f -k kills the superblock: mount fails (not 99), plain mkfs works.
	expect(t, 0, masterID, "mkfs.famfs", "-f", "-k", dev)
	mpt := filepath.Join(c.dir, "mnt")
	os.MkdirAll(mpt, 0o755)
	r := expect(t, 32, masterID, "mount", dev, mpt)
	if r.code == 99 {
		t.Error("mount after kill returned 99")
	}
	noMountOf(t, dev, mpt) // #38, #43
	expect(t, 8, masterID, "fsck", dev)
	expect(t, 0, masterID, "mkfs.famfs", dev)
	expect(t, 0, masterID, "fsck", dev)
	noMount() // #15: neither mkfs nor fsck by device mounts anything

	// #14: mkfs while mounted: refused, with and without -f.
	m := c.mount(masterID)
	expect(t, 0, masterID, "mkdir", m+"/keep")
	expect(t, 1, masterID, "mkfs.famfs", dev)
	expect(t, 1, masterID, "mkfs.famfs", "-f", dev)
	expect(t, 1, masterID, "mkfs.famfs", "-f", "-k", dev)
	if _, err := os.Stat(m + "/keep"); err != nil {
		t.Errorf("the mounted file system changed: %v", err)
	}
	daemonAlive(t, m)
}

// famfs itself, items 20-24 (docs/design.md, "Reference CLI behaviours this
// implementation keeps").
func TestRefTopLevel(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	expect(t, 16, masterID, "--")     // #20
	expect(t, 16, masterID)           // #20
	expect(t, 0, masterID, "-h")      // #21
	expect(t, 0, masterID, "-?")      // #21
	expect(t, 0, masterID, "--help")  // #21
	expect(t, 16, masterID, "badarg") // #22
	r := expect(t, 0, masterID, "-h", "mount")
	if !strings.Contains(r.stdout, "famfs mount") || strings.Contains(r.stdout, "Available Commands") {
		t.Errorf("famfs -h mount does not print the mount usage:\n%s", r.stdout)
	}
	// #23: every subcommand's usage error is a small code (run checks <128).
	for _, cmd := range []string{"mkfs", "fsck", "logplay", "mount", "umount", "mkdir", "creat", "cp",
		"verify", "getmap", "flush", "chkread", "clone", "check", "mkmeta", "status"} {
		expect(t, 0, masterID, cmd, "-h")
		expect(t, 0, masterID, cmd, "-?")
		code := 16
		if cmd == "mount" {
			code = 1 // mount(8)'s usage code
		}
		expect(t, code, masterID, cmd, "--no-such-flag")
	}
	// #24: FAMFS_MODE is ignored (a bogus value included) and the kernel
	// mode flags are accepted with a note.
	for _, mode := range []string{"bogusvalue", "v1", "fuse"} {
		o := runOpts{env: []string{"FAMFS_MODE=" + mode}}
		expectWith(t, o, 0, masterID, "fsck", c.dev)
		expectWith(t, o, 0, masterID, "fsck", "--nofuse", c.dev)
		expectWith(t, o, 0, masterID, "fsck", "--fuse", c.dev)
	}
}
