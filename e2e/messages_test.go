package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Error messages name paths as the user typed them, without the library's
// stutter ("invalid famfs path: path: relpath: ...", "file does not exist:
// parent ...", "clone x: ...", "stat x: ..."), in every command.
func TestErrorMessages(t *testing.T) {
	t.Parallel()
	c, m, c1 := twoHosts(t)
	must(t, masterID, "creat", "-s", "2m", filepath.Join(m, "f"))
	long := strings.Repeat("a", 100)
	deep := "d/" + strings.Repeat("x/", 40) + "leaf"
	for _, tc := range []struct {
		dir  string // working directory ("" the mount)
		id   string
		args []string
		want string // on stderr
	}{
		{"", masterID, []string{"mkdir", long}, "famfs mkdir: " + long + ": invalid famfs path: 100 bytes relative to the mount; the limit is 78"},
		{"", masterID, []string{"creat", "-s", "2m", long}, "famfs creat: " + long + ": invalid famfs path: 100 bytes relative to the mount; the limit is 78"},
		{"", masterID, []string{"mkdir", "-p", deep}, "invalid famfs path: d/" + strings.Repeat("x/", 38) + "x is 79 bytes relative to the mount; the limit is 78"},
		{"", masterID, []string{"mkdir", "x/y"}, "famfs mkdir: x/y: parent directory x does not exist"},
		{"", masterID, []string{"mkdir", m + "/x/y"}, "famfs mkdir: " + m + "/x/y: parent directory " + m + "/x does not exist"},
		{"", masterID, []string{"creat", "-s", "2m", "./nodir/a/file"}, "famfs creat: ./nodir/a/file: directory nodir does not exist"},
		{"", masterID, []string{"cp", "/etc/hostname", "nodir/x"}, "famfs cp: nodir/x: directory nodir does not exist"},
		{"", masterID, []string{"cp", "/etc/hostname", "../" + filepath.Base(m) + "/nodir/x"}, "famfs cp: ../" + filepath.Base(m) + "/nodir/x: directory ../" + filepath.Base(m) + "/nodir does not exist"},
		{"", masterID, []string{"clone", "nothere", "x2"}, "famfs clone: nothere: no such file or directory"},
		{"", masterID, []string{"verify", "-S", "1", "-f", "nothere"}, "famfs verify: nothere: no such file or directory"},
		{"", masterID, []string{"logplay", "nothere"}, "famfs logplay: nothere: no such file or directory"},
		{"", masterID, []string{"fsck", "nothere"}, "famfs fsck: nothere: no such file or directory"},
		{"", masterID, []string{"chkread", "-s", "nothere"}, "famfs chkread: nothere: no such file or directory"},
		{"", masterID, []string{"mkmeta", "nothere"}, "famfs mkmeta: nothere: no such file or directory"},
		{"", masterID, []string{"getmap", "nothere"}, "famfs getmap: nothere: no such file"},
		{"", masterID, []string{"mount", "nodev", "../nomnt"}, "famfs mount: device nodev: no such file or directory"},
		{"", masterID, []string{"mount", c.dev, "../nomnt"}, "famfs mount: mount point ../nomnt: no such file or directory"},
		{"", masterID, []string{"mount", c.dev, "."}, "famfs mount: . is already a famfs mount"},
		{"/", masterID, []string{"fsck", "/nonexistent"}, "famfs fsck: /nonexistent: no such file or directory"},
		{c1, client1ID, []string{"mkdir", "newdir"}, "this host is not the master"},
	} {
		dir := tc.dir
		if dir == "" {
			dir = m
		}
		r := runWith(t, runOpts{dir: dir}, tc.id, tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("famfs %s (in %s): want %q on stderr, got %v", strings.Join(tc.args, " "), dir, tc.want, r)
		}
		for _, bad := range []string{"path: relpath", "file does not exist:", "stat ", ": clone ", ": mkdir ", ": open "} {
			if strings.Contains(r.stderr, bad) {
				t.Errorf("famfs %s: stutter %q in %q", strings.Join(tc.args, " "), bad, r.stderr)
			}
		}
		if !filepath.IsAbs(tc.args[len(tc.args)-1]) && dir == m && strings.Contains(r.stderr, m+"/") && tc.args[0] != "mount" {
			t.Errorf("famfs %s: names the absolute path, not the one typed: %q", strings.Join(tc.args, " "), r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(m, "nodir")); err == nil {
		t.Error("a failed command made nodir")
	}
}
