package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// famfs check takes its mount point as every other command takes paths:
// absolute or relative; it says "no such file" for a missing one.
func TestCheckRelativePaths(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	must(t, masterID, "mkdir", "-p", filepath.Join(m, "d/e"))
	must(t, masterID, "creat", "-s", "2m", filepath.Join(m, "d/e/f"))
	for _, tc := range []struct {
		dir, arg, want string
	}{
		{m, ".", "famfs_check: 3 files, 2 directories, 0 errors"}, // .meta's two files count
		{filepath.Join(m, "d/e"), "../..", "famfs_check: 3 files, 2 directories, 0 errors"},
		{c.dir, filepath.Base(m), "famfs_check: 3 files, 2 directories, 0 errors"},
		{c.dir, "./" + filepath.Base(m) + "/", "famfs_check: 3 files, 2 directories, 0 errors"},
	} {
		r := runWith(t, runOpts{dir: tc.dir}, masterID, "check", "-v", tc.arg)
		if r.code != 0 || !strings.Contains(r.stdout, tc.want) {
			t.Errorf("famfs check %s in %s: want %q, got %v", tc.arg, tc.dir, tc.want, r)
		}
	}
	r := runWith(t, runOpts{dir: m}, masterID, "check", "d")
	if r.code != 1 || !strings.Contains(r.stderr, "famfs check: d: not a famfs mount point") {
		t.Errorf("famfs check d: %v", r)
	}
	r = runWith(t, runOpts{dir: m}, masterID, "check", "nothere")
	if r.code != 1 || !strings.Contains(r.stderr, "famfs check: nothere: no such file or directory") {
		t.Errorf("famfs check nothere: %v", r)
	}
	r = runWith(t, runOpts{dir: "/"}, masterID, "check", "tmp")
	if r.code != 1 || !strings.Contains(r.stderr, "tmp: not in a famfs file system") {
		t.Errorf("famfs check tmp (in /): %v", r)
	}
}

// famfs umount takes the device, as umount(8) does, and says "no such file"
// for a missing path.
func TestUmountByDevice(t *testing.T) {
	t.Parallel()
	c, m, c1 := twoHosts(t)
	r := runWith(t, runOpts{dir: c.dir}, masterID, "umount", "nothere")
	if r.code != 1 || !strings.Contains(r.stderr, "famfs umount: nothere: no such file or directory") {
		t.Errorf("famfs umount nothere: %v", r)
	}
	r = runWith(t, runOpts{dir: c.dir}, masterID, "umount", c.dir)
	if r.code != 1 || !strings.Contains(r.stderr, c.dir+" is not a famfs mount point") {
		t.Errorf("famfs umount of a plain directory: %v", r)
	}
	// By device, relative as typed: the most recent mount goes first.
	dev := filepath.Base(c.dev)
	if r := runWith(t, runOpts{dir: c.dir}, masterID, "umount", dev); r.code != 0 {
		t.Fatalf("famfs umount %s: %v", dev, r)
	}
	if isMounted(c1) || !isMounted(m) {
		t.Fatalf("umount by device: client mount still there %v, master mount gone %v", isMounted(c1), !isMounted(m))
	}
	if r := runWith(t, runOpts{dir: c.dir}, masterID, "umount", dev); r.code != 0 {
		t.Fatalf("famfs umount %s: %v", dev, r)
	}
	if isMounted(m) {
		t.Fatal("the master's mount is still there")
	}
	r = runWith(t, runOpts{dir: c.dir}, masterID, "umount", dev)
	if r.code != 1 || !strings.Contains(r.stderr, dev+": not mounted") {
		t.Errorf("famfs umount of an unmounted device: %v", r)
	}
	if _, err := os.Stat(c.dev); err != nil {
		t.Error(err)
	}
}
