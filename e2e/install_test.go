package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scripts/install.sh into a scratch prefix: the program, the helper names
// as links (fsck(8) then runs fsck.famfs), man pages and completions.
func TestInstall(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and installs famfs")
	}
	needTool(t, "make", "make; install.sh builds the preload library with it")
	needTool(t, "gcc", "gcc")
	prefix := filepath.Join(t.TempDir(), "prefix")
	cmd := exec.Command("bash", "../scripts/install.sh", prefix)
	cmd.Env = append(os.Environ(), "DESTDIR=", "MOUNT_HELPER_DIR=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install.sh: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "== building famfs") {
		t.Errorf("install.sh does not say what it builds:\n%s", out)
	}
	bin := filepath.Join(prefix, "bin", "famfs")
	for _, link := range []string{"sbin/mkfs.famfs", "sbin/fsck.famfs", "sbin/mount.famfs"} {
		if to, err := os.Readlink(filepath.Join(prefix, link)); err != nil || to != bin {
			t.Errorf("%s: a link to %s wanted, got %q, %v", link, bin, to, err)
		}
	}
	for _, f := range []string{
		"share/man/man1/famfs.1", "share/man/man1/famfs-mount.1", "share/man/man1/famfs-cp.1",
		"share/man/man8/mkfs.famfs.8", "share/man/man8/mount.famfs.8", "share/man/man8/fsck.famfs.8",
		"share/bash-completion/completions/famfs", "share/zsh/site-functions/_famfs",
		"share/fish/vendor_completions.d/famfs.fish",
	} {
		b, err := os.ReadFile(filepath.Join(prefix, f))
		if err != nil || len(b) < 100 {
			t.Errorf("%s: not installed (%v, %d bytes)", f, err, len(b))
		}
		if strings.HasPrefix(f, "share/man") && !strings.Contains(string(b), ".TH ") {
			t.Errorf("%s is not a man page:\n%.200s", f, b)
		}
	}
	if st, err := os.Stat(filepath.Join(prefix, "lib", "libfamfs-preload.so")); err != nil || st.Size() < 1000 {
		t.Errorf("the preload library is not installed beside the programs (%v)", err)
	}

	// Every name answers --version with the commit it was built from.
	head, _ := exec.Command("git", "rev-parse", "HEAD").Output()
	for _, name := range []string{"bin/famfs", "sbin/mkfs.famfs", "sbin/fsck.famfs", "sbin/mount.famfs"} {
		v, err := exec.Command(filepath.Join(prefix, name), "--version").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(v), filepath.Base(name)+" ") {
			t.Errorf("%s --version: %v\n%s", name, err, v)
		}
		if len(head) > 0 && !strings.Contains(string(v), "commit: "+strings.TrimSpace(string(head))) {
			t.Errorf("%s --version does not name commit %s:\n%s", name, head, v)
		}
	}

	// fsck -t famfs runs fsck.famfs, with fsck(8)'s options.
	fsck := needTool(t, "fsck", "util-linux")
	c := newCluster(t)
	for _, args := range [][]string{{"-t", "famfs", c.dev}, {"-t", "famfs", "-a", c.dev}, {"-t", "famfs", "-n", c.dev}} {
		cmd := exec.Command(fsck, args...)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Join(prefix, "sbin")+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Free space:") {
			t.Errorf("fsck %v: %v\n%s", args, err, out)
		}
	}
}
