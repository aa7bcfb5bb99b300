package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/famfs-go/famfs/mount"

	"github.com/famfs-go/famfs/internal/mounts"
)

// scripts/demo.sh says what it builds and leaves nothing behind, whether it
// succeeds or fails half-way: no mount, no device file, no scratch
// directory, no daemon log.
func TestDemoCleansUp(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the whole demo")
	}
	for _, failAt := range []string{"client", ""} {
		name := "fails at " + failAt
		if failAt == "" {
			name = "succeeds"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dev := fmt.Sprintf("/dev/shm/famfs-e2e-demo-%d.img", time.Now().UnixNano())
			cmd := exec.Command("bash", "../scripts/demo.sh")
			cmd.Env = append(os.Environ(), "BIN="+t.TempDir(), "DEV="+dev, "WORK=", "FAMFS_DEMO_FAIL_AT="+failAt)
			out, err := cmd.CombinedOutput()
			work := ""
			if m := regexp.MustCompile(`scratch directory (\S+)`).FindSubmatch(out); m != nil {
				work = string(m[1])
			}
			t.Cleanup(func() { // in case the demo did not
				if ms, _ := mounts.BySource(dev); len(ms) > 0 {
					for _, m := range ms {
						syscall.Unmount(m.Point, syscall.MNT_DETACH)
					}
				}
				os.Remove(dev)
				if work != "" && strings.HasPrefix(work, "/tmp/famfs-demo.") {
					os.RemoveAll(work)
				}
			})
			switch {
			case failAt == "" && err != nil:
				t.Fatalf("demo: %v\n%s", err, out)
			case failAt != "" && err == nil:
				t.Fatalf("demo with FAMFS_DEMO_FAIL_AT=%s succeeded:\n%s", failAt, out)
			}
			if !strings.HasPrefix(string(out), "\n== building famfs") || !strings.Contains(string(out), "about 2 minutes") {
				t.Errorf("the demo does not say first that it builds:\n%.300s", out)
			}
			if work == "" {
				t.Fatalf("the demo does not name its scratch directory:\n%s", out)
			}
			if ms, _ := mounts.BySource(dev); len(ms) > 0 {
				t.Errorf("the demo left %v mounted", ms)
			}
			for _, p := range []string{dev, work, mount.LogPath(filepath.Join(work, "master")), mount.LogPath(filepath.Join(work, "client"))} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("the demo left %s", p)
				}
			}
		})
	}
}
