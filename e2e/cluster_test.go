package e2e

// The cluster helpers: every test that needs a file system gets its own
// device file in /dev/shm, mounted by a master and clients (separate
// daemons, each with its own FAMFS_SYSTEM_UUID and mount point), and a
// cleanup (t.Cleanup) that unmounts everything under its directory, even
// when the test fails. Tests with clusters of their own run in parallel.

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/famfs-go/famfs/mount"

	"github.com/famfs-go/famfs/internal/mounts"
)

// scratchDirs are the cluster directories this test process made.
var (
	scratchMu   sync.Mutex
	scratchDirs []string
)

func ownScratch(p string) bool {
	scratchMu.Lock()
	defer scratchMu.Unlock()
	for _, d := range scratchDirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// cluster is one emulated device with a master and client mounts.
type cluster struct {
	t      testing.TB
	dir    string            // scratch directory
	dev    string            // device file
	mounts map[string]string // host id -> mount point
}

// scratchDir makes a directory in /dev/shm for the test's device files and
// mount points, one TestMain's last check knows as this run's.
func scratchDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", prefix)
	if err != nil {
		t.Fatal(err)
	}
	scratchMu.Lock()
	scratchDirs = append(scratchDirs, dir)
	scratchMu.Unlock()
	return dir
}

// newCluster makes a device file in /dev/shm with a file system owned by
// masterID (mkfs.famfs with mkfsArgs, e.g. --reclaim). Nothing is mounted yet.
func newCluster(t testing.TB, mkfsArgs ...string) *cluster {
	t.Helper()
	dir := scratchDir(t, "famfs-e2e-")
	c := &cluster{t: t, dir: dir, dev: filepath.Join(dir, "dax.img"), mounts: map[string]string{}}
	t.Cleanup(func() { c.cleanup() })
	must(t, masterID, append(append([]string{"mkfs.famfs", "--size", "8g"}, mkfsArgs...), c.dev)...)
	return c
}

// mount mounts the device as host id and returns the mount point.
func (c *cluster) mount(id string, opts ...string) string {
	c.t.Helper()
	mpt := filepath.Join(c.dir, "mnt-"+id[:8])
	if err := os.MkdirAll(mpt, 0o755); err != nil {
		c.t.Fatal(err)
	}
	args := append([]string{"mount"}, opts...)
	must(c.t, id, append(args, c.dev, mpt)...)
	c.mounts[id] = mpt
	return mpt
}

// cleanup unmounts everything this cluster mounted (lazily if need be),
// makes sure no daemon is left, and removes the scratch directory.
func (c *cluster) cleanup() {
	ms, _ := mounts.Famfs()
	for _, m := range ms {
		if !strings.HasPrefix(m.Point, c.dir) {
			continue
		}
		pid := 0
		if st, err := mount.NewClient(m.Point).Status(); err == nil {
			pid = st.PID
		}
		if err := syscall.Unmount(m.Point, 0); err != nil {
			syscall.Unmount(m.Point, syscall.MNT_DETACH)
		}
		if pid > 0 {
			waitExit(pid, 5*time.Second)
			syscall.Kill(pid, syscall.SIGKILL)
		}
		mount.RemoveSockets(m.Point)
	}
	// The daemons' logs (kept after unmount for debugging) of this cluster's
	// mount points go too; only mount points under c.dir are ours.
	if ents, err := os.ReadDir(c.dir); err == nil {
		for _, e := range ents {
			if e.IsDir() {
				os.Remove(mount.LogPath(filepath.Join(c.dir, e.Name())))
			}
		}
	}
	os.RemoveAll(c.dir)
}

// twoHosts is newCluster with the master and client 1 mounted: the
// cluster, the master's and the client's mount points.
func twoHosts(t testing.TB, mkfsArgs ...string) (c *cluster, m, c1 string) {
	t.Helper()
	c = newCluster(t, mkfsArgs...)
	return c, c.mount(masterID), c.mount(client1ID)
}

// remount unmounts host id's mount and mounts it again.
func (c *cluster) remount(id string) string {
	c.t.Helper()
	mpt := c.mounts[id]
	must(c.t, id, "umount", mpt)
	if isMounted(mpt) {
		c.t.Fatalf("%s still mounted after umount", mpt)
	}
	return c.mount(id)
}

// forget drops a dead mount from the cluster's list (cleanup still detaches
// it).
func (c *cluster) forget(id string) { delete(c.mounts, id) }

// nobodyBin copies the famfs binary where uid 65534 can run it.
func (c *cluster) nobodyBin() string {
	c.t.Helper()
	os.Chmod(c.dir, 0o755)
	bin := filepath.Join(c.dir, "famfs")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	in, err := os.ReadFile(famfsBin)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(bin, in, 0o755); err != nil {
		c.t.Fatal(err)
	}
	return bin
}

// childBinary copies the test binary where an unprivileged user can run it.
func childBinary(t *testing.T, c *cluster) string {
	t.Helper()
	bin := filepath.Join(c.dir, "child")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	exe, _ := os.Executable()
	copyFile(t, exe, bin)
	return bin
}
