package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The programs under test are built once per test run, in TestMain, into one
// temporary directory (binDir); every test runs those. What only some tests
// need (test/vm2's guest tools) is built there on first use, once.
// (preloadLib builds the preload library beside them, once.)
var (
	binDir   string // the temporary directory of this run's builds
	famfsBin string // cmd/famfs
	mkfsBin  string // cmd/mkfs.famfs
	pcqBin   string // cmd/pcq
)

// buildAll builds cmd/famfs, cmd/mkfs.famfs and cmd/pcq into a new
// temporary directory, static as make builds them (CGO_ENABLED=0), and
// returns the directory.
func buildAll() (string, error) {
	dir, err := os.MkdirTemp("", "famfs-e2e-bin")
	if err != nil {
		return "", err
	}
	if err := goBuild(dir, "./cmd/famfs", "./cmd/mkfs.famfs", "./cmd/pcq"); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	binDir = dir
	famfsBin = filepath.Join(dir, "famfs")
	mkfsBin = filepath.Join(dir, "mkfs.famfs")
	pcqBin = filepath.Join(dir, "pcq")
	return dir, nil
}

// goBuild builds the main packages pkgs (relative to the module root) into
// dir with CGO_ENABLED=0.
func goBuild(dir string, pkgs ...string) error {
	args := append([]string{"build", "-o", dir + "/"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = ".." // the module root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

var (
	extraMu    sync.Mutex
	extraBuilt = map[string]error{}
)

// extraBin builds main package pkg (e.g. "./test/vm2/mapcat") into binDir on
// first use and returns the binary's path.
func extraBin(t testing.TB, pkg string) string {
	t.Helper()
	extraMu.Lock()
	defer extraMu.Unlock()
	err, done := extraBuilt[pkg]
	if !done {
		err = goBuild(binDir, pkg)
		extraBuilt[pkg] = err
	}
	if err != nil {
		t.Fatalf("building %s: %v", pkg, err)
	}
	return filepath.Join(binDir, filepath.Base(pkg))
}
