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
	"syscall"
	"testing"
	"time"

	"github.com/famfs-go/famfs/mount"

	"github.com/famfs-go/famfs/internal/mounts"
)

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
	dir, err := buildAll()
	if err != nil {
		fmt.Println("e2e:", err)
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
	// No tool a test ran (fio keeps verify state files in its working
	// directory) may leave files in the source tree.
	if stray, _ := filepath.Glob("*.state"); len(stray) > 0 {
		fmt.Println("e2e: a test left state files in e2e/:", stray)
		code = 1
	}
	os.Exit(code)
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

// waitExit waits until process pid is gone or a zombie whose other threads
// have all exited too (the leader thread turns zombie first; the process's
// files, /dev/fuse among them, are closed only when its last thread is gone).
func waitExit(pid int, limit time.Duration) bool {
	return within(limit, func() bool {
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
		return false
	})
}

// daemonAlive asks the mount's daemon for its status.
func daemonAlive(t testing.TB, mpt string) mount.Status {
	t.Helper()
	st, err := mount.NewClient(mpt).Status()
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

// needTool returns the path of program name, or ends the test through
// missingTool if the machine lacks it; from says where it comes from (the
// Debian package .ci/run installs).
func needTool(t testing.TB, name, from string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missingTool(t, "%s is needed (%s; .ci/run installs it)", name, from)
	}
	return p
}

// asNobody is the command line that runs argv as uid/gid 65534 with no
// supplementary groups (setpriv, util-linux).
func asNobody(t testing.TB, argv ...string) *exec.Cmd {
	t.Helper()
	setpriv := needTool(t, "setpriv", "util-linux")
	return exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups"}, argv...)...)
}
