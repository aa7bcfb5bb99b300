package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// famfs verify, items 83-90 (docs/design.md, "Reference CLI behaviours this
// implementation keeps"). The exit code is the number of files that failed;
// 16 is usage.
func TestRefVerify(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	f := m + "/test1"
	expect(t, 0, masterID, "creat", "-r", "-s", "4096", "-S", "1", f)
	expect(t, 0, masterID, "mkdir", m+"/sub")
	expect(t, 0, masterID, "creat", "-r", "-s", "3m", "-S", "2", m+"/sub/two")
	expect(t, 0, masterID, "creat", "-r", "-s", "5000", "-S", "3", m+"/three")

	expect(t, 0, masterID, "verify", "-h")                               // #83
	expect(t, 16, masterID, "verify")                                    // #83
	expect(t, 16, masterID, "verify", "-f", f)                           // #83
	expect(t, 1, masterID, "verify", "-S", "1", "-f", m+"/badfile")      // #83
	expect(t, 1, masterID, "verify", "-S", "1", "-f", "/etc/passwd")     // not famfs
	expect(t, 0, masterID, "verify", "-S", "1", "-f", f)                 // #84
	r := expect(t, 0, masterID, "verify", "--quiet", "-S", "1", "-f", f) // #84
	if r.stdout != "" {
		t.Errorf("--quiet printed %q", r.stdout)
	}
	expect(t, 1, masterID, "verify", "-S", "99", "-f", f)       // #84
	expect(t, 1, masterID, "verify", "-q", "-S", "99", "-f", f) // #84
	expect(t, 0, masterID, "verify", "-m", f+",1")              // #85
	expect(t, 1, masterID, "verify", "-m", f+",2")              // #85
	expect(t, 16, masterID, "verify", "--multi", f)             // #85
	expect(t, 16, masterID, "verify", "--multi", f+",1,extra")  // #85
	expect(t, 16, masterID, "verify", "-S", "1", "-m", f+",1")  // -S with -m
	good := []string{"-m", f + ",1", "-m", m + "/sub/two,2", "-m", m + "/three,3"}
	expect(t, 0, masterID, append([]string{"verify"}, good...)...)                           // #86
	expect(t, 1, masterID, "verify", "-m", f+",1", "-m", m+"/sub/two,9", "-m", m+"/three,3") // #86
	expect(t, 2, masterID, "verify", "-m", f+",8", "-m", m+"/sub/two,9", "-m", m+"/three,3")
	expect(t, 3, masterID, "verify", "-m", f+",8", "-m", m+"/nothere,9", "-m", "/etc/passwd,3")
	for _, tc := range []string{"-1", "257", "999"} { // #87
		expect(t, 16, masterID, "verify", "--threadct", tc, "-m", f+",1")
	}
	expect(t, 0, masterID, append([]string{"verify", "-t", "0"}, good...)...)
	expect(t, 0, masterID, append([]string{"verify", "-t", "256"}, good...)...)
	// #88: ./, // and relative paths.
	expect(t, 0, masterID, "verify", "-S", "2", "-f", m+"/./sub//two")
	expect(t, 0, masterID, "verify", "-S", "2", "-f", m+"//sub/./two")
	expectWith(t, runOpts{dir: m}, 0, masterID, "verify", "-S", "2", "-f", "./sub/two")
	expectWith(t, runOpts{dir: m + "/sub"}, 0, masterID, "verify", "-S", "2", "-f", "two")
	expectWith(t, runOpts{dir: m + "/sub"}, 0, masterID, "verify", "-S", "1", "-f", "../test1")
	expectWith(t, runOpts{dir: m + "/sub"}, 0, masterID, "verify", "-m", "../three,3", "-m", "./two,2")
	// #89: an external overwrite of the first page is caught; writing the
	// original back repairs it.
	orig := filepath.Join(c.dir, "two.orig")
	toolOK(t, "cp", m+"/sub/two", orig)
	toolOK(t, "dd", "if=/dev/zero", "of="+m+"/sub/two", "bs=4096", "count=1", "conv=notrunc")
	expect(t, 1, masterID, "verify", "-S", "2", "-f", m+"/sub/two")
	toolOK(t, "dd", "if="+orig, "of="+m+"/sub/two", "bs=4096", "conv=notrunc")
	expect(t, 0, masterID, "verify", "-S", "2", "-f", m+"/sub/two")
	// #90: after dropping caches and after a remount.
	dropCaches()
	expect(t, 0, masterID, append([]string{"verify"}, good...)...)
	c.remount(masterID)
	expect(t, 0, masterID, append([]string{"verify"}, good...)...)
	if _, err := os.Stat(m + "/sub/two"); err != nil {
		t.Fatal(err)
	}
	// A client verifies the same data.
	c1 := c.mount(client1ID)
	expect(t, 0, client1ID, append([]string{"verify"}, "-m", c1+"/test1,1", "-m", c1+"/sub/two,2")...)
}
