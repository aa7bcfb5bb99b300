package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	famfs "github.com/famfs-go/famfs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildFamfs builds the famfs command into a temporary directory.
func buildFamfs(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") == "" {
			t.Fatal("no go command on PATH and no GOROOT: cannot build famfs")
		}
	}
	bin := filepath.Join(t.TempDir(), "famfs")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/famfs-go/famfs/cmd/famfs")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building famfs: %v\n%s", err, out)
	}
	return bin
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// runFamfs runs the binary as the fixture's master host and fails the test
// on anything that looks like a crash: a panic, a signal, an exit code of
// 128 or more.
func runFamfs(t *testing.T, bin string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), famfs.SystemUUIDEnv+"="+masterID.String())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode() // -1 when killed by a signal
	case err != nil:
		t.Fatalf("famfs %v: %v", args, err)
	}
	if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") || r.code < 0 || r.code >= 128 {
		t.Fatalf("famfs %s crashed (exit %d):\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// TestCorruptCLI runs `famfs fsck` and `famfs logplay --dryrun` on every
// corrupted image of TestCorruptMetadata: no crash, and fsck's exit code
// follows fsck(8): 0 clean, 4 problems found (a damaged log header or
// entry, a bad namespace), 8 operational error (no usable superblock).
func TestCorruptCLI(t *testing.T) {
	bin := buildFamfs(t)
	fx := newCorruptFixture(t)

	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"fsck"},
			{"fsck", fx.dev, fx.dev},
			{"fsck", "--no-such-flag", fx.dev},
			{"fsck", "-B", "65", fx.dev},
			{"logplay"},
			{"logplay", "--no-such-flag", fx.dev},
		} {
			if r := runFamfs(t, bin, args...); r.code != 16 {
				t.Errorf("famfs %v: exit %d, want 16 (usage)\n%s", args, r.code, r.stderr)
			}
		}
	})
	t.Run("no device", func(t *testing.T) {
		if r := runFamfs(t, bin, "fsck", filepath.Join(t.TempDir(), "missing")); r.code != 8 {
			t.Errorf("fsck of a missing device: exit %d, want 8\n%s", r.code, r.stderr)
		}
		small := filepath.Join(t.TempDir(), "small")
		if err := os.WriteFile(small, make([]byte, 4096), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := runFamfs(t, bin, "fsck", small); r.code != 8 {
			t.Errorf("fsck of a 4 KiB file: exit %d, want 8\n%s", r.code, r.stderr)
		}
		if r := runFamfs(t, bin, "logplay", "--dryrun", small); r.code != 1 {
			t.Errorf("logplay of a 4 KiB file: exit %d, want 1\n%s", r.code, r.stderr)
		}
	})

	for _, c := range corruptCases() {
		t.Run(c.name, func(t *testing.T) {
			fx.apply(t, c.mut)
			defer fx.restore(t)
			r := runFamfs(t, bin, "fsck", fx.dev)
			if r.code != c.fsckExit() {
				t.Errorf("fsck: exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.fsckExit(), r.stdout, r.stderr)
			}
			if (c.sbBad() || c.logBad) && !strings.Contains(r.stdout+r.stderr, c.msg) {
				t.Errorf("fsck does not name %q:\n%s%s", c.msg, r.stdout, r.stderr)
			}
			r = runFamfs(t, bin, "fsck", "--json", fx.dev)
			var rep famfs.FsckReport
			if r.code != c.fsckExit() || json.Unmarshal([]byte(r.stdout), &rep) != nil || rep.Torn != c.torn {
				t.Errorf("fsck --json: exit %d (want %d), torn %d (want %d):\n%s\n%s", r.code, c.fsckExit(), rep.Torn, c.torn, r.stdout, r.stderr)
			}
			r = runFamfs(t, bin, "logplay", "--dryrun", fx.dev)
			if r.code != c.logplayExit() {
				t.Errorf("logplay --dryrun: exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.logplayExit(), r.stdout, r.stderr)
			}
			// Where replay reads what fsck reads, both count what was
			// placed as files and directories, and list refused entries as
			// such, never as files.
			if c.open == nil && c.stuck == nil && rep.Log != nil {
				sum := fmt.Sprintf("; %d files; %d directories; ", rep.Files, rep.Dirs)
				r = runFamfs(t, bin, "logplay", "--dryrun", "-v", fx.dev)
				if !strings.Contains(r.stdout, sum) || uint64(strings.Count(r.stdout, "[refused")) != rep.Refused {
					t.Errorf("logplay --dryrun disagrees with fsck (%s %d refused):\n%s", sum, rep.Refused, r.stdout)
				}
			}
		})
	}
}
