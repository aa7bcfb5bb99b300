package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Symbolic links (docs/format.md, "SYMLINK"): logged by the master's
// `famfs ln -s` and `famfs cp -r`, served by every mount (readlink, lstat,
// the kernel follows them), never made through a mount, removed like files
// on a file system made for delete.
func TestSymlinks(t *testing.T) {
	t.Parallel()
	_, m, c1 := twoHosts(t, "--reclaim")
	must(t, masterID, "mkdir", m+"/d")
	must(t, masterID, "creat", "-s", "8k", "-r", "-S", "3", m+"/d/data")
	must(t, masterID, "ln", "-s", "data", m+"/d/rel")
	must(t, masterID, "ln", "-s", "/etc/hostname", m+"/abs")
	// Into a directory, under the target's name: d/data is taken.
	if r := run(t, masterID, "ln", "-s", "../d/data", m+"/d"); r.code != 1 || !strings.Contains(r.stderr, "d/data: file exists") {
		t.Errorf("ln into a directory onto a taken name: %v", r)
	}
	must(t, masterID, "ln", "-s", "../d/data", m+"/")
	eventually(t, 5*time.Second, "the links on the client", func() bool {
		_, err := os.Lstat(c1 + "/abs")
		return err == nil
	})
	if got, err := os.Readlink(c1 + "/d/rel"); err != nil || got != "data" {
		t.Fatalf("readlink on the client: %q, %v", got, err)
	}
	st, err := os.Lstat(c1 + "/d/rel")
	if err != nil || st.Mode()&os.ModeSymlink == 0 || st.Size() != 4 {
		t.Fatalf("lstat on the client: %v, %v", st, err)
	}
	want, _ := os.ReadFile(m + "/d/data")
	if got, err := os.ReadFile(c1 + "/d/rel"); err != nil || string(got) != string(want) {
		t.Fatalf("reading through the link: %d bytes, %v", len(got), err)
	}
	if got, _ := os.Readlink(c1 + "/abs"); got != "/etc/hostname" {
		t.Errorf("an absolute target came back as %q", got)
	}
	// Refused: a hard link, a link through a mount, a taken name.
	if r := run(t, masterID, "ln", m+"/d/data", m+"/hard"); r.code != 16 || !strings.Contains(r.stderr, "no hard links") {
		t.Errorf("ln without -s: %v", r)
	}
	if err := os.Symlink("x", c1+"/through-client"); !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EROFS) {
		t.Errorf("symlink through the client mount: %v", err)
	}
	if err := os.Symlink("x", m+"/through-master"); err == nil {
		t.Errorf("symlink through the master mount was made")
	}
	if r := run(t, masterID, "ln", "-s", "x", m+"/d/rel"); r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("ln onto a taken name: %v", r)
	}
	// cp -r makes the tree's links as links.
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "f"), []byte("hello"), 0o644)
	os.Symlink("f", filepath.Join(src, "lf"))
	os.Symlink("/nowhere/at/all", filepath.Join(src, "dangling"))
	must(t, masterID, "cp", "-r", src, m+"/tree")
	if got, err := os.Readlink(m + "/tree/lf"); err != nil || got != "f" {
		t.Errorf("cp -r link: %q, %v", got, err)
	}
	if got, err := os.Readlink(m + "/tree/dangling"); err != nil || got != "/nowhere/at/all" {
		t.Errorf("cp -r dangling link: %q, %v", got, err)
	}
	// Again, into the now existing directory: a copy of the tree in it.
	must(t, masterID, "cp", "-r", src, m+"/tree")
	if got, err := os.Readlink(m + "/tree/" + filepath.Base(src) + "/lf"); err != nil || got != "f" {
		t.Errorf("cp -r into a directory: %q, %v", got, err)
	}
	// fsck counts them; rm and unlink remove them.
	if r := must(t, masterID, "fsck", m); !strings.Contains(r.stdout, "7 symbolic links") {
		t.Errorf("fsck:\n%s", r.stdout)
	}
	must(t, masterID, "check", m) // links are neither missing from the log nor unmapped files
	must(t, masterID, "rm", m+"/abs")
	if err := os.Remove(m + "/d/rel"); err != nil {
		t.Fatalf("unlink of a link through the master mount: %v", err)
	}
	eventually(t, 5*time.Second, "the removed links gone on the client", func() bool {
		_, e1 := os.Lstat(c1 + "/abs")
		_, e2 := os.Lstat(c1 + "/d/rel")
		return errors.Is(e1, os.ErrNotExist) && errors.Is(e2, os.ErrNotExist)
	})
	if _, err := os.Stat(c1 + "/d/data"); err != nil {
		t.Errorf("the link's target went with it: %v", err)
	}
}
