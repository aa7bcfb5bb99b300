package e2e

import (
	"os"
	"testing"
)

// famfs mkdir, items 110-118 (docs/design.md, "Reference CLI behaviours this
// implementation keeps").
func TestRefMkdir(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	isDir := func(p string) {
		t.Helper()
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			t.Errorf("%s is not a directory (%v)", p, err)
		}
	}
	entries := func() uint64 { return logEntries(t, c.dev) }

	expect(t, 16, masterID, "mkdir")      // #110
	expect(t, 0, masterID, "mkdir", "-h") // #110
	expect(t, 0, masterID, "mkdir", "-?")
	// #111: -p with mode and owner; every made level gets them.
	expect(t, 0, masterID, "mkdir", "-p", "-m", "600", "-u", "1234", "-g", "5678", m+"/z/y/x/w")
	ids := func(when string) {
		for _, p := range []string{m + "/z", m + "/z/y/x/w"} {
			if mode, uid, gid := statIDs(t, p); mode != 0o600 || uid != 1234 || gid != 5678 {
				t.Errorf("%s: %s is %o %d:%d", when, p, mode, uid, gid)
			}
		}
	}
	ids("made")
	// #112: twice, and over a file.
	expect(t, 0, masterID, "mkdir", m+"/subdir")
	expect(t, 1, masterID, "mkdir", m+"/subdir")
	expect(t, 0, masterID, "creat", "-s", "4k", m+"/file")
	expect(t, 1, masterID, "mkdir", m+"/file")
	// #113: . and // components; an equivalent spelling of an existing
	// directory fails.
	for _, p := range []string{"/./foo", "/./foo/foo", "/foo/foo/./bar", "/./foo/foo//bar/baz"} {
		expect(t, 0, masterID, "mkdir", m+p)
	}
	isDir(m + "/foo/foo/bar/baz")
	expect(t, 1, masterID, "mkdir", m+"/foo//foo/./bar")
	expect(t, 1, masterID, "mkdir", m+"//foo/./foo/bar/baz/")
	// #114: the mount point itself.
	expect(t, 1, masterID, "mkdir", m)
	expect(t, 0, masterID, "mkdir", "-p", m)
	expect(t, 0, masterID, "mkdir", "-p", m+"/")
	// #115: deep new and partly existing trees.
	expect(t, 0, masterID, "mkdir", "-p", m+"/A/B/C")
	expect(t, 0, masterID, "mkdir", "-pv", m+"/A/B/C/w/x/y/z")
	expect(t, 0, masterID, "mkdir", "-pv", m+"/foo/foo/bar/baz/a/b")
	expect(t, 0, masterID, "mkdir", "-p", m+"/A/B/C")
	isDir(m + "/A/B/C/w/x/y/z")
	expectWith(t, runOpts{dir: m + "/A"}, 0, masterID, "mkdir", "-p", "B/rel/../rel2")
	isDir(m + "/A/B/rel2")
	// #116: through a file.
	n := entries()
	expect(t, 1, masterID, "mkdir", "-pv", m+"/file/foo/bar")
	expect(t, 0, masterID, "mkdir", "-p", m+"/newdir")
	expect(t, 0, masterID, "creat", "-s", "1k", m+"/newdir/file2")
	expect(t, 1, masterID, "mkdir", "-p", m+"/newdir/file2/x")
	expect(t, 1, masterID, "mkdir", "-p", m+"/newdir/file2")
	if got := entries(); got != n+2 {
		t.Errorf("failed mkdirs logged something: %d entries, want %d", got, n+2)
	}
	// #117: .. that leaves the file system.
	n = entries()
	expect(t, 1, masterID, "mkdir", "-pvvv", m+"/a/y/../../../..")
	expect(t, 1, masterID, "mkdir", "-p", m+"/../escape")
	expect(t, 1, masterID, "mkdir", m+"/a/../../x")
	if got := entries(); got != n {
		t.Errorf("escaping mkdirs logged %d entries", got-n)
	}
	if _, err := os.Stat(m + "/a"); err == nil {
		t.Error("a failed mkdir made a")
	}
	// ... and .. that stays inside is fine.
	expect(t, 0, masterID, "mkdir", "-p", m+"/a/y/../../b")
	isDir(m + "/b")
	// #118
	expect(t, 0, masterID, "mkdir", "-p", m+"/fio_stress")
	// The mount's .meta is not a place for directories.
	expect(t, 1, masterID, "mkdir", m+"/.meta")
	expect(t, 1, masterID, "mkdir", "-p", m+"/.meta/x")
	expect(t, 0, masterID, "mkdir", "-p", m+"/.meta")
	// Several at once: one failure fails the command, the rest are made.
	expect(t, 1, masterID, "mkdir", m+"/multi1", m+"/subdir", m+"/multi2")
	isDir(m + "/multi1")
	isDir(m + "/multi2")
	expect(t, 0, masterID, "fsck", m)

	c.remount(masterID)
	ids("after remount")
	isDir(m + "/foo/foo/bar/baz/a/b")
}
