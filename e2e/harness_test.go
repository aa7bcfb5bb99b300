// Package e2e runs the famfs binary for real: mkfs, master and client mount
// daemons (separate processes with their own FAMFS_SYSTEM_UUID and mount
// point over one device file), and the path-based commands. It needs root
// and /dev/fuse; every mount a test makes is unmounted in its cleanup, even
// when the test fails.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/famfs-go/famfs/control"
	"github.com/famfs-go/famfs/internal/mounts"
)

var famfsBin string // built once in TestMain

const (
	masterID  = "a0a0a0a0-0000-4000-8000-0000000000a0"
	client1ID = "b1b1b1b1-0000-4000-8000-0000000000b1"
	client2ID = "c2c2c2c2-0000-4000-8000-0000000000c2"
)

func TestMain(m *testing.M) {
	if os.Getenv("FAMFS_E2E_CHILD") != "" {
		os.Exit(childMain())
	}
	if os.Geteuid() != 0 {
		fmt.Println("e2e: skipped: needs root (FUSE direct mount)")
		os.Exit(0)
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		fmt.Println("e2e: skipped: no /dev/fuse")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "famfs-e2e-bin")
	if err != nil {
		panic(err)
	}
	famfsBin = filepath.Join(dir, "famfs")
	build := exec.Command("go", "build", "-o", famfsBin, "github.com/famfs-go/famfs/cmd/famfs")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make builds it: static
	if err := build.Run(); err != nil {
		fmt.Println("e2e: building famfs:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	// Belt and braces: nothing this run mounted may stay mounted. (Only our
	// own scratch directories: other test runs on this machine may be
	// mounting right now.)
	if ms, _ := mounts.Famfs(); len(ms) > 0 {
		for _, mt := range ms {
			if ownScratch(mt.Point) {
				fmt.Println("e2e: left mounted, detaching:", mt.Point)
				syscall.Unmount(mt.Point, syscall.MNT_DETACH)
				code = 1
			}
		}
	}
	os.Exit(code)
}

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

// result is a finished command.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// run runs famfs as host id (args[0] "mkfs.famfs" or "mount.famfs" runs the
// binary under that name, as mount(8) and users do).
func run(t testing.TB, id string, args ...string) result {
	t.Helper()
	return runWith(t, runOpts{}, id, args...)
}

// must runs famfs and fails the test unless it exits 0.
func must(t testing.TB, id string, args ...string) result {
	t.Helper()
	r := run(t, id, args...)
	if r.code != 0 {
		t.Fatalf("famfs %v: %v", args, r)
	}
	return r
}

// wantCode runs famfs and fails the test unless it exits with code.
func wantCode(t testing.TB, code int, id string, args ...string) result {
	t.Helper()
	r := run(t, id, args...)
	if r.code != code {
		t.Fatalf("famfs %v: want exit %d, got %v", args, code, r)
	}
	return r
}

// cluster is one emulated device with a master and client mounts.
type cluster struct {
	t      testing.TB
	dir    string            // scratch directory
	dev    string            // device file
	mounts map[string]string // host id -> mount point
}

// newCluster makes a device file in /dev/shm with a file system owned by
// masterID (mkfs.famfs with mkfsArgs, e.g. --reclaim). Nothing is mounted yet.
func newCluster(t testing.TB, mkfsArgs ...string) *cluster {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "famfs-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	scratchMu.Lock()
	scratchDirs = append(scratchDirs, dir)
	scratchMu.Unlock()
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
		if st, err := control.NewClient(m.Point).Status(); err == nil {
			pid = st.PID
		}
		if err := syscall.Unmount(m.Point, 0); err != nil {
			syscall.Unmount(m.Point, syscall.MNT_DETACH)
		}
		if pid > 0 {
			waitExit(pid, 5*time.Second)
			syscall.Kill(pid, syscall.SIGKILL)
		}
		control.RemoveSockets(m.Point)
	}
	// The daemons' logs (kept after unmount for debugging) of this cluster's
	// mount points go too; only mount points under c.dir are ours.
	if ents, err := os.ReadDir(c.dir); err == nil {
		for _, e := range ents {
			if e.IsDir() {
				os.Remove(control.LogPath(filepath.Join(c.dir, e.Name())))
			}
		}
	}
	os.RemoveAll(c.dir)
}

// waitExit waits until process pid is gone or a zombie whose other threads
// have all exited too (the leader thread turns zombie first; the process's
// files, /dev/fuse among them, are closed only when its last thread is gone).
func waitExit(pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			// after "pid (comm) ": state is field 3, num_threads field 20
			if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) {
				f := strings.Fields(string(b[i+2:]))
				if len(f) > 17 && f[0] == "Z" && f[17] == "1" {
					return true
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// eventually polls cond until it holds or the limit passes.
func eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// daemonAlive asks the mount's daemon for its status.
func daemonAlive(t testing.TB, mpt string) control.Status {
	t.Helper()
	st, err := control.NewClient(mpt).Status()
	if err != nil {
		t.Fatalf("daemon of %s does not answer: %v", mpt, err)
	}
	return st
}

func isMounted(mpt string) bool {
	m, _, ok := mounts.Containing(mpt)
	return ok && filepath.Clean(m.Point) == filepath.Clean(mpt)
}

// missingTool ends a test that needs an optional tool the machine lacks: a
// skip with the message, unless FAMFS_TEST_STRICT=1 (which .ci/run sets
// after installing every tool), where it is a failure.
func missingTool(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("FAMFS_TEST_STRICT") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (skipped; FAMFS_TEST_STRICT=1 makes it a failure)", args...)
}
