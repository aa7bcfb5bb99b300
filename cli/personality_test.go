package cli

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

// runCLI runs the command line in-process and returns its exit code and
// output.
func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &env{stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

// newDevice makes a file system on a sparse regular file as a master host.
func newDevice(t *testing.T) string {
	t.Helper()
	id := uuid.MustParse("a0a0a0a0-0000-4000-8000-0000000000a0")
	t.Setenv(famfs.SystemUUIDEnv, id.String())
	dev := filepath.Join(t.TempDir(), "dev.img")
	if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: id}); err != nil {
		t.Fatal(err)
	}
	return dev
}

// --version on every name the binary answers to: the module version, the
// commit and the on-media format it writes.
func TestVersion(t *testing.T) {
	format := fmt.Sprintf("on-media format %d.%d (superblock version %d)", omf.OMFMajor, omf.OMFMinor, omf.SuperblockVersion)
	for _, name := range Names {
		code, out, errs := runCLI("/usr/sbin/"+name, "--version")
		if code != 0 || !strings.HasPrefix(out, name+" (famfs in Go) ") || !strings.Contains(out, format) || !strings.Contains(out, "commit: ") {
			t.Errorf("%s --version: exit %d\n%s%s", name, code, out, errs)
		}
	}
}

func TestCompletion(t *testing.T) {
	for _, bad := range [][]string{{"famfs", "completion"}, {"famfs", "completion", "bogus"}} {
		if code, _, _ := runCLI(bad...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, ExitUsage)
		}
	}
	for sh, want := range map[string]string{"bash": "__start_famfs", "zsh": "#compdef famfs", "fish": "complete -c famfs"} {
		code, out, errs := runCLI("famfs", "completion", sh)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("famfs completion %s: exit %d, no %q\n%.300s%s", sh, code, want, out, errs)
		}
	}
}

// fsck(8) runs fsck.famfs with its own options; they are accepted and
// change nothing.
func TestFsckHelper(t *testing.T) {
	dev := newDevice(t)
	for _, args := range [][]string{{dev}, {"-a", dev}, {"-p", dev}, {"-n", dev}, {"-y", dev}, {"-f", "-y", dev}, {"-fn", dev}, {"-pf", "-v", dev}} {
		code, out, errs := runCLI(append([]string{"/sbin/fsck.famfs"}, args...)...)
		if code != fsckClean || !strings.Contains(out, "Free space:") {
			t.Errorf("fsck.famfs %v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	if code, _, errs := runCLI("fsck.famfs", "-a", filepath.Join(t.TempDir(), "missing")); code != fsckOperational {
		t.Errorf("fsck.famfs -a of a missing device: exit %d, want %d\n%s", code, fsckOperational, errs)
	}
	if code, out, _ := runCLI("fsck.famfs", "-h"); code != 0 || !strings.Contains(out, "fsck(8)") {
		t.Errorf("fsck.famfs -h: exit %d\n%s", code, out)
	}
	// the -a/-p/-n/-y options are fsck.famfs's alone
	if code, _, _ := runCLI("famfs", "fsck", "-y", dev); code != ExitUsage {
		t.Errorf("famfs fsck -y: exit %d, want %d", code, ExitUsage)
	}
}
