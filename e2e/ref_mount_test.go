package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// famfs mount, items 25-38 and 43 (docs/design.md, "Reference CLI behaviours
// this implementation keeps").
func TestRefMount(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	dev := c.dev
	mpt := filepath.Join(c.dir, "famfs")
	os.MkdirAll(mpt, 0o755)
	findmnt := func() int {
		code, _ := tool(t, "findmnt", "-rn", "-S", dev, "--target", mpt)
		return code
	}
	mounted := func(what string) {
		t.Helper()
		b, _ := os.ReadFile("/proc/mounts")
		if !strings.Contains(string(b), " "+mpt+" ") || !strings.Contains(string(b), "famfs") {
			t.Errorf("%s: /proc/mounts has no famfs line for %s", what, mpt)
		}
		if findmnt() != 0 {
			t.Errorf("%s: findmnt -S %s --target %s finds nothing", what, dev, mpt)
		}
		for _, f := range []string{".meta/.superblock", ".meta/.log"} {
			if _, err := os.Stat(filepath.Join(mpt, f)); err != nil {
				t.Errorf("%s: %v", what, err)
			}
		}
	}
	umount := func() {
		t.Helper()
		expect(t, 0, masterID, "umount", mpt) // #36
		if findmnt() == 0 {
			t.Errorf("findmnt still finds %s after umount", mpt)
		}
		noMountOf(t, dev, mpt)
	}

	// #25-27, #35: mount variants, each then unmounted.
	for _, flags := range [][]string{nil, {"-v"}, {"-vv"}, {"-vvv"}, {"-r", "-vvv"}, {"-m"}, {"--fuse"}} {
		args := append(append([]string{"mount"}, flags...), dev, mpt)
		expect(t, 0, masterID, args...)
		mounted(strings.Join(args, " "))
		umount()
	}

	// #31-34: usage and bad arguments; nothing is left mounted.
	expect(t, 0, masterID, "mount", "-?")
	expect(t, 0, masterID, "mount", "-h")
	expect(t, 1, masterID, "mount")
	expect(t, 1, masterID, "mount", "a", "b", "c")
	expect(t, 1, masterID, "mount", "-rm", dev, mpt)
	expectWith(t, runOpts{dir: c.dir}, 32, masterID, "mount", "baddev", mpt)
	expectWith(t, runOpts{dir: c.dir}, 32, masterID, "mount", dev, "badmpt")
	noMountOf(t, dev, mpt)
	noMountOf(t, dev, filepath.Join(c.dir, "badmpt"))

	// #28: the log is replayed on mount: files and directories come back
	// with the same content, size, mode, uid and gid.
	c.mounts[masterID] = mpt
	expect(t, 0, masterID, "mount", dev, mpt)
	expect(t, 0, masterID, "mkdir", "-m", "0711", "-u", "12", "-g", "34", mpt+"/dir")
	expect(t, 0, masterID, "creat", "-s", "3m", "-r", "-S", "21", "-m", "0640", "-u", "56", "-g", "78", mpt+"/dir/seeded")
	expect(t, 0, masterID, "creat", "-s", "40m", "-N", "3", "-B", "8", "-r", "-S", "22", mpt+"/striped")
	type attrs struct {
		mode     os.FileMode
		uid, gid uint32
		size     int64
	}
	get := func(p string) attrs {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		s := st.Sys().(*syscall.Stat_t)
		return attrs{st.Mode(), s.Uid, s.Gid, st.Size()}
	}
	names := []string{"dir", "dir/seeded", "striped"}
	before := map[string]attrs{}
	for _, n := range names {
		before[n] = get(filepath.Join(mpt, n))
	}
	// #29, #30: a second mount of the mounted device, here or elsewhere,
	// fails and the first stays alive.
	other := filepath.Join(c.dir, "famfs2")
	os.MkdirAll(other, 0o755)
	for i := 0; i < 3; i++ {
		expect(t, 32, masterID, "mount", dev, mpt)
		expect(t, 32, masterID, "mount", dev, other)
	}
	noMountOf(t, "", other)
	if pids := daemonsServing(mpt); len(pids) != 1 {
		t.Errorf("%d daemons serve %s", len(pids), mpt)
	}
	daemonAlive(t, mpt)
	// #37: rm fails on the mount; the file is there after a remount.
	if err := os.Remove(mpt + "/dir/seeded"); err == nil {
		t.Error("rm of a famfs file succeeded")
	}
	umount()
	expect(t, 0, masterID, "mount", dev, mpt)
	mounted("remount")
	for _, n := range names {
		if got := get(filepath.Join(mpt, n)); got != before[n] {
			t.Errorf("%s after remount: %+v, before %+v", n, got, before[n])
		}
	}
	expect(t, 0, masterID, "verify", "-S", "21", "-f", mpt+"/dir/seeded")
	expect(t, 0, masterID, "verify", "-S", "22", "-f", mpt+"/striped")

	// #38, #43: after mkfs -f -k the mount fails, not with 99, and leaves
	// neither a mount nor a daemon.
	umount()
	expect(t, 0, masterID, "mkfs.famfs", "-f", "-k", dev)
	r := expect(t, 32, masterID, "mount", dev, mpt)
	if r.code == 99 {
		t.Error("exit 99")
	}
	noMountOf(t, dev, mpt)
}
